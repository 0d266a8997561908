"""Turning Step Functions error details into what a person reads in a FAILED record."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_CAUSE_CHARS = 8_000
# A Lambda error's cause, possibly cut short by Step Functions (causes are limited to 32,768 characters).
_ERROR_MESSAGE = re.compile(r'"errorMessage"\s*:\s*"((?:[^"\\]|\\.)*)')
_TRACEBACK_LINE = re.compile(r'^(Traceback \(most recent call last\):|\s+File ".*", line \d+|\s{4}\S)')


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 40)].rstrip() + f"... ({len(text):,} characters in all)"


def _without_traceback(text: str) -> str:
    """A Python traceback keeps only its last line (the exception and its message)."""
    if "Traceback (most recent call last)" not in text:
        return text
    lines = [line for line in text.splitlines() if line.strip() and not _TRACEBACK_LINE.match(line)]
    return "\n".join(lines) or text


def readable_cause(cause: Any, limit: int = MAX_CAUSE_CHARS) -> str:
    """The message inside a cause, at most ``limit`` characters, without stack traces.

    A Lambda error's cause is a JSON document (errorMessage, errorType, stackTrace), a Map or
    child-execution failure may wrap one (Cause), other causes are plain text."""
    if cause is None or cause == "":
        return "no cause given"
    if not isinstance(cause, str):
        cause = json.dumps(cause, default=str)
    try:
        parsed = json.loads(cause)
    except ValueError:
        found = _ERROR_MESSAGE.search(cause)  # a Lambda error cause cut short: keep its message
        if found:
            try:
                message = json.loads(f'"{found.group(1)}"')
            except ValueError:
                message = found.group(1)
            return _shorten(_without_traceback(message), limit)
        return _shorten(_without_traceback(cause), limit)
    if isinstance(parsed, dict):
        for key in ("errorMessage", "Cause", "cause", "message"):
            if isinstance(parsed.get(key), str) and parsed[key]:
                return readable_cause(parsed[key], limit)
        if isinstance(parsed.get("errorType"), str):
            return _shorten(f"{parsed['errorType']} (no message)", limit)
    return _shorten(cause, limit)


def fail_state_error(error: Any) -> str:
    """The error name a Fail state may raise: names starting with "States." are reserved (ASL spec)."""
    if not isinstance(error, str) or not error:
        return "Workflow.Unknown"
    return "Workflow." + error.removeprefix("States.") if error.startswith("States.") else error[:256]
