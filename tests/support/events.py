"""Events as AWS delivers them (tests/events/), loaded fresh for each test."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


@cache
def _read(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def load_event(name: str, **changes: Any) -> dict[str, Any]:
    """A copy of ``tests/events/<name>.json`` with top-level fields replaced by ``changes``."""
    event = copy.deepcopy(_read(name))
    event.update(changes)
    return event
