"""Custom Labels end to end: the real ASL in moto's interpreter, the real handlers, the real engine.

One model is trained through the state machine (shared by the tests), then used by ARN; failure
paths check the FAILED record, the execution history and that no model is left running.
"""

from __future__ import annotations

import pytest

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.conftest import entered_states, model_status, training_request
from custom_labels.dataset import upload_dataset

pytestmark = pytest.mark.engine


def test_training_run_trains_evaluates_detects_and_stops(cl_runtime, engine_client, trained):
    record = trained["record"]
    assert record["status"] == "SUCCEEDED"
    custom = record["results"]["custom"]
    assert [label["name"] for label in custom["labels"]][:1] == ["rocket"]
    assert custom["labels"][0]["confidence"] >= 80
    assert custom["modelStopped"] is True
    training = custom["training"]
    assert training["f1Score"] >= 0.8
    assert training["split"] == "autoSplit" and training["testImages"] >= 3 and training["trainingImages"] >= 15
    # The poll loop ran (and was counted) several times: training lasts at least a second here.
    states = entered_states(cl_runtime, trained["result"].arn)
    assert states.count("Check training status") >= 2
    assert states.count("Count training poll") == states.count("Check training status") == training["trainingPolls"]
    for state in ("Prepare training data", "Start training", "Model good enough?", "Start model", "Wait for model", "Detect custom labels", "Stop model"):
        assert state in states
    assert "Stop model after failure" not in states
    assert model_status(engine_client, trained["arn"]) == "STOPPED"
    # Per-label metrics written by "Rekognition" under the results bucket.
    summary = training["evaluationSummary"]
    evaluation = cl_runtime.read_result(summary["key"]) if summary["bucket"] == cl_runtime.config.results_bucket else None
    assert evaluation and {r["Label"] for r in evaluation["LabelEvaluationResults"]} == {"cat", "cup", "rocket"}
    print(f"\ntraining run through the state machine: {trained['elapsed']:.1f} s")


@pytest.mark.parametrize("label", ["cat", "cup", "rocket"])
def test_held_out_images_are_classified_with_the_model_arn(cl_runtime, engine_client, datasets, trained, label):
    image = datasets["held_out"][label][1]
    result = cl_runtime.analyze(
        {"image": image, "analyses": ["custom"], "useCache": False,
         "options": {"custom": {"projectVersionArn": trained["arn"], "pollIntervalSeconds": 1, "maxPolls": 10}}},
        timeout_s=120,
    )
    assert result.succeeded, (result.error, result.cause)
    custom = cl_runtime.get_record(result.name)["results"]["custom"]
    assert custom["labels"][0]["name"] == label
    assert custom["modelStopped"] is True and custom["projectVersionArn"] == trained["arn"]
    states = entered_states(cl_runtime, result.arn)
    assert "Check model status" in states and "Start model" in states and "Prepare training data" not in states
    assert model_status(engine_client, trained["arn"]) == "STOPPED"


def test_keep_running_leaves_the_model_running(cl_runtime, engine_client, datasets, trained):
    image = datasets["held_out"]["cat"][0]
    request = {"image": image, "analyses": ["custom"], "useCache": False,
               "options": {"custom": {"projectVersionArn": trained["arn"], "keepRunning": True, "pollIntervalSeconds": 1, "maxPolls": 10}}}
    result = cl_runtime.analyze(request, timeout_s=120)
    assert result.succeeded, (result.error, result.cause)
    custom = cl_runtime.get_record(result.name)["results"]["custom"]
    assert custom["modelStopped"] is False and custom["labels"][0]["name"] == "cat"
    assert model_status(engine_client, trained["arn"]) == "RUNNING"
    assert "Stop model" not in entered_states(cl_runtime, result.arn)
    # A model that is already RUNNING is used as it is (no start), then stopped.
    request["options"]["custom"]["keepRunning"] = False
    request.pop("requestId")
    again = cl_runtime.analyze({**request, "image": datasets["held_out"]["cup"][0]}, timeout_s=120)
    assert again.succeeded, (again.error, again.cause)
    states = entered_states(cl_runtime, again.arn)
    assert "Start model" not in states and "Stop model" in states
    assert model_status(engine_client, trained["arn"]) == "STOPPED"


def test_detection_error_after_start_stops_the_model_before_failing(cl_runtime, engine_client, datasets, trained, monkeypatch):
    from rekoflow.engine import dispatch, errors

    def broken(params, ctx):
        raise errors.invalid_parameter("simulated: the image can't be used by this model")

    monkeypatch.setitem(dispatch.OPERATIONS, "DetectCustomLabels", broken)
    result = cl_runtime.analyze(
        {"image": datasets["held_out"]["cup"][1], "analyses": ["custom"], "useCache": False,
         "options": {"custom": {"projectVersionArn": trained["arn"], "pollIntervalSeconds": 1, "maxPolls": 10}}},
        timeout_s=120,
    )
    assert result.status == "FAILED"
    record = cl_runtime.get_record(result.name)
    assert record["status"] == "FAILED"
    assert record["error"] == "RekognitionRequestError"
    assert "simulated" in record["cause"]
    states = entered_states(cl_runtime, result.arn)
    assert states.index("Start model") < states.index("Detect custom labels") < states.index("Stop model after failure")
    assert states[-3:] == ["Custom labels failed", "Record failure", "Analysis failed"] or "Custom labels failed" in states
    assert model_status(engine_client, trained["arn"]) == "STOPPED"


def test_unknown_model_arn_fails_without_starting_anything(cl_runtime, datasets, trained):
    arn = trained["arn"].replace("/version/v1/", "/version/nope/")
    result = cl_runtime.analyze(
        {"image": datasets["held_out"]["cup"][0], "analyses": ["custom"], "useCache": False,
         "options": {"custom": {"projectVersionArn": arn, "pollIntervalSeconds": 0, "maxPolls": 2}}},
        timeout_s=60,
    )
    record = cl_runtime.get_record(result.name)
    assert result.status == "FAILED" and record["error"] == "RekognitionRequestError"
    assert "does not exist" in record["cause"]
    assert "Start model" not in entered_states(cl_runtime, result.arn)


def test_training_with_one_label_fails_with_the_reason(cl_runtime, engine_client, datasets):
    manifest, images = upload_dataset(cl_runtime, "datasets/only-cats", per_class=4, seed=7, classes=("cat",))
    request = training_request(images["cat"][0], {"projectName": "cats-only", "versionName": "v1", "trainingManifest": manifest})
    result = cl_runtime.analyze(request, timeout_s=120)
    assert result.status == "FAILED"
    record = cl_runtime.get_record(result.name)
    assert record["status"] == "FAILED" and record["error"] == "TrainingFailedError"
    assert "at least 2 labels" in record["cause"]
    states = entered_states(cl_runtime, result.arn)
    assert "Training failed" in states and "Start model" not in states


def test_training_poll_loop_is_bounded(cl_runtime, datasets, monkeypatch):
    monkeypatch.setenv("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", "30")
    request = training_request(
        datasets["held_out"]["cat"][0],
        {"projectName": "slow", "versionName": "v1", "trainingManifest": datasets["manifest"],
         "maxTrainingPolls": 2, "trainingPollIntervalSeconds": 0},
    )
    result = cl_runtime.analyze(request, timeout_s=60)
    record = cl_runtime.get_record(result.name)
    assert result.status == "FAILED" and record["error"] == "TrainingTimeoutError"
    assert "did not finish within 2 polls" in record["cause"] and "TRAINING_IN_PROGRESS" in record["cause"]
    states = entered_states(cl_runtime, result.arn)
    assert states.count("Check training status") == 2 and "Start model" not in states


def test_model_below_the_f1_gate_is_not_started(cl_runtime, engine_client, datasets):
    # A test split whose labels are all wrong: the model is fine, its measured F1 is 0.
    test_manifest, _ = upload_dataset(cl_runtime, "datasets/mislabelled", per_class=2, seed=900,
                                      relabel={"cat": "cup", "cup": "rocket", "rocket": "cat"})
    request = training_request(
        datasets["held_out"]["cat"][0],
        {"projectName": "gated", "versionName": "v1", "trainingManifest": datasets["manifest"],
         "testManifest": test_manifest, "minF1Score": 0.5},
    )
    result = cl_runtime.analyze(request, timeout_s=120)
    record = cl_runtime.get_record(result.name)
    assert result.status == "FAILED" and record["error"] == "ModelQualityError"
    assert "below minF1Score 0.5" in record["cause"]
    states = entered_states(cl_runtime, result.arn)
    assert "Model below quality bar" in states and "Start model" not in states
    arn = record["cause"].split("the model ")[1].split(" ")[0]
    assert model_status(engine_client, arn) == "TRAINING_COMPLETED"
