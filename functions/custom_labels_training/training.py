"""Start Custom Labels training: CreateProjectVersion on the project's datasets.

Rekognition writes the evaluation (per-label precision, recall, F1, the summary file) under
``OutputConfig``: the results bucket, ``<outputPrefix><project>/<version>/``. The state machine then
polls DescribeProjectVersions until training ends (design decision 8).
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError

from rekoflow_common.config import ResultsLocation
from rekoflow_common.custom_labels import error_code
from rekoflow_common.errors import RekognitionRequestError, rekognition_errors

DEFAULT_OUTPUT_PREFIX = "custom-labels/"


def output_prefix(training: Mapping[str, Any]) -> str:
    prefix = training.get("outputPrefix") or DEFAULT_OUTPUT_PREFIX
    if not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{training['projectName']}/{training['versionName']}/"


def start_training(rekognition: Any, results: ResultsLocation, event: Mapping[str, Any]) -> dict[str, Any]:
    training = event["training"]
    prefix = output_prefix(training)
    with rekognition_errors("CreateProjectVersion"):
        try:
            arn = rekognition.create_project_version(
                ProjectArn=event["projectArn"],
                VersionName=training["versionName"],
                OutputConfig={"S3Bucket": results.bucket, "S3KeyPrefix": prefix},
                VersionDescription=f"rekoflow request {event.get('requestId', '')}".strip()[:255],
            )["ProjectVersionArn"]
        except ClientError as error:
            if error_code(error) == "ResourceInUseException":
                raise RekognitionRequestError(
                    f"CreateProjectVersion: project {training['projectName']!r} already has a version named "
                    f"{training['versionName']!r}; choose a new versionName"
                ) from error
            raise
    return {
        "projectVersionArn": arn,
        "projectArn": event["projectArn"],
        "status": "TRAINING_IN_PROGRESS",
        "output": {"bucket": results.bucket, "prefix": prefix},
    }
