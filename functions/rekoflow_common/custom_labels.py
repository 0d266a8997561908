"""What the Custom Labels functions share: version ARNs, Rekognition error codes, a bounded wait."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rekoflow_common.errors import RequestValidationError

# arn:aws:rekognition:<region>:<account>:project/<project>/version/<version>/<ms>
_VERSION_ARN = re.compile(
    r"^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{12}:project/(?P<project>[^/]+)/version/(?P<version>[^/]+)/\d+$"
)


@dataclass(frozen=True)
class VersionRef:
    arn: str
    project: str
    version: str


def parse_version_arn(arn: str) -> VersionRef:
    match = _VERSION_ARN.match(arn or "")
    if not match:
        raise ValueError(f"{arn!r} is not a Custom Labels project version ARN")
    return VersionRef(arn, match["project"], match["version"])


def check_training_rules(training: Mapping[str, Any], field: str) -> None:
    """What the schema's customTraining cannot state (draft-04); checked by validate_request and by the
    training machine's first step, which anyone may start directly."""
    if "testManifest" in training and training.get("autoSplit"):
        raise RequestValidationError(f"{field}: give either testManifest or autoSplit=true, not both")


def wait_until(
    check: Callable[[], Any],
    done: Callable[[Any], bool],
    remaining_s: Callable[[], float],
    interval_s: float = 2.0,
    margin_s: float = 5.0,
) -> Any:
    """Call ``check`` until ``done(result)`` or the Lambda's time runs short; returns the last result.

    Only for short waits (dataset creation, seconds); long waits are loops in the state machine
    (docs/architecture.md, ADR-8).
    """
    result = check()
    while not done(result) and remaining_s() > margin_s + interval_s:
        time.sleep(interval_s)
        result = check()
    return result
