"""Powertools' metric sets, one per invocation thread, for Lambdas that run concurrently in one process.

Every ``Metrics`` instance of ``aws_lambda_powertools`` shares four class-level dicts
(``Metrics._metrics``, ``_dimensions``, ``_metadata``, ``_default_dimensions`` in
``aws_lambda_powertools/metrics/metrics.py``) so that the modules of one Lambda process publish one
EMF blob. On AWS a process serves one invocation at a time; the local stack runs invocations of every
function concurrently in one process (docs/architecture.md, ADR-11), where those dicts are shared
by all of them: one invocation's ``log_metrics`` clears or publishes another's metrics, and an
invocation whose set was cleared under it fails with ``SchemaValidationError: Must contain at least
one metric`` (seen in batches under load). The patch gives each thread its own dicts: each invocation
runs in a thread of its own, so it publishes exactly what it added. Handlers are unchanged. Tested in
``tests/local/test_moto_patches.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

SHARED_SETS = ("_metrics", "_dimensions", "_metadata", "_default_dimensions")


class ThreadLocalDict(MutableMapping[str, Any]):
    """A dict whose contents belong to the thread that reads or writes it."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _own(self) -> dict[str, Any]:
        own = getattr(self._local, "items", None)
        if own is None:
            own = self._local.items = {}
        return own

    def __getitem__(self, key: str) -> Any:
        return self._own()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._own()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._own()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._own()))

    def __len__(self) -> int:
        return len(self._own())

    def __repr__(self) -> str:
        return f"ThreadLocalDict({self._own()!r})"


def install_thread_local_metrics() -> Undo:
    """Powertools' shared metric, dimension and metadata sets become per-thread; returns the undo.

    Only ``Metrics`` instances made while installed use them (the handlers' are made at their cold start).
    """

    def apply(patcher: Patcher) -> None:
        from aws_lambda_powertools.metrics.metrics import Metrics

        for name in SHARED_SETS:
            if not isinstance(vars(Metrics).get(name), dict):
                raise RuntimeError(f"aws_lambda_powertools Metrics.{name} is no longer a class-level dict")
            patcher.set(Metrics, name, ThreadLocalDict())

    return install(apply)
