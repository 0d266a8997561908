"""A request body checked against an API Gateway model (JSON Schema draft-04), with API Gateway's messages.

API Gateway validates with the Java json-schema-validator library and reports its messages in
``$context.error.validationErrorString`` as ``[message, message]``; the wording of the common
keywords is reproduced here so that a client sees the same text locally as on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return _TYPES.get(type(value), type(value).__name__)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def message(error: ValidationError) -> str:
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = sorted(name for name in value if isinstance(instance, dict) and name not in instance)
        return f"object has missing required properties ({_json(missing)})"
    if keyword == "type":
        allowed = sorted(value if isinstance(value, list) else [value])
        return (
            f"instance type ({_type_name(instance)}) does not match any allowed primitive type "
            f"(allowed: {_json(allowed)})"
        )
    if keyword == "additionalProperties":
        extra = sorted(set(instance) - set(error.schema.get("properties") or {})) if isinstance(instance, dict) else []
        return f"object instance has properties which are not allowed by the schema: {_json(extra)}"
    if keyword == "maxLength":
        return f"string {_json(instance)} is too long (length: {len(instance)}, maximum allowed: {value})"
    if keyword == "minLength":
        return f"string {_json(instance)} is too short (length: {len(instance)}, required minimum: {value})"
    if keyword == "pattern":
        return f"ECMA 262 regex {_json(value)} does not match input string {_json(instance)}"
    if keyword == "enum":
        return f"instance value ({_json(instance)}) not found in enum (possible values: {_json(value)})"
    if keyword == "minimum":
        return f"numeric instance is lower than the required minimum (minimum: {value}, found: {instance})"
    if keyword == "maximum":
        return f"numeric instance is greater than the required maximum (maximum: {value}, found: {instance})"
    if keyword == "minItems":
        return f"array is too short: must have at least {value} elements but instance has {len(instance)} elements"
    if keyword == "maxItems":
        return f"array is too long: must have at most {value} elements but instance has {len(instance)} elements"
    if keyword == "uniqueItems":
        return "array must not contain duplicate elements"
    if keyword in ("oneOf", "anyOf"):
        return f"instance failed to match at least one required schema among {len(value)}"
    if keyword == "minProperties":
        return f"object has too few properties (found {len(instance)} but schema requires at least {value})"
    if keyword == "maxProperties":
        return f"object has too many properties (found {len(instance)} but schema requires at most {value})"
    return error.message


def validate(schema: dict[str, Any], body: bytes) -> str:
    """``""`` when ``body`` is valid, else API Gateway's ``validationErrorString``."""

    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        # NaN and Infinity are not JSON (Python accepts them, API Gateway's parser does not).
        document = json.loads(body.decode("utf-8") if body else "", parse_constant=reject)
    except (ValueError, UnicodeDecodeError) as error:
        return f"[Invalid JSON in the request body: {error}]"
    schema = {k: v for k, v in schema.items() if k != "$schema"}
    errors = sorted(
        Draft4Validator(schema).iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.validator)
    )
    if not errors:
        return ""
    return "[" + ", ".join(message(error) for error in errors) + "]"
