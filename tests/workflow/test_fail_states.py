"""No Fail state raises a reserved States.* name (the ASL spec forbids it; the execution would end with
a States.Runtime instead of its error), and what renames them works when run.

Static: every Fail state either names its error itself, or reads it from a place where it is known
to be renamed (record_failure and summarize_batch return fail_state_error names; a child's error
comes from its own Fail state; the batch's start failures pass "Rename reserved error"). Run: the
renaming states of the batch machine, taken from the ASL, executed by the same interpreter.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from rekoflow_common.failures import fail_state_error
from workflow.test_asl import walk_states

ROOT = Path(__file__).parents[2]
# Fail states whose ErrorPath reads an error known not to be reserved, and why.
RENAMED_BEFORE = {
    ("image_analysis", "Analysis failed"): ("$.recorded.error", "record_failure returns fail_state_error(error)"),
    ("batch_analysis", "Batch failed"): ("$.result.summary.error", "summarize_batch returns fail_state_error(error)"),
    ("batch_analysis", "Image analysis failed"): (
        "$.child.Error",
        "the child's error, raised by the child's own Fail state",
    ),
    ("batch_analysis", "Image not analysed"): ("$.failure.Error", "'Reserved error name?' renames States.* first"),
    ("image_analysis", "Custom labels failed"): (
        "$.custom.failure.Error",
        "'Read the custom labels failure' raises a child's own error and renames other States.* names",
    ),
    ("custom_labels_lease", "Model not leased"): ("$.failure.Error", "'Reserved error name?' renames States.* first"),
    ("custom_labels_training", "Training unsuccessful"): (
        "$.failure.Error",
        "'Reserved error name?' renames States.* first",
    ),
}


def fail_states():
    for path in sorted((ROOT / "statemachines").glob("*.asl.json")):
        machine = path.name.removesuffix(".asl.json")
        for name, state, _ in walk_states(json.loads(path.read_text())["States"]):
            if state["Type"] == "Fail":
                yield machine, name, state


@pytest.mark.parametrize("machine,name,state", list(fail_states()), ids=[f"{m}:{n}" for m, n, _ in fail_states()])
def test_no_fail_state_raises_a_reserved_name(machine, name, state):
    if "Error" in state:
        assert not state["Error"].startswith("States."), f"{machine}/{name} raises {state['Error']}"
    else:
        assert (machine, name) in RENAMED_BEFORE, (
            f"{machine}/{name}: where is its ErrorPath {state.get('ErrorPath')} renamed?"
        )
        assert state["ErrorPath"] == RENAMED_BEFORE[(machine, name)][0]


@pytest.mark.parametrize(
    "error,expected",
    [
        ("States.Timeout", "Workflow.Timeout"),
        ("States.DataLimitExceeded", "Workflow.DataLimitExceeded"),
        ("RekognitionThrottlingError", "RekognitionThrottlingError"),
        ("", "Workflow.Unknown"),
        (None, "Workflow.Unknown"),
    ],
)
def test_fail_state_error_renames_only_reserved_names(error, expected):
    assert fail_state_error(error) == expected


def _renaming_machine() -> dict:
    """The batch machine's start-failure states, alone: failure in, Fail state out."""
    states = json.loads((ROOT / "statemachines/batch_analysis.asl.json").read_text())["States"]["Analyse images"][
        "ItemProcessor"
    ]["States"]
    return {
        "StartAt": "Reserved error name?",
        "States": {n: states[n] for n in ("Reserved error name?", "Rename reserved error", "Image not analysed")},
    }


@pytest.mark.parametrize(
    "error,expected",
    [
        ("States.Timeout", "Workflow.Timeout"),
        ("States.TaskFailed", "Workflow.TaskFailed"),
        ("StepFunctions.ExecutionLimitExceededException", "StepFunctions.ExecutionLimitExceededException"),
    ],
)
def test_a_reserved_start_failure_is_raised_under_a_workflow_name(error, expected):
    described = _run_failure(_renaming_machine(), {"Error": error, "Cause": "the cause"})
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == (expected, "the cause")


def _run_failure(definition: dict, failure: dict) -> dict:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="rename", roleArn="arn:aws:iam::123456789012:role/t", definition=json.dumps(definition)
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"failure": failure}))["executionArn"]
        deadline = time.monotonic() + 600  # a hang guard only
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING" and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
    return described


@pytest.mark.parametrize(
    "machine,fail_state",
    [("custom_labels_lease", "Model not leased"), ("custom_labels_training", "Training unsuccessful")],
)
@pytest.mark.parametrize(
    "error,expected_error,expected_cause",
    [
        ("States.Timeout", "Workflow.StepFailed", "States.Timeout: the cause"),
        ("ModelNotReadyError", "ModelNotReadyError", "the cause"),
    ],
)
def test_the_custom_labels_machines_raise_a_reserved_failure_under_a_workflow_name(
    machine, fail_state, error, expected_error, expected_cause
):
    states = json.loads((ROOT / f"statemachines/{machine}.asl.json").read_text())["States"]
    definition = {
        "StartAt": "Reserved error name?",
        "States": {n: states[n] for n in ("Reserved error name?", "Rename the service error", fail_state)},
    }
    described = _run_failure(definition, {"Error": error, "Cause": "the cause"})
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == (expected_error, expected_cause)
