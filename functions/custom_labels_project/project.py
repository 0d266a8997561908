"""Prepare Custom Labels training data: the project (created when missing) and its TRAIN and TEST
datasets, made from GroundTruth manifests in S3.

A project holds at most one TRAIN and one TEST dataset, and each model version keeps its own copy
of the data it was trained on, so the project's datasets are replaced by the ones this request
names. The TEST dataset is the request's testManifest or, without one, ~20% of the training images
moved by DistributeDatasetEntries (Rekognition's auto-split). Dataset creation takes seconds: it is
waited for here, bounded by the Lambda's remaining time.

It is the first step of the training state machine, which anyone may start (``rekoflow train``,
StartExecution, an image analysis with options.custom.training): the training options are checked
against the request schema's ``customTraining`` and completed with their defaults here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from rekoflow_common.custom_labels import check_training_rules, wait_until
from rekoflow_common.errors import (
    RequestValidationError,
    TrainingFailedError,
    TrainingTimeoutError,
    error_code,
    rekognition_errors,
)
from rekoflow_common.options import CUSTOM_TRAINING_DEFAULTS
from rekoflow_common.schema import validate_definition

_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
_FAILED = {"CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED"}


def ensure_project(rekognition: Any, name: str) -> tuple[str, list[dict[str, Any]], bool]:
    """(project ARN, its datasets, created now?)."""
    with rekognition_errors("DescribeProjects"):
        found = rekognition.describe_projects(ProjectNames=[name]).get("ProjectDescriptions", [])
    if found:
        return found[0]["ProjectArn"], found[0].get("Datasets", []), False
    with rekognition_errors("CreateProject"):
        try:
            return rekognition.create_project(ProjectName=name)["ProjectArn"], [], True
        except ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
    # Created meanwhile (a retried step): use it.
    return ensure_project(rekognition, name)[0:2] + (False,)


def _manifest_source(manifest: Mapping[str, str]) -> dict[str, Any]:
    s3 = {"Bucket": manifest["bucket"], "Name": manifest["key"]}
    if manifest.get("versionId"):
        s3["Version"] = manifest["versionId"]
    return {"GroundTruthManifest": {"S3Object": s3}}


def _describe(rekognition: Any, arn: str) -> dict[str, Any]:
    with rekognition_errors("DescribeDataset"):
        return rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]


def _wait_for(rekognition: Any, arns: dict[str, str], remaining_s: Callable[[], float]) -> dict[str, dict[str, Any]]:
    def check() -> dict[str, dict[str, Any]]:
        return {kind: _describe(rekognition, arn) for kind, arn in arns.items()}

    def done(described: dict[str, dict[str, Any]]) -> bool:
        return all(d["Status"] in _DONE | _FAILED for d in described.values())

    described = wait_until(check, done, remaining_s)
    for kind, d in described.items():
        if d["Status"] in _FAILED:
            raise TrainingFailedError(
                f"the {kind} dataset could not be created: {d['Status']}: {d.get('StatusMessage', '')}"
            )
        if d["Status"] not in _DONE:
            raise TrainingTimeoutError(f"the {kind} dataset was still {d['Status']} when the function ran out of time")
    return described


def training_request(event: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(request id, training options with defaults) from the training machine's input."""
    request = event.get("request") or {}
    if not isinstance(request, Mapping) or "training" not in request:
        raise RequestValidationError(
            "the training input needs training: {projectName, versionName, trainingManifest, ...} "
            "(options.custom.training of the request schema)"
        )
    validate_definition("customTraining", request["training"], "training")
    check_training_rules(request["training"], "training")
    training = {**CUSTOM_TRAINING_DEFAULTS, **request["training"]}
    request_id = request.get("requestId") or event.get("executionName") or ""
    return str(request_id), training


def prepare(rekognition: Any, event: Mapping[str, Any], remaining_s: Callable[[], float]) -> dict[str, Any]:
    request_id, training = training_request(event)
    project_arn, existing, created = ensure_project(rekognition, training["projectName"])
    for dataset in existing:
        with rekognition_errors("DeleteDataset"):
            rekognition.delete_dataset(DatasetArn=dataset["DatasetArn"])
    if existing:
        wait_until(
            lambda: ensure_project(rekognition, training["projectName"])[1],
            lambda datasets: not datasets,
            remaining_s,
        )
    arns: dict[str, str] = {}
    with rekognition_errors("CreateDataset"):
        arns["TRAIN"] = rekognition.create_dataset(
            ProjectArn=project_arn, DatasetType="TRAIN", DatasetSource=_manifest_source(training["trainingManifest"])
        )["DatasetArn"]
        if training.get("testManifest"):
            arns["TEST"] = rekognition.create_dataset(
                ProjectArn=project_arn, DatasetType="TEST", DatasetSource=_manifest_source(training["testManifest"])
            )["DatasetArn"]
        else:
            arns["TEST"] = rekognition.create_dataset(ProjectArn=project_arn, DatasetType="TEST")["DatasetArn"]
    _wait_for(rekognition, arns, remaining_s)
    split = "testManifest" if training.get("testManifest") else "autoSplit"
    if split == "autoSplit":
        with rekognition_errors("DistributeDatasetEntries"):
            rekognition.distribute_dataset_entries(Datasets=[{"Arn": arns["TRAIN"]}, {"Arn": arns["TEST"]}])
    described = _wait_for(rekognition, arns, remaining_s)
    stats = {kind: d.get("DatasetStats", {}) for kind, d in described.items()}
    return {
        "requestId": request_id,
        "training": training,
        "projectArn": project_arn,
        "projectCreated": created,
        "datasets": {"train": arns["TRAIN"], "test": arns["TEST"]},
        "split": split,
        "trainingImages": int(stats["TRAIN"].get("LabeledEntries", 0)),
        "testImages": int(stats["TEST"].get("LabeledEntries", 0)),
        "labels": int(stats["TRAIN"].get("TotalLabels", 0)),
    }
