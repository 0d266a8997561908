"""Validation of analysis requests against the one JSON Schema file, with messages that name the field."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

import rekoflow_common
from rekoflow_common.errors import RequestValidationError

SCHEMA_FILE = "analysis_request.schema.json"


@lru_cache(maxsize=1)
def request_schema() -> dict[str, Any]:
    # The package object, not its name: a lookup by name goes through sys.modules at call time.
    text = resources.files(rekoflow_common).joinpath("schemas", SCHEMA_FILE).read_text()
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> Draft4Validator:
    schema = request_schema()
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def field_path(error: ValidationError, root: str = "") -> str:
    """``options.labels.minConfidence`` or ``analyses[1]``; ``request`` for the top level. Under ``root``
    (e.g. ``training``) when the value checked is part of something larger."""
    path = root
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "request"


def _describe(error: ValidationError, root: str = "") -> str:
    where = field_path(error, root)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{where}: unknown field(s) {', '.join(extra)} (allowed: {allowed})"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{where}: {error.instance!r} is not one of: {allowed}"
    if error.validator == "type":
        return f"{where}: expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if error.validator == "pattern":
        return f"{where}: {error.instance!r} does not match the required pattern {error.validator_value}"
    return f"{where}: {error.message}"


def validation_errors(request: Any) -> list[str]:
    """Every schema violation, each naming its field, most specific first."""
    errors = sorted(_validator().iter_errors(request), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [_describe(error) for error in errors]


def validate_request_schema(request: Any) -> None:
    problems = validation_errors(request)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise RequestValidationError("invalid request: " + "; ".join(problems[:3]) + more)


@lru_cache(maxsize=None)
def _definition_validator(name: str) -> Draft4Validator:
    schema = request_schema()
    return Draft4Validator({"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]})


def validate_definition(name: str, value: Any, field: str) -> None:
    """``value`` against one of the schema's definitions (e.g. customTraining), messages under ``field``."""
    errors = sorted(_definition_validator(name).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        problems = [_describe(e, field) for e in errors]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise RequestValidationError("invalid training request: " + "; ".join(problems[:3]) + more)
