"""What every moto patch shares: the pinned version check and one way to patch and undo."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import moto

MOTO_VERSION = "5.2.5"

# Serialises installing and undoing patches (tests install and undo them from several threads).
PATCH_LOCK = threading.RLock()

Undo = Callable[[], None]


def check_moto_version() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"rekoflow's local stack is tested with moto {MOTO_VERSION}, found {moto.__version__}; "
            "install the pinned version (make install)"
        )


class Patcher:
    """Replaces attributes and puts back exactly what was there, in reverse order.

    ``owner.__dict__`` is consulted, not ``getattr``: an attribute a class inherits is removed again
    on undo instead of being copied onto the subclass.
    """

    def __init__(self) -> None:
        self._steps: list[Undo] = []

    def set(self, owner: Any, name: str, value: Any) -> Any:
        """``owner.name = value``; returns what ``owner.name`` was (looked up normally)."""
        had = name in vars(owner)
        previous = vars(owner).get(name)
        looked_up = getattr(owner, name, None)
        setattr(owner, name, value)

        def restore() -> None:
            if had:
                setattr(owner, name, previous)
            else:
                delattr(owner, name)

        self._steps.append(restore)
        return looked_up

    def on_undo(self, step: Undo) -> None:
        self._steps.append(step)

    def undo(self) -> None:
        with PATCH_LOCK:
            while self._steps:
                self._steps.pop()()


def install(apply: Callable[[Patcher], None]) -> Undo:
    """Run ``apply(patcher)`` under the patch lock (after the version check); return the undo."""
    check_moto_version()
    patcher = Patcher()
    with PATCH_LOCK:
        try:
            apply(patcher)
        except BaseException:
            patcher.undo()
            raise
    return patcher.undo
