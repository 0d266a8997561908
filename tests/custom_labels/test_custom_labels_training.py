"""The training state machine on its own (statemachines/custom_labels_training.asl.json): what
`rekoflow train` and StartExecution run, and what an analysis with options.custom.training nests.
Success leaves the version TRAINING_COMPLETED (nothing started); each failure has its own name."""

from __future__ import annotations

import uuid

import pytest

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.conftest import DEADLINE_S, entered_states, model_status, training_request
from custom_labels.dataset import upload_dataset

pytestmark = pytest.mark.engine


def train(runtime, training: dict) -> object:
    name = f"train-{uuid.uuid4().hex[:12]}"
    arn = runtime.start_execution(
        "custom_labels_training",
        {"training": {"trainingPollIntervalSeconds": 1, "maxTrainingPolls": 60, **training}},
        name,
    )
    return runtime.wait(arn, timeout_s=DEADLINE_S)


def test_training_alone_returns_the_evaluated_version_and_starts_nothing(
    cl_runtime, engine_client, datasets, engine_calls
):
    result = train(
        cl_runtime,
        {"projectName": "alone", "versionName": "v1", "trainingManifest": datasets["manifest"], "minF1Score": 0.5},
    )
    assert result.succeeded, (result.error, result.cause)
    model = result.output
    assert model["status"] == "TRAINING_COMPLETED" and model["f1Score"] >= 0.5
    assert model["projectName"] == "alone" and model["versionName"] == "v1" and model["labels"] == 3
    assert model["split"] == "autoSplit" and model["trainingImages"] + model["testImages"] == 24
    assert model["evaluationSummary"]["key"] == "custom-labels/alone/v1/EvaluationResultSummary-alone-v1.json"
    assert model_status(engine_client, model["projectVersionArn"]) == "TRAINING_COMPLETED"
    assert engine_calls.starts(model["projectVersionArn"]) == 0
    states = entered_states(cl_runtime, result.arn)
    assert states[0] == "Prepare training data" and states[-1] == "Model trained"
    assert states.count("Check training status") == states.count("Count training poll") == model["trainingPolls"]


def test_training_with_one_label_fails_with_the_reason(cl_runtime, datasets):
    manifest, images = upload_dataset(cl_runtime, "datasets/only-cats", per_class=4, seed=7, classes=("cat",))
    result = train(cl_runtime, {"projectName": "cats-only", "versionName": "v1", "trainingManifest": manifest})
    assert result.status == "FAILED" and result.error == "TrainingFailedError"
    assert "at least 2 labels" in result.cause
    states = entered_states(cl_runtime, result.arn)
    assert "Training failed" in states and states[-1] == "Training unsuccessful"
    # The same failure inside an analysis request: recorded with the training machine's own error.
    analysis = cl_runtime.analyze(
        training_request(
            images["cat"][0], {"projectName": "cats-only", "versionName": "v2", "trainingManifest": manifest}
        ),
        timeout_s=DEADLINE_S,
    )
    record = cl_runtime.get_record(analysis.name)
    assert (
        analysis.status == "FAILED"
        and record["error"] == "TrainingFailedError"
        and "at least 2 labels" in record["cause"]
    )
    assert "Lease the model" not in entered_states(cl_runtime, analysis.arn)


def test_the_training_poll_loop_is_bounded(cl_runtime, datasets, monkeypatch):
    monkeypatch.setenv("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", "600")
    result = train(
        cl_runtime,
        {
            "projectName": "slow",
            "versionName": "v1",
            "trainingManifest": datasets["manifest"],
            "maxTrainingPolls": 2,
            "trainingPollIntervalSeconds": 0,
        },
    )
    assert result.status == "FAILED" and result.error == "TrainingTimeoutError"
    assert "did not finish within 2 polls" in result.cause and "TRAINING_IN_PROGRESS" in result.cause
    states = entered_states(cl_runtime, result.arn)
    assert states.count("Check training status") == 2 and "Model good enough?" not in states


def test_a_model_below_the_f1_gate_is_kept_and_not_started(cl_runtime, engine_client, datasets, engine_calls):
    # A test split whose labels are all wrong: the model is fine, its measured F1 is 0.
    test_manifest, _ = upload_dataset(
        cl_runtime,
        "datasets/mislabelled",
        per_class=2,
        seed=900,
        relabel={"cat": "cup", "cup": "rocket", "rocket": "cat"},
    )
    request = training_request(
        datasets["held_out"]["cat"][0],
        {
            "projectName": "gated",
            "versionName": "v1",
            "trainingManifest": datasets["manifest"],
            "testManifest": test_manifest,
            "minF1Score": 0.5,
        },
    )
    analysis = cl_runtime.analyze(request, timeout_s=DEADLINE_S)
    record = cl_runtime.get_record(analysis.name)
    assert analysis.status == "FAILED" and record["error"] == "ModelQualityError"
    assert "below minF1Score 0.5" in record["cause"]
    assert "Lease the model" not in entered_states(cl_runtime, analysis.arn)
    arn = record["cause"].split("the model ")[1].split(" ")[0]
    assert model_status(engine_client, arn) == "TRAINING_COMPLETED" and engine_calls.starts(arn) == 0


def test_bad_training_input_names_the_field(cl_runtime, datasets):
    result = train(
        cl_runtime, {"projectName": "bad name!", "versionName": "v1", "trainingManifest": datasets["manifest"]}
    )
    assert result.status == "FAILED" and result.error == "RequestValidationError"
    assert "training.projectName" in result.cause
    missing = cl_runtime.wait(
        cl_runtime.start_execution("custom_labels_training", {"nothing": 1}, f"train-{uuid.uuid4().hex[:8]}"),
        DEADLINE_S,
    )
    assert (
        missing.status == "FAILED" and missing.error == "RequestValidationError" and "needs training" in missing.cause
    )
