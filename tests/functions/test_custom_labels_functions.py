"""The Custom Labels Lambdas' logic against botocore's Stubber (and moto's DynamoDB for the lease item):
the calls made, the outputs, the errors. The lease decisions themselves: test_model_leases.py."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from custom_labels_project.project import prepare
from custom_labels_training.training import output_prefix, start_training
from detect_custom_labels.custom import detect_custom_labels
from rekoflow_common.config import ResultsLocation
from rekoflow_common.custom_labels import parse_version_arn
from rekoflow_common.errors import (
    ModelNotReadyError,
    RekognitionRequestError,
    RekognitionThrottlingError,
    RequestValidationError,
    TrainingFailedError,
)
from rekoflow_common.model_leases import LeaseTable
from rekoflow_common.model_versions import describe, start
from rekoflow_common.options import with_defaults

PROJECT_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/pets/1700000000000"
VERSION_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/pets/version/v1/1700000000001"
TRAIN_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/pets/dataset/train/1700000000002"
TEST_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/pets/dataset/test/1700000000003"
RESULTS = ResultsLocation(bucket="results-bucket", prefix="results/")
FOREVER = lambda: 900.0  # noqa: E731 - the Lambda's remaining time


@pytest.fixture()
def rekognition():
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def version_description(status: str, **extra) -> dict:
    return {
        "ProjectVersionDescriptions": [
            {"ProjectVersionArn": VERSION_ARN, "Status": status, "StatusMessage": f"it is {status}", **extra}
        ]
    }


def stub_describe(stubber: Stubber, status: str, **extra) -> None:
    stubber.add_response(
        "describe_projects", {"ProjectDescriptions": [{"ProjectArn": PROJECT_ARN}]}, {"ProjectNames": ["pets"]}
    )
    stubber.add_response(
        "describe_project_versions",
        version_description(status, **extra),
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["v1"]},
    )


def test_parse_version_arn():
    ref = parse_version_arn(VERSION_ARN)
    assert (ref.project, ref.version) == ("pets", "v1")
    with pytest.raises(ValueError):
        parse_version_arn(PROJECT_ARN)


def test_describe_returns_status_and_evaluation(rekognition):
    client, stubber = rekognition
    stub_describe(
        stubber,
        "TRAINING_COMPLETED",
        EvaluationResult={
            "F1Score": 0.93,
            "Summary": {"S3Object": {"Bucket": "results-bucket", "Name": "cl/summary.json"}},
        },
        BillableTrainingTimeInSeconds=3600,
    )
    out = describe(client, {"projectVersionArn": VERSION_ARN})
    assert out["status"] == "TRAINING_COMPLETED" and out["f1Score"] == pytest.approx(0.93) and out["evaluated"] is True
    assert out["evaluationSummary"] == {"bucket": "results-bucket", "key": "cl/summary.json"}
    assert out["projectArn"] == PROJECT_ARN and out["billableTrainingSeconds"] == 3600


def test_describe_without_evaluation_reports_f1_zero(rekognition):
    client, stubber = rekognition
    stub_describe(stubber, "TRAINING_IN_PROGRESS")
    out = describe(client, {"projectVersionArn": VERSION_ARN})
    assert out["f1Score"] == 0.0 and out["evaluated"] is False and out["evaluationSummary"] is None


def test_describe_unknown_version_and_project(rekognition):
    client, stubber = rekognition
    stubber.add_response("describe_projects", {"ProjectDescriptions": [{"ProjectArn": PROJECT_ARN}]})
    stubber.add_response("describe_project_versions", {"ProjectVersionDescriptions": []})
    with pytest.raises(RekognitionRequestError, match="does not exist"):
        describe(client, {"projectVersionArn": VERSION_ARN})
    stubber.add_response("describe_projects", {"ProjectDescriptions": []})
    with pytest.raises(RekognitionRequestError, match="project 'pets'"):
        describe(client, {"projectVersionArn": VERSION_ARN})


def test_bad_arn_is_a_request_error(rekognition):
    client, _ = rekognition
    with pytest.raises(RequestValidationError, match="not a Custom Labels project version ARN"):
        describe(client, {"projectVersionArn": PROJECT_ARN})


@pytest.fixture()
def leases():
    from rekoflow.local import declarations

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**declarations.create_table_request("t"))
        yield LeaseTable(client, "t")


def test_start_passes_inference_units(rekognition, leases):
    client, stubber = rekognition
    stub_describe(stubber, "TRAINING_COMPLETED")
    stubber.add_response(
        "start_project_version", {"Status": "STARTING"}, {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 2}
    )
    out = start(client, leases, {"projectVersionArn": VERSION_ARN, "holder": "req-1", "minInferenceUnits": 2})
    assert out == {
        "projectVersionArn": VERSION_ARN,
        "status": "STARTING",
        "started": True,
        "minInferenceUnits": 2,
        "reason": "",
    }


def test_start_of_a_model_already_starting_is_not_an_error(rekognition, leases):
    client, stubber = rekognition
    stub_describe(stubber, "STOPPED")
    stubber.add_client_error("start_project_version", "ResourceInUseException", "in use")
    stub_describe(stubber, "STARTING")
    out = start(client, leases, {"projectVersionArn": VERSION_ARN, "holder": "req-1"})
    assert out["status"] == "STARTING" and out["started"] is False


def test_start_while_stopping_is_retryable(rekognition, leases):
    client, stubber = rekognition
    stub_describe(stubber, "STOPPED")
    stubber.add_client_error("start_project_version", "ResourceInUseException", "in use")
    stub_describe(stubber, "STOPPING")
    with pytest.raises(ModelNotReadyError, match="STOPPING"):
        start(client, leases, {"projectVersionArn": VERSION_ARN, "holder": "req-1"})
    assert leases.read(VERSION_ARN).start_claim is None


def test_start_throttled_is_named_for_the_state_machine(rekognition, leases):
    client, stubber = rekognition
    stub_describe(stubber, "STOPPED")
    stubber.add_client_error("start_project_version", "ThrottlingException", "slow down", 400)
    with pytest.raises(RekognitionThrottlingError):
        start(client, leases, {"projectVersionArn": VERSION_ARN, "holder": "req-1"})


def test_start_of_a_running_model_calls_nothing_but_describe(rekognition, leases):
    client, stubber = rekognition
    stub_describe(stubber, "RUNNING")
    out = start(client, leases, {"projectVersionArn": VERSION_ARN, "holder": "req-1"})
    assert out["started"] is False and out["reason"] == "the model is RUNNING"


TRAINING = {
    "projectName": "pets",
    "versionName": "v1",
    "trainingManifest": {"bucket": "images", "key": "train.manifest"},
}


def dataset(status: str, entries: int = 10, labels: int = 2) -> dict:
    return {
        "DatasetDescription": {
            "Status": status,
            "StatusMessage": status.lower(),
            "DatasetStats": {"LabeledEntries": entries, "TotalLabels": labels},
        }
    }


def test_prepare_new_project_with_auto_split(rekognition):
    client, stubber = rekognition
    stubber.add_response("describe_projects", {"ProjectDescriptions": []}, {"ProjectNames": ["pets"]})
    stubber.add_response("create_project", {"ProjectArn": PROJECT_ARN}, {"ProjectName": "pets"})
    stubber.add_response(
        "create_dataset",
        {"DatasetArn": TRAIN_ARN},
        {
            "ProjectArn": PROJECT_ARN,
            "DatasetType": "TRAIN",
            "DatasetSource": {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": "train.manifest"}}},
        },
    )
    stubber.add_response("create_dataset", {"DatasetArn": TEST_ARN}, {"ProjectArn": PROJECT_ARN, "DatasetType": "TEST"})
    stubber.add_response("describe_dataset", dataset("CREATE_COMPLETE"), {"DatasetArn": TRAIN_ARN})
    stubber.add_response("describe_dataset", dataset("CREATE_COMPLETE", 0, 0), {"DatasetArn": TEST_ARN})
    stubber.add_response("distribute_dataset_entries", {}, {"Datasets": [{"Arn": TRAIN_ARN}, {"Arn": TEST_ARN}]})
    stubber.add_response("describe_dataset", dataset("UPDATE_COMPLETE", 8), {"DatasetArn": TRAIN_ARN})
    stubber.add_response("describe_dataset", dataset("UPDATE_COMPLETE", 2), {"DatasetArn": TEST_ARN})
    out = prepare(client, {"request": {"training": TRAINING}, "executionName": "train-1"}, FOREVER)
    assert out["projectArn"] == PROJECT_ARN and out["projectCreated"] is True and out["split"] == "autoSplit"
    # The training options come back with their defaults, and the request id falls back to the execution name.
    assert (
        out["requestId"] == "train-1" and out["training"] == with_defaults("custom", {"training": TRAINING})["training"]
    )
    assert (out["trainingImages"], out["testImages"], out["labels"]) == (8, 2, 2)


def test_prepare_existing_project_replaces_datasets_and_uses_test_manifest(rekognition):
    client, stubber = rekognition
    old = [{"DatasetArn": TRAIN_ARN, "DatasetType": "TRAIN"}, {"DatasetArn": TEST_ARN, "DatasetType": "TEST"}]
    stubber.add_response("describe_projects", {"ProjectDescriptions": [{"ProjectArn": PROJECT_ARN, "Datasets": old}]})
    stubber.add_response("delete_dataset", {}, {"DatasetArn": TRAIN_ARN})
    stubber.add_response("delete_dataset", {}, {"DatasetArn": TEST_ARN})
    stubber.add_response("describe_projects", {"ProjectDescriptions": [{"ProjectArn": PROJECT_ARN, "Datasets": []}]})
    stubber.add_response("create_dataset", {"DatasetArn": TRAIN_ARN})
    stubber.add_response(
        "create_dataset",
        {"DatasetArn": TEST_ARN},
        {
            "ProjectArn": PROJECT_ARN,
            "DatasetType": "TEST",
            "DatasetSource": {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": "test.manifest"}}},
        },
    )
    for _ in range(2):
        stubber.add_response("describe_dataset", dataset("CREATE_COMPLETE"))
        stubber.add_response("describe_dataset", dataset("CREATE_COMPLETE", 3))
    out = prepare(
        client,
        {
            "request": {
                "requestId": "req-7",
                "training": {**TRAINING, "testManifest": {"bucket": "images", "key": "test.manifest"}},
            }
        },
        FOREVER,
    )
    assert out["requestId"] == "req-7"
    assert out["projectCreated"] is False and out["split"] == "testManifest" and out["testImages"] == 3


def test_prepare_failed_dataset_is_a_training_failure(rekognition):
    client, stubber = rekognition
    stubber.add_response("describe_projects", {"ProjectDescriptions": [{"ProjectArn": PROJECT_ARN}]})
    stubber.add_response("create_dataset", {"DatasetArn": TRAIN_ARN})
    stubber.add_response("create_dataset", {"DatasetArn": TEST_ARN})
    stubber.add_response("describe_dataset", dataset("CREATE_FAILED"))
    stubber.add_response("describe_dataset", dataset("CREATE_COMPLETE", 0))
    with pytest.raises(TrainingFailedError, match="TRAIN dataset could not be created: CREATE_FAILED"):
        prepare(client, {"request": {"training": TRAINING}}, FOREVER)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({}, "the training input needs training"),
        ({"training": {**TRAINING, "minF1Score": 2}}, "training.minF1Score: 2 is greater than the maximum of 1"),
        (
            {"training": {"projectName": "pets", "versionName": "v1"}},
            "training: 'trainingManifest' is a required property",
        ),
        ({"training": {**TRAINING, "colour": "red"}}, "training: unknown field(s) colour"),
        (
            {"training": {**TRAINING, "autoSplit": True, "testManifest": {"bucket": "images", "key": "t"}}},
            "either testManifest or autoSplit",
        ),
    ],
)
def test_prepare_checks_the_training_options_before_any_call(rekognition, request_, message):
    client, _ = rekognition
    with pytest.raises(RequestValidationError) as excinfo:
        prepare(client, {"request": request_}, FOREVER)
    assert message in str(excinfo.value)


def test_start_training_writes_evaluation_under_the_results_bucket(rekognition):
    client, stubber = rekognition
    training = with_defaults("custom", {"training": TRAINING})["training"]
    assert output_prefix(training) == "custom-labels/pets/v1/"
    stubber.add_response(
        "create_project_version",
        {"ProjectVersionArn": VERSION_ARN},
        {
            "ProjectArn": PROJECT_ARN,
            "VersionName": "v1",
            "OutputConfig": {"S3Bucket": "results-bucket", "S3KeyPrefix": "custom-labels/pets/v1/"},
            "VersionDescription": ANY,
        },
    )
    out = start_training(client, RESULTS, {"requestId": "req-1", "projectArn": PROJECT_ARN, "training": training})
    assert out["projectVersionArn"] == VERSION_ARN and out["status"] == "TRAINING_IN_PROGRESS"


def test_start_training_with_a_taken_version_name(rekognition):
    client, stubber = rekognition
    stubber.add_client_error("create_project_version", "ResourceInUseException", "exists")
    with pytest.raises(RekognitionRequestError, match="choose a new versionName"):
        start_training(client, RESULTS, {"projectArn": PROJECT_ARN, "training": TRAINING})


def test_start_training_taken_by_another_request_is_still_an_error(rekognition):
    client, stubber = rekognition
    stubber.add_client_error("create_project_version", "ResourceInUseException", "exists")
    stubber.add_response(
        "describe_project_versions",
        version_description("TRAINING_IN_PROGRESS", VersionDescription="rekoflow request someone-else"),
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["v1"]},
    )
    with pytest.raises(RekognitionRequestError, match="choose a new versionName"):
        start_training(client, RESULTS, {"requestId": "req-1", "projectArn": PROJECT_ARN, "training": TRAINING})


def test_a_retried_start_training_adopts_the_version_it_created(rekognition):
    """The first attempt created the version but its answer was lost; the Retry must not fail the run."""
    client, stubber = rekognition
    stubber.add_client_error("create_project_version", "ResourceInUseException", "exists")
    stubber.add_response(
        "describe_project_versions",
        version_description("TRAINING_IN_PROGRESS", VersionDescription="rekoflow request req-1"),
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["v1"]},
    )
    out = start_training(client, RESULTS, {"requestId": "req-1", "projectArn": PROJECT_ARN, "training": TRAINING})
    assert out["projectVersionArn"] == VERSION_ARN and out["status"] == "TRAINING_IN_PROGRESS"


def test_training_defaults_apply_only_when_training():
    assert "training" not in with_defaults("custom", {"projectVersionArn": VERSION_ARN})
    merged = with_defaults("custom", {"training": {**TRAINING, "minF1Score": 0.9}})["training"]
    assert (
        merged["minF1Score"] == 0.9
        and merged["maxTrainingPolls"] == 720
        and merged["trainingPollIntervalSeconds"] == 120
    )


@pytest.fixture()
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=RESULTS.bucket)
        yield client


ITEM = {
    "type": "custom",
    "requestId": "req-1",
    "image": {"bucket": "images", "key": "cat.jpg"},
    "options": with_defaults("custom", {"projectVersionArn": VERSION_ARN, "maxResults": 5}),
    "projectVersionArn": VERSION_ARN,
}


def test_detect_summarises_and_stores_the_response(rekognition, s3):
    client, stubber = rekognition
    stubber.add_response(
        "detect_custom_labels",
        {
            "CustomLabels": [
                {"Name": "dog", "Confidence": 61.2},
                {
                    "Name": "cat",
                    "Confidence": 97.123,
                    "Geometry": {"BoundingBox": {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4}},
                },
            ]
        },
        {
            "ProjectVersionArn": VERSION_ARN,
            "Image": {"S3Object": {"Bucket": "images", "Name": "cat.jpg"}},
            "MinConfidence": 50.0,
            "MaxResults": 5,
        },
    )
    out = detect_custom_labels(client, s3, RESULTS, ITEM)
    summary = out["summary"]
    assert out["type"] == "custom" and out["cached"] is False and out["resultKey"] == "results/req-1/custom.json"
    assert summary["count"] == 2 and summary["labels"][0] == {
        "name": "cat",
        "confidence": 97.12,
        "geometry": {"boundingBox": {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4}},
    }
    assert summary["labels"][1] == {"name": "dog", "confidence": 61.2}
    assert (
        summary["projectVersionArn"] == VERSION_ARN and "modelStopped" not in summary
    )  # requests no longer stop models
    assert s3.get_object(Bucket=RESULTS.bucket, Key=out["resultKey"])["ContentLength"] > 0


def test_detect_on_a_model_that_is_not_running(rekognition, s3):
    client, stubber = rekognition
    stubber.add_client_error("detect_custom_labels", "ResourceNotReadyException", "not ready")
    with pytest.raises(ModelNotReadyError, match="is not running"):
        detect_custom_labels(client, s3, RESULTS, ITEM)
