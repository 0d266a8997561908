"""Custom Labels end to end: the real ASL in moto's interpreter, the real handlers, the real engine.

One analysis request trains a model (the training machine, nested) and infers with it; other
requests use it by ARN through a lease. Failure paths check the FAILED record, the execution
history and that the lease is given back. No test depends on the state an earlier test left a
model in: a test that does gets a model version of its own (``new_model``).
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.conftest import (
    DEADLINE_S,
    child_executions,
    custom_request,
    entered_states,
    lease_item,
    model_status,
    wait_for_status,
    wait_for_watchers_to_end,
    wait_until,
)

pytestmark = pytest.mark.engine


def test_a_training_request_trains_in_the_training_machine_then_leases_and_detects(cl_runtime, engine_client, trained):
    record = trained["record"]
    assert record["status"] == "SUCCEEDED"
    custom = record["results"]["custom"]
    assert [label["name"] for label in custom["labels"]][:1] == ["rocket"]
    assert custom["labels"][0]["confidence"] >= 80
    training = custom["training"]
    assert training["f1Score"] >= 0.8
    assert training["split"] == "autoSplit" and training["testImages"] >= 3 and training["trainingImages"] >= 15
    parent = trained["result"].arn
    states = entered_states(cl_runtime, parent)
    for state in (
        "Train the model",
        "Use the trained model",
        "Lease the model",
        "Detect custom labels",
        "Release the lease",
        "Add training results",
    ):
        assert state in states
    # The image-analysis machine has no training loop of its own: it ran in the child execution.
    assert "Check training status" not in states
    [training_run] = child_executions(cl_runtime, "custom_labels_training", parent)
    checks = [
        e
        for e in cl_runtime.history(training_run)
        if e.get("stateExitedEventDetails", {}).get("name") == "Check training status"
    ]
    statuses = [json.loads(e["stateExitedEventDetails"]["output"])["model"]["status"] for e in checks]
    # Every poll was counted; the loop went on while training ran and ended when it completed.
    assert len(statuses) == training["trainingPolls"] >= 1
    assert statuses[-1] == "TRAINING_COMPLETED" and set(statuses[:-1]) <= {"TRAINING_IN_PROGRESS"}
    [lease_run] = child_executions(cl_runtime, "custom_labels_lease", parent)
    assert "Start the model" in entered_states(cl_runtime, lease_run)
    # Per-label metrics written by "Rekognition" under the results bucket.
    summary = training["evaluationSummary"]
    assert summary["bucket"] == cl_runtime.config.results_bucket
    evaluation = cl_runtime.read_result(summary["key"])
    assert {r["Label"] for r in evaluation["LabelEvaluationResults"]} == {"cat", "cup", "rocket"}
    # The request did not stop the model; its watcher does, once the model has idled.
    assert lease_item(cl_runtime, trained["arn"])["starts"] >= 1
    wait_for_status(engine_client, trained["arn"], "STOPPED")


@pytest.mark.parametrize("label", ["cat", "cup", "rocket"])
def test_held_out_images_are_classified_with_the_model_arn(cl_runtime, datasets, trained, label):
    result = cl_runtime.analyze(custom_request(datasets["held_out"][label][1], trained["arn"]), timeout_s=DEADLINE_S)
    assert result.succeeded, (result.error, result.cause)
    custom = cl_runtime.get_record(result.name)["results"]["custom"]
    assert custom["labels"][0]["name"] == label and custom["projectVersionArn"] == trained["arn"]
    states = entered_states(cl_runtime, result.arn)
    assert "Use the given model" in states and "Train the model" not in states and "Release the lease" in states
    assert result.name not in lease_item(cl_runtime, trained["arn"])["holders"]


def test_a_detection_error_gives_the_lease_back_and_the_model_is_stopped_when_idle(
    cl_runtime, engine_client, datasets, new_model, engine_calls, monkeypatch
):
    from rekoflow.engine import dispatch, errors

    arn = new_model()
    engine_calls.reset()

    def broken(params, ctx):
        raise errors.invalid_parameter("simulated: the image can't be used by this model")

    monkeypatch.setitem(dispatch.OPERATIONS, "DetectCustomLabels", broken)
    result = cl_runtime.analyze(custom_request(datasets["held_out"]["cup"][1], arn), timeout_s=DEADLINE_S)
    assert result.status == "FAILED"
    record = cl_runtime.get_record(result.name)
    assert record["status"] == "FAILED" and record["error"] == "RekognitionRequestError"
    assert "simulated" in record["cause"]
    states = entered_states(cl_runtime, result.arn)
    assert (
        states.index("Lease the model")
        < states.index("Detect custom labels")
        < states.index("Release the lease after failure")
    )
    assert states[-2:] == ["Record failure", "Analysis failed"]
    assert lease_item(cl_runtime, arn)["holders"] == {}
    wait_for_status(engine_client, arn, "STOPPED")
    wait_for_watchers_to_end(cl_runtime, arn)
    assert engine_calls.starts(arn) == 1 and engine_calls.stops(arn) == 1


def test_unknown_model_arn_fails_without_starting_anything(cl_runtime, datasets, trained, engine_calls):
    arn = trained["arn"].replace("/version/v1/", "/version/nope/")
    result = cl_runtime.analyze(custom_request(datasets["held_out"]["cup"][0], arn, maxPolls=2), timeout_s=DEADLINE_S)
    record = cl_runtime.get_record(result.name)
    assert result.status == "FAILED" and record["error"] == "RekognitionRequestError"
    assert "does not exist" in record["cause"]
    [lease_run] = child_executions(cl_runtime, "custom_labels_lease", result.arn)
    assert "Start the model" not in entered_states(cl_runtime, lease_run)
    assert engine_calls.starts(arn) == 0
    assert lease_item(cl_runtime, arn)["holders"] == {}


def test_a_model_that_is_still_training_is_not_usable(cl_runtime, engine_client, datasets, monkeypatch):
    monkeypatch.setenv("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", "600")
    project = engine_client.create_project(ProjectName="slow-model")["ProjectArn"]
    manifest = datasets["manifest"]
    arn = engine_client.create_project_version(
        ProjectArn=project,
        VersionName="v1",
        OutputConfig={"S3Bucket": cl_runtime.results_bucket, "S3KeyPrefix": "custom-labels/slow/"},
        TrainingData={
            "Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": manifest["bucket"], "Name": manifest["key"]}}}]
        },
        TestingData={"AutoCreate": True},
    )["ProjectVersionArn"]
    result = cl_runtime.analyze(custom_request(datasets["held_out"]["cup"][0], arn), timeout_s=DEADLINE_S)
    record = cl_runtime.get_record(result.name)
    assert result.status == "FAILED" and record["error"] == "ModelNotReadyError"
    assert "TRAINING_IN_PROGRESS" in record["cause"]
    assert model_status(engine_client, arn) == "TRAINING_IN_PROGRESS"
    wait_until(lambda: lease_item(cl_runtime, arn)["holders"] == {}, "the lease to be given back")
