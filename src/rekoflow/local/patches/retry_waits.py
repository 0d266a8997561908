"""Compress Step Functions Retry waits (tests and demos keep the ASL's policy, not its waiting).

moto's interpreter really sleeps ``IntervalSeconds * BackoffRate^n`` between attempts
(``moto/stepfunctions/parser/asl/component/common/retry/retrier_decl.py`` calls ``time.sleep``);
this multiplies those sleeps by a scale between 0 and 1.
"""

from __future__ import annotations

import time
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install


class _ScaledTime:
    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, float(seconds)) * self.scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def scale_retry_waits(scale: float) -> Undo:
    """Multiply the sleep between Step Functions retries by ``scale`` (0 <= scale <= 1)."""
    if not 0 <= scale <= 1:
        raise ValueError(f"retry time scale must be between 0 and 1, got {scale}")

    def apply(patcher: Patcher) -> None:
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

        patcher.set(retrier_decl, "time", _ScaledTime(scale))

    return install(apply)
