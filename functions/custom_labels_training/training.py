"""Start Custom Labels training: CreateProjectVersion on the project's datasets.

Rekognition writes the evaluation (per-label precision, recall, F1, the summary file) under
``OutputConfig``: the results bucket, ``<outputPrefix><project>/<version>/``. The state machine then
polls DescribeProjectVersions until training ends (docs/architecture.md, ADR-8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from rekoflow_common.config import ResultsLocation
from rekoflow_common.errors import RekognitionRequestError, error_code, rekognition_errors

DEFAULT_OUTPUT_PREFIX = "custom-labels/"


def output_prefix(training: Mapping[str, Any]) -> str:
    prefix = training.get("outputPrefix") or DEFAULT_OUTPUT_PREFIX
    if not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{training['projectName']}/{training['versionName']}/"


def version_description(event: Mapping[str, Any]) -> str:
    """The description that marks a version as this request's (how a retry recognises its own)."""
    return f"rekoflow request {event.get('requestId', '')}".strip()[:255]


def _version_started_by(rekognition: Any, event: Mapping[str, Any], description: str) -> str | None:
    """The ARN of the version with this name if this very request created it, else None."""
    if not event.get("requestId"):
        return None
    versions = rekognition.describe_project_versions(
        ProjectArn=event["projectArn"], VersionNames=[event["training"]["versionName"]]
    ).get("ProjectVersionDescriptions", [])
    for version in versions:
        if version.get("VersionDescription") == description:
            return version["ProjectVersionArn"]
    return None


def start_training(rekognition: Any, results: ResultsLocation, event: Mapping[str, Any]) -> dict[str, Any]:
    training = event["training"]
    prefix = output_prefix(training)
    description = version_description(event)
    with rekognition_errors("CreateProjectVersion"):
        try:
            arn = rekognition.create_project_version(
                ProjectArn=event["projectArn"],
                VersionName=training["versionName"],
                OutputConfig={"S3Bucket": results.bucket, "S3KeyPrefix": prefix},
                VersionDescription=description,
            )["ProjectVersionArn"]
        except ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
            # A Retry of this state after CreateProjectVersion succeeded but the Lambda did not
            # (timeout, throttled response) finds the version it created: carry on polling it.
            arn = _version_started_by(rekognition, event, description)
            if arn is None:
                raise RekognitionRequestError(
                    f"CreateProjectVersion: project {training['projectName']!r} already has a version named "
                    f"{training['versionName']!r}; choose a new versionName"
                ) from error
    return {
        "projectVersionArn": arn,
        "projectArn": event["projectArn"],
        "status": "TRAINING_IN_PROGRESS",
        "output": {"bucket": results.bucket, "prefix": prefix},
    }
