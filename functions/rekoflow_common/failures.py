"""Turning Step Functions error details into what a person reads in a FAILED record."""

from __future__ import annotations

import json
from typing import Any

MAX_CAUSE_CHARS = 8_000


def readable_cause(cause: Any, limit: int = MAX_CAUSE_CHARS) -> str:
    """The message inside a cause: a Lambda error's cause is a JSON document (errorMessage,
    errorType, stackTrace), a Map or child-execution failure may wrap one; other causes are text."""
    if not cause:
        return "no cause given"
    if not isinstance(cause, str):
        cause = json.dumps(cause)
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause[:limit]
    if isinstance(parsed, dict):
        for key in ("errorMessage", "Cause", "cause", "message"):
            if isinstance(parsed.get(key), str):
                return readable_cause(parsed[key], limit)
    return cause[:limit]


def fail_state_error(error: str) -> str:
    """The error name a Fail state may raise: names starting with "States." are reserved (ASL spec)."""
    return "Workflow." + error.removeprefix("States.") if error.startswith("States.") else error
