"""StopExecution while an inline Map iterates ends the execution ABORTED (rekoflow.local.patches.stopped_map)."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from rekoflow.local import patches as moto_patches

ROLE = "arn:aws:iam::123456789012:role/test"
# A Map whose iteration waits far longer than the test: it is stopped mid-iteration. The Catch
# must not turn the stop into a handled failure either.
DEFINITION = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Hang",
                "States": {"Hang": {"Type": "Wait", "Seconds": 600, "End": True}},
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
            "End": True,
        },
        "Handled": {"Type": "Pass", "End": True},
    },
}


@pytest.fixture()
def sfn():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        undo = moto_patches.install_stopped_map()
        try:
            yield boto3.client("stepfunctions", region_name="us-east-1")
        finally:
            undo()


def wait_for(check, what: str):
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("reason", [{}, {"error": "Killed", "cause": "stopped by the test"}])
def test_an_execution_stopped_inside_a_map_is_aborted(sfn, reason):
    machine = sfn.create_state_machine(name="stop-map", roleArn=ROLE, definition=json.dumps(DEFINITION))[
        "stateMachineArn"
    ]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": [1, 2]}))["executionArn"]
    wait_for(
        lambda: any(e["type"] == "WaitStateEntered" for e in sfn.get_execution_history(executionArn=arn)["events"]),
        "the iterations to wait",
    )
    sfn.stop_execution(executionArn=arn, **reason)
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", "the execution to end")
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "ABORTED", (described.get("error"), described.get("cause"))
    events = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    # (An iteration thread may record its own abort after the execution's.)
    assert "ExecutionAborted" in events and "ExecutionFailed" not in events and "PassStateEntered" not in events


def test_the_patch_undoes_cleanly():
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    before = (ExecutionState.__dict__["_construct_error_output_value"], Environment.__dict__["set_error"])
    undo = moto_patches.install_stopped_map()
    assert Environment.__dict__["set_error"] is not before[1]
    undo()
    assert (ExecutionState.__dict__["_construct_error_output_value"], Environment.__dict__["set_error"]) == before
