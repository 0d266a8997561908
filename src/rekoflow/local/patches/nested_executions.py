"""Task states that start other state machines: ``arn:aws:states:::states:startExecution[.sync[:2]]``.

moto 5.2.5 fails them with ``KeyError: 'StateMachineArn'`` (its port of the LocalStack interpreter,
``state_task_service_sfn.py``, lost the request/response normalisation the other integrations have).
The ``.sync`` wait itself polls (``state_task_service_callback.py``, ``_eval_sync``: DescribeExecution,
then ``time.sleep(0.5)``): a batch child that takes 50 ms held its Map slot for up to 500 ms, and
each poll is a request. Given the stack's :class:`~rekoflow.local.patches.durability.ExecutionEvents`,
the wait ends when the child does and describes it once (a 1 s poll remains as the fallback for
children that publish no event).
Tested in ``tests/local/test_moto_patches_nested.py``.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

_SYNC_POLL_SECONDS = 0.1
# With execution events the poll is only a fallback (a child that publishes none, a stopped parent).
_SYNC_FALLBACK_SECONDS = 1.0


class _WakeOnChildEnd:
    """Waits of moto's ``.sync`` loop that end when the child execution ends, not after a fixed poll.

    The loop is ``resolver()`` (DescribeExecution of the child) then ``time.sleep``. The wrapped
    resolver first waits (up to the poll interval) for the child to leave RUNNING, so a child that
    ends within it is described once, finished; ``sleep`` waits the same way. Both wake on
    :class:`~rekoflow.local.patches.durability.ExecutionEvents` (published when an execution ends)
    and read the child's status from moto's backend, in this process.
    """

    def __init__(self, events: Any) -> None:
        self.events = events
        self.child = threading.local()

    @staticmethod
    def ended(execution_arn: str) -> bool:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        # arn:<partition>:states:<region>:<account>:execution:<machine>:<name>
        parts = execution_arn.split(":")
        try:
            return (
                stepfunctions_parser_backends[parts[4]][parts[3]].describe_execution(execution_arn).status != "RUNNING"
            )
        except Exception:  # noqa: BLE001 - unknown to the backend: let the resolver describe (and report) it
            return True

    def wait_for(self, execution_arn: str | None, seconds: float) -> None:
        if execution_arn is None:
            time.sleep(seconds)
            return
        self.child.arn = execution_arn
        self.events.wait_until(lambda: self.ended(execution_arn), seconds)

    def sleep(self, seconds: float) -> None:
        self.wait_for(getattr(self.child, "arn", None), seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@functools.cache
def _sfn_operation_model(action: str) -> Any:
    """botocore's operation model for a snake_case Step Functions action (``start_execution``).

    Cached: a botocore session loads the service model from disk (~100 ms per batch child before).
    """
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("stepfunctions")
    for name in model.operation_names:
        if xform_name(name) == action:
            return model.operation_model(name)
    raise KeyError(action)


def _epoch_millis(value: Any) -> Any:
    """Datetimes as Step Functions passes them between states (epoch milliseconds), recursively."""
    from datetime import datetime

    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(item) for item in value]
    return value


def install_nested_executions(events: Any = None) -> Undo:
    """Let Task states start other state machines: ``arn:aws:states:::states:startExecution[.sync[:2]]``.

    moto's port of the LocalStack interpreter dropped the request/response normalisation the other
    service integrations rely on: the task's ``Parameters`` (``StateMachineArn``, ``Name``,
    ``Input``) reach boto3 in the ASL's PascalCase and serialisation fails with
    ``KeyError: 'StateMachineArn'``; the ``.sync`` resolvers then read ``ExecutionArn`` from a
    camelCase response. The patch gives ``StateTaskServiceSfn`` the normalisation from botocore's
    Step Functions model (parameters to boto3 names, responses to Step Functions' PascalCase,
    datetimes to epoch milliseconds as on AWS). The interpreter's own resolvers then do what AWS does:
    ``.sync:2`` waits for the child and returns DescribeExecution with ``Output`` as JSON; a failed
    child fails the task with ``States.TaskFailed`` and a cause holding the child's ``Error`` and
    ``Cause``. The poll interval of the ``.sync`` wait drops from 0.5 s to 100 ms; with ``events``
    (the stack's :class:`~rekoflow.local.patches.durability.ExecutionEvents`) the wait ends when the
    child's end is published (the poll, 1 s, is only a fallback).

    Returns a function that undoes the patch.
    """

    def apply(patcher: Patcher) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_callback as callback_module,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
            StateTaskServiceSfn,
        )

        original_parameters = StateTaskServiceSfn.__dict__["_normalise_parameters"]

        def _normalise_parameters(
            self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
        ) -> None:
            original_parameters(self, parameters, boto_service_name, service_action_name)  # Input -> JSON string
            shape = _sfn_operation_model(self._get_boto_service_action(service_action_name)).input_shape
            if shape is not None:
                self._to_boto_request(parameters, shape)

        def _normalise_response(
            self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
        ) -> None:
            if not isinstance(response, dict):
                return
            shape = _sfn_operation_model(self._get_boto_service_action(service_action_name)).output_shape
            if shape is not None:
                self._from_boto_response(response, shape)
            converted = _epoch_millis(response)
            response.clear()
            response.update(converted)

        patcher.set(StateTaskServiceSfn, "_normalise_parameters", _normalise_parameters)
        patcher.set(StateTaskServiceSfn, "_normalise_response", _normalise_response)
        patcher.set(
            callback_module,
            "_DELAY_SECONDS_SYNC_CONDITION_CHECK",
            _SYNC_POLL_SECONDS if events is None else _SYNC_FALLBACK_SECONDS,
        )
        if events is not None:
            waker = _WakeOnChildEnd(events)

            def waiting(build_name: str) -> Any:
                build = getattr(StateTaskServiceSfn, build_name)

                def build_resolver(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
                    submitted = env.stack[-1] if env.stack else None  # StartExecution's answer; build pops it
                    child = submitted.get("ExecutionArn") if isinstance(submitted, dict) else None
                    resolver = build(self, env, *args, **kwargs)
                    if resolver is None:
                        return None

                    def resolve() -> Any:
                        waker.wait_for(child, _SYNC_FALLBACK_SECONDS)
                        return resolver()

                    return resolve

                return build_resolver

            for name in ("_build_sync_resolver", "_build_sync2_resolver"):
                patcher.set(StateTaskServiceSfn, name, waiting(name))
            patcher.set(callback_module, "time", waker)

    return install(apply)
