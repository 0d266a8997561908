"""The reliability suite's stack: real ASL, real handlers, scripted Rekognition, short client timeouts.

Timeouts are configured as a deployment would configure them, through the functions' environment
(``function_environment``), never by patching code: one attempt per Lambda invocation and a 1 s
read timeout, so a hanging endpoint costs seconds. Retry waits of the ASL are compressed 1000x.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from support.images import image_bytes

# What no stored cause may contain: a cause is for a person, not a Python stack.
STACK_TRACE_MARKERS = ("Traceback (most recent call last)", '"stackTrace"', 'File "/')
MAX_CAUSE_CHARS = 8_000
TIMEOUTS = {"REKOGNITION_MAX_ATTEMPTS": "1", "REKOGNITION_READ_TIMEOUT_S": "1", "REKOGNITION_CONNECT_TIMEOUT_S": "1"}


@pytest.fixture(scope="module")
def function_environment() -> dict[str, str]:
    return dict(TIMEOUTS)


def unique(prefix: str = "r") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def fresh_image(workflow, width: int = 200, height: int = 160, fmt: str = "PNG") -> dict[str, str]:
    """An image of its own content (a random colour), so no cache entry answers for it."""
    color = tuple(uuid.uuid4().bytes[:3])
    return workflow.put_bytes(image_bytes(width, height, fmt, color=color), f"{unique('img')}.{fmt.lower()}")


def start_raw(workflow, payload: Any, name: str | None = None, raw: str | None = None) -> tuple[str, str]:
    """Start an execution with any input (not only a request object), as a direct StartExecution caller may."""
    name = name or unique("req")
    text = raw if raw is not None else json.dumps(payload)
    arn = workflow.sfn.start_execution(
        stateMachineArn=workflow.state_machines["image_analysis"], name=name, input=text
    )["executionArn"]
    return name, arn


def states_entered(workflow, arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in workflow.history(arn) if "stateEnteredEventDetails" in e]


def assert_failed_with_record(workflow, name: str, arn: str, error: str, cause_part: str, timeout_s: float = 120):
    """The execution ended FAILED with ``error`` and its FAILED record says the same, readably."""
    result = workflow.wait(arn, timeout_s=timeout_s)
    assert result.status == "FAILED", (result.status, result.error, result.cause)
    assert result.error == error, (result.error, result.cause)
    record = workflow.get_record(name)
    assert record is not None, f"no record for {name}: {result.error}: {result.cause}"
    assert record["status"] == "FAILED" and record["error"] == error, record
    assert record["executionArn"] == arn and record["recordType"] == "ANALYSIS"
    cause = record["cause"]
    assert cause_part in cause, cause
    assert cause_part in result.cause, result.cause
    assert len(cause) <= MAX_CAUSE_CHARS and not any(marker in cause for marker in STACK_TRACE_MARKERS), cause[:500]
    assert states_entered(workflow, arn)[-1] == "Analysis failed"
    return result, record
