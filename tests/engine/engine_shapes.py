"""Recursive validation of a raw JSON response against botocore's Rekognition output shapes."""

from __future__ import annotations

from typing import Any


def validate(value: Any, shape, path: str = "$") -> list[str]:
    """Every problem found: unknown or missing members, wrong types, enum and range violations."""
    problems: list[str] = []
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__}"]
        for key in value:
            if key not in shape.members:
                problems.append(f"{path}: unknown member {key!r} (shape {shape.name})")
        for key in getattr(shape, "required_members", []) or []:
            if key not in value:
                problems.append(f"{path}: missing required member {key!r}")
        for key, member in shape.members.items():
            if key in value:
                problems += validate(value[key], member, f"{path}.{key}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected list, got {type(value).__name__}"]
        problems += _range(len(value), shape, path, "length")
        for i, item in enumerate(value):
            problems += validate(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected map"]
        for k, v in value.items():
            problems += validate(k, shape.key, f"{path}<key>") + validate(v, shape.value, f"{path}[{k!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected string, got {type(value).__name__}"]
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum {shape.enum}")
        problems += _range(len(value), shape, path, "length")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected integer, got {type(value).__name__}"]
        problems += _range(value, shape, path, "value")
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"{path}: expected number, got {type(value).__name__}"]
        problems += _range(value, shape, path, "value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean")
    elif kind == "blob" and not isinstance(value, str):
        problems.append(f"{path}: expected base64 string")
    return problems


def _range(value: float, shape, path: str, what: str) -> list[str]:
    problems = []
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        problems.append(f"{path}: {what} {value} below minimum {low}")
    if high is not None and value > high:
        problems.append(f"{path}: {what} {value} above maximum {high}")
    return problems
