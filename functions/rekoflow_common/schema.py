"""Validation of analysis requests against the one JSON Schema file, with messages that name the field."""

from __future__ import annotations

import json
import math
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError

import rekoflow_common
from rekoflow_common.errors import RequestTooLargeError, RequestValidationError

SCHEMA_FILE = "analysis_request.schema.json"
# The largest request the schema allows (every list and string at its maximum) is about 60 KB;
# anything far larger is rejected before it is looked at, so the failure path never carries it
# (docs/architecture.md, "State size"; docs/reliability.md).
MAX_REQUEST_BYTES = 128 * 1024
# How much of an offending value a message quotes: a 100 KB request id must not become a 100 KB cause.
MAX_QUOTED_CHARS = 80


@lru_cache(maxsize=1)
def request_schema() -> dict[str, Any]:
    # The package object, not its name: a lookup by name goes through sys.modules at call time.
    text = resources.files(rekoflow_common).joinpath("schemas", SCHEMA_FILE).read_text()
    return json.loads(text)


def _is_finite_number(checker: Any, instance: Any) -> bool:
    # JSON has no NaN or Infinity; Python's json module accepts them, and NaN defeats minimum/maximum.
    return Draft4Validator.TYPE_CHECKER.is_type(instance, "number") and math.isfinite(instance)


def _is_finite_integer(checker: Any, instance: Any) -> bool:
    return Draft4Validator.TYPE_CHECKER.is_type(instance, "integer") and math.isfinite(instance)


# Draft-04 as API Gateway reads it, except that "number" and "integer" are finite numbers only.
FiniteDraft4Validator = validators.extend(
    Draft4Validator,
    type_checker=Draft4Validator.TYPE_CHECKER.redefine_many(
        {"number": _is_finite_number, "integer": _is_finite_integer}
    ),
)


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = request_schema()
    Draft4Validator.check_schema(schema)
    return FiniteDraft4Validator(schema)


def quote(value: Any, limit: int = MAX_QUOTED_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters with the full length said, for messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters as text"
    return f"{text[:limit]}... ({size})"


def field_path(error: ValidationError, root: str = "") -> str:
    """``options.labels.minConfidence`` or ``analyses[1]``; ``request`` for the top level. Under ``root``
    (e.g. ``training``) when the value checked is part of something larger."""
    path = root
    for part in error.absolute_path:
        part_text = quote(part, 40) if isinstance(part, str) and len(part) > 40 else part
        path += f"[{part}]" if isinstance(part, int) else (f".{part_text}" if path else str(part_text))
    return path or "request"


def _describe(error: ValidationError, root: str = "") -> str:
    where = field_path(error, root)
    instance = error.instance
    if error.validator == "additionalProperties":
        extra = sorted(set(instance) - set(error.schema.get("properties", {})))
        shown = ", ".join(quote(e, 40)[1:-1] if len(e) <= 40 else quote(e, 40) for e in extra[:5])
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{where}: unknown field(s) {shown}{more} (allowed: {allowed})"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{where}: {quote(instance)} is not one of: {allowed}"
    if error.validator == "type":
        if isinstance(instance, float) and not math.isfinite(instance):
            return f"{where}: {instance!r} is not a finite number (JSON has no NaN or Infinity)"
        return f"{where}: expected {error.validator_value}, got {type(instance).__name__} {quote(instance)}"
    if error.validator == "pattern":
        return f"{where}: {quote(instance)} does not match the required pattern {error.validator_value}"
    if error.validator in ("maxLength", "minLength"):
        length = len(instance) if isinstance(instance, str) else 0
        bound = "at most" if error.validator == "maxLength" else "at least"
        return f"{where}: {length:,} characters; {bound} {error.validator_value} allowed"
    if error.validator == "maxItems" and isinstance(instance, list):
        return f"{where}: {len(instance)} items; at most {error.validator_value} allowed"
    message = error.message
    if len(message) > 300:
        message = message[:300] + "..."
    return f"{where}: {message}"


def validation_errors(request: Any) -> list[str]:
    """Every schema violation, each naming its field, most specific first."""
    errors = sorted(_validator().iter_errors(request), key=lambda e: (list(map(str, e.absolute_path)), e.message[:200]))
    return [_describe(error) for error in errors]


def request_bytes(request: Any) -> int:
    """Size of the request as JSON (UTF-8), as Step Functions measures payloads."""
    return len(json.dumps(request, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def validate_request_schema(request: Any) -> None:
    size = request_bytes(request)
    if size > MAX_REQUEST_BYTES:
        raise RequestTooLargeError(
            f"invalid request: {size:,} bytes as JSON; a request is at most {MAX_REQUEST_BYTES:,} bytes "
            f"(the schema's largest is far smaller), so it is not stored with the failure"
        )
    problems = validation_errors(request)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise RequestValidationError("invalid request: " + "; ".join(problems[:3]) + more)


@cache
def _definition_validator(name: str) -> Draft4Validator:
    schema = request_schema()
    return Draft4Validator({"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]})


def validate_definition(name: str, value: Any, field: str) -> None:
    """``value`` against one of the schema's definitions (e.g. customTraining), messages under ``field``."""
    errors = sorted(
        _definition_validator(name).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    if errors:
        problems = [_describe(e, field) for e in errors]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise RequestValidationError("invalid training request: " + "; ".join(problems[:3]) + more)
