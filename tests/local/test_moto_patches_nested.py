"""The moto patches batch runs rely on: nested executions (.sync:2), tolerated failures, ResultWriter files."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from rekoflow.local import patches as moto_patches

ROLE = "arn:aws:iam::123456789012:role/test"
HANG_GUARD_S = 600
CHILD = {
    "StartAt": "Fail?",
    "States": {
        "Fail?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
            "Default": "Done",
        },
        "Done": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True},
        "Boom": {"Type": "Fail", "Error": "ChildError", "Cause": "the child failed on purpose"},
    },
}


@pytest.fixture()
def sfn():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        undo = [
            moto_patches.install_nested_executions(),
            moto_patches.install_distributed_map_fidelity(),
            moto_patches.install_parse_cache(),
        ]
        try:
            yield boto3.client("stepfunctions", region_name="us-east-1")
        finally:
            for step in reversed(undo):
                step()


def run(sfn, definition: dict, payload: dict, name: str) -> dict:
    machine = sfn.create_state_machine(name=f"m-{name}", roleArn=ROLE, definition=json.dumps(definition))[
        "stateMachineArn"
    ]
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"]
    # Polled until it ends; the deadline only stops a hung execution from hanging the suite (a loaded
    # machine may take long: nothing here depends on how long).
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.025)
    raise AssertionError(f"execution did not finish within {HANG_GUARD_S} s: it hangs")


def parent(child_arn: str, resource: str = "arn:aws:states:::states:startExecution.sync:2") -> dict:
    return {
        "StartAt": "Start child",
        "States": {
            "Start child": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {
                    "StateMachineArn": child_arn,
                    "Name.$": "$.name",
                    "Input": {
                        "n.$": "$.n",
                        "fail.$": "$.fail",
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                    },
                },
                "End": True,
            }
        },
    }


def test_sync2_waits_for_the_child_and_returns_its_output_as_json(sfn):
    child = sfn.create_state_machine(name="child", roleArn=ROLE, definition=json.dumps(CHILD))["stateMachineArn"]
    described = run(sfn, parent(child), {"name": "c1", "n": 21, "fail": False}, "p1")
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["Status"] == "SUCCEEDED"
    assert output["Output"] == {"doubled": 42}  # JSON, not a string, for .sync:2
    assert output["Name"] == "c1" and output["ExecutionArn"].endswith(":child:c1")
    assert isinstance(output["StartDate"], int)  # epoch milliseconds, as on AWS


def test_sync_returns_the_output_as_a_string(sfn):
    child = sfn.create_state_machine(name="child", roleArn=ROLE, definition=json.dumps(CHILD))["stateMachineArn"]
    described = run(
        sfn, parent(child, "arn:aws:states:::states:startExecution.sync"), {"name": "c2", "n": 1, "fail": False}, "p2"
    )
    assert described["status"] == "SUCCEEDED"
    assert json.loads(json.loads(described["output"])["Output"]) == {"doubled": 2}


def test_a_failed_child_fails_the_task_with_its_error_in_the_cause(sfn):
    child = sfn.create_state_machine(name="child", roleArn=ROLE, definition=json.dumps(CHILD))["stateMachineArn"]
    described = run(sfn, parent(child), {"name": "c3", "n": 1, "fail": True}, "p3")
    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert cause["Error"] == "ChildError" and cause["Cause"] == "the child failed on purpose"
    assert cause["Status"] == "FAILED"


def _distributed(bucket: str, tolerated: float) -> dict:
    return {
        "StartAt": "Each object",
        "States": {
            "Each object": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"},
                },
                "ItemSelector": {"key.$": "$$.Map.Item.Value.Key", "run.$": "$.run"},
                "ToleratedFailurePercentage": float(tolerated),  # moto's grammar wants a decimal here
                "MaxConcurrency": 3,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Bad?",
                    "States": {
                        "Bad?": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$.key", "StringMatches": "*bad*", "Next": "Fail"}],
                            "Default": "Ok",
                        },
                        "Ok": {"Type": "Pass", "Parameters": {"ok.$": "$.key"}, "End": True},
                        "Fail": {"Type": "Fail", "Error": "BadObject", "Cause": "bad key"},
                    },
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": bucket, "Prefix.$": "States.Format('runs/{}', $.run)"},
                },
                "End": True,
            }
        },
    }


@pytest.mark.parametrize("tolerated, status", [(30, "SUCCEEDED"), (10, "FAILED")])
def test_distributed_map_tolerated_failures_and_result_files(sfn, tolerated, status):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="patch-test")
    for key in ("in/a", "in/b", "in/bad-c", "in/d", "in/e"):
        s3.put_object(Bucket="patch-test", Key=key, Body=b"x")
    described = run(
        sfn, _distributed("patch-test", tolerated), {"prefix": "in/", "run": f"r{tolerated}"}, f"dm{tolerated}"
    )
    assert described["status"] == status
    if status == "FAILED":  # 1 of 5 = 20 % > 10 %
        assert described["error"] == "States.ExceedToleratedFailureThreshold"
        return
    details = json.loads(described["output"])["ResultWriterDetails"]
    assert details["Key"].startswith(f"runs/r{tolerated}/") and details["Key"].endswith("/manifest.json")
    manifest = json.loads(s3.get_object(Bucket="patch-test", Key=details["Key"])["Body"].read())
    succeeded = json.loads(
        s3.get_object(Bucket="patch-test", Key=manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])["Body"].read()
    )
    failed = json.loads(
        s3.get_object(Bucket="patch-test", Key=manifest["ResultFiles"]["FAILED"][0]["Key"])["Body"].read()
    )
    assert sorted(json.loads(e["Output"])["ok"] for e in succeeded) == ["in/a", "in/b", "in/d", "in/e"]
    assert [(e["Status"], e["Error"], e["Cause"], json.loads(e["Input"])["key"]) for e in failed] == [
        ("FAILED", "BadObject", "bad key", "in/bad-c")
    ]


def test_patches_undo_cleanly():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    before = StateTaskServiceSfn.__dict__["_normalise_parameters"]
    undo = moto_patches.install_nested_executions()
    assert StateTaskServiceSfn.__dict__["_normalise_parameters"] is not before
    undo()
    assert StateTaskServiceSfn.__dict__["_normalise_parameters"] is before
    assert "_normalise_response" not in StateTaskServiceSfn.__dict__


def test_the_step_functions_model_is_loaded_once_not_per_nested_execution(sfn, monkeypatch):
    """The nested-execution patch normalises names with botocore's model: loading it per call cost ~100 ms a child."""
    import botocore.session

    loaded = []
    original = botocore.session.Session.get_service_model

    def get_service_model(self, service_name, api_version=None):
        loaded.append(service_name)
        return original(self, service_name, api_version)

    monkeypatch.setattr(botocore.session.Session, "get_service_model", get_service_model)
    child = sfn.create_state_machine(name="child", roleArn=ROLE, definition=json.dumps(CHILD))["stateMachineArn"]
    for index in range(3):
        assert (
            run(sfn, parent(child), {"name": f"m{index}", "n": index, "fail": False}, f"pm{index}")["status"]
            == "SUCCEEDED"
        )
    # At most once per action (start_execution, describe_execution), whatever the number of children.
    assert loaded.count("stepfunctions") <= 2


@pytest.fixture()
def sfn_with_events():
    """The nested-execution patch given execution events, as the stack installs it."""
    events = moto_patches.ExecutionEvents()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        undo = [
            moto_patches.install_durability(None, events),
            moto_patches.install_nested_executions(events),
            moto_patches.install_parse_cache(),
        ]
        try:
            yield boto3.client("stepfunctions", region_name="us-east-1"), events
        finally:
            for step in reversed(undo):
                step()


def test_a_sync_wait_ends_when_the_child_ends_not_at_the_next_poll():
    import threading

    from rekoflow.local.patches import nested_executions

    events = moto_patches.ExecutionEvents()
    waker = nested_executions._WakeOnChildEnd(events)
    ended = threading.Event()
    waker.ended = lambda arn: ended.is_set()  # the child's status, as the backend would report it
    waiter = threading.Thread(
        target=waker.wait_for, args=("arn:aws:states:us-east-1:1:execution:m:child", 600.0), daemon=True
    )
    waiter.start()
    events.publish({"name": "another", "executionArn": "x"})  # another execution ending does not end the wait
    waiter.join(timeout=0.5)
    assert waiter.is_alive()
    ended.set()
    events.publish({"name": "child", "executionArn": "arn:aws:states:us-east-1:1:execution:m:child"})
    waiter.join(timeout=30)
    assert not waiter.is_alive(), "the wait should end with the child's event, not after its 600 s timeout"


def test_the_parent_describes_a_slow_child_about_once_not_every_poll(sfn_with_events, monkeypatch):
    from moto.stepfunctions.responses import StepFunctionResponse

    sfn, events = sfn_with_events
    slow_child = {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 2, "Next": "Done"}, "Done": {"Type": "Pass", "End": True}},
    }
    child = sfn.create_state_machine(name="slow", roleArn=ROLE, definition=json.dumps(slow_child))["stateMachineArn"]
    machine = sfn.create_state_machine(name="waits", roleArn=ROLE, definition=json.dumps(parent(child)))[
        "stateMachineArn"
    ]
    described = []
    original = StepFunctionResponse.describe_execution
    monkeypatch.setattr(StepFunctionResponse, "describe_execution", lambda self: described.append(1) or original(self))
    arn = sfn.start_execution(
        stateMachineArn=machine, name="p-slow", input=json.dumps({"name": "slow-1", "n": 1, "fail": False})
    )["executionArn"]
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
    assert events.wait_until(lambda: backend.describe_execution(arn).status != "RUNNING", 60)
    assert backend.describe_execution(arn).status == "SUCCEEDED"
    # Polling every 100 ms described it ~20 times; the event-driven wait once or twice (+1 per fallback second).
    assert len(described) <= 5
