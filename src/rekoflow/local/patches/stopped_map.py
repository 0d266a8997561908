"""StopExecution while an inline Map iterates: the execution ends ABORTED, as on AWS.

moto 5.2.5 ends it FAILED, twice over: the iteration worker raises ``MapIterationAborted`` with
the stop's error *string* (or None) as its event details, which
``ExecutionState._construct_error_output_value`` (``asl/component/state/exec/execute_state.py``)
reads as a dict (``States.Runtime``: ``AttributeError: 'str' object has no attribute 'get'``); and
the Map's failure, uncaught, then calls ``Environment.set_error`` (``asl/eval/environment.py``),
which replaces the program's stopped state with an error. The patch reads such details as AWS
binds missing ones (empty strings) and keeps a stopped program stopped, so the execution ends
``ABORTED`` with an ``ExecutionAborted`` event. Any request can be
stopped mid-way (a killed Custom Labels request, docs/custom-labels.md, must leave its lease to
expire). Tested in ``tests/local/test_moto_patches_stopped_map.py``.
"""

from __future__ import annotations

from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install


def install_stopped_map() -> Undo:
    """A stopped Map iteration's details read as empty Error/Cause, and a stopped program stays stopped.

    Returns the undo.
    """

    def apply(patcher: Patcher) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

        original = ExecutionState.__dict__["_construct_error_output_value"].__func__

        def _construct_error_output_value(failure_event: Any) -> Any:
            details = list(failure_event.event_details.values())
            if len(details) == 1 and not isinstance(details[0], dict):
                return {"Error": str(details[0] or ""), "Cause": ""}
            return original(failure_event)

        patcher.set(ExecutionState, "_construct_error_output_value", staticmethod(_construct_error_output_value))

        from moto.stepfunctions.parser.asl.eval.environment import Environment
        from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

        original_set_error = Environment.__dict__["set_error"]

        def set_error(self: Any, error: Any) -> None:
            # What fails after a stop (the stopped Map, its uncaught failure) does not undo the stop.
            if isinstance(self._program_state, ProgramStopped):
                return
            original_set_error(self, error)

        patcher.set(Environment, "set_error", set_error)

    return install(apply)
