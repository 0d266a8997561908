"""The interpreter's copies of state data made by a copier for JSON values (moto 5.2.5).

moto's Step Functions interpreter isolates every state's input, output, parameters, frames and
history with ``copy.deepcopy`` (``asl/eval/states.py``, ``asl/eval/environment.py``,
``common/string/string_expression.py``, ``execute_state.py``, ``state_task_service.py``,
``event_manager.py``...): 10-14 % of a cached batch's CPU (py-spy), most of it ``deepcopy``'s
generic machinery (its memo, a dispatch per object) on what is JSON: dicts, lists, strings,
numbers, booleans, None. Here those modules' ``copy`` is one whose ``deepcopy`` copies exactly
those types directly and hands anything else (a subclass, a tuple, a datetime...) to
``copy.deepcopy``. The one difference, that two references to one dict become two equal dicts,
cannot be observed in JSON values (nothing compares them by identity). No upstream issue found.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

_ATOMS = frozenset({str, int, float, bool, type(None)})


def json_deepcopy(value: Any, memo: Any = None) -> Any:
    """``copy.deepcopy`` for JSON values, without its memo; other types go to ``copy.deepcopy``."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {key: json_deepcopy(item) for key, item in value.items()}
    if kind is list:
        return [json_deepcopy(item) for item in value]
    return copy.deepcopy(value, memo)


class _JsonCopy:
    """The ``copy`` module, with :func:`json_deepcopy` as its ``deepcopy``."""

    deepcopy = staticmethod(json_deepcopy)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def install_json_state_copies() -> Undo:
    """Give moto's Step Functions interpreter modules the JSON copier; returns the undo."""

    def apply(patcher: Patcher) -> None:
        shim = _JsonCopy()
        for name, module in list(sys.modules.items()):
            if name.startswith("moto.stepfunctions.parser.asl.") and getattr(module, "copy", None) is copy:
                patcher.set(module, "copy", shim)

    return install(apply)
