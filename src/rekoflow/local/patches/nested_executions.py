"""Task states that start other state machines: ``arn:aws:states:::states:startExecution[.sync[:2]]``.

moto 5.2.5 fails them with ``KeyError: 'StateMachineArn'`` (its port of the LocalStack interpreter,
``state_task_service_sfn.py``, lost the request/response normalisation the other integrations have).
Tested in ``tests/local/test_moto_patches_nested.py``.
"""

from __future__ import annotations

import functools
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

_SYNC_POLL_SECONDS = 0.1


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


def install_nested_executions() -> Undo:
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
    ``Cause``. The poll interval of the ``.sync`` wait drops from 0.5 s to 100 ms.

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

        def _normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None) -> None:
            original_parameters(self, parameters, boto_service_name, service_action_name)  # Input -> JSON string
            shape = _sfn_operation_model(self._get_boto_service_action(service_action_name)).input_shape
            if shape is not None:
                self._to_boto_request(parameters, shape)

        def _normalise_response(self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None) -> None:
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
        patcher.set(callback_module, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", _SYNC_POLL_SECONDS)

    return install(apply)
