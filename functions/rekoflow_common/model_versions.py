"""Custom Labels model lifecycle: describe a version, start it, stop it. Each is its own Lambda
(describe_model_version, start_model_version, stop_model_version) and one step of the state
machine's poll loops (docs/architecture.md, ADR-8): nothing here waits.

Stopping is idempotent: a version that is not running is left as it is, so the state machine can
call "stop" on every path (success and failure) without knowing how far the model got.
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError

from rekoflow_common.custom_labels import error_code, parse_version_arn
from rekoflow_common.errors import ModelNotReadyError, RekognitionRequestError, RequestValidationError, rekognition_errors

# Statuses in which the model bills inference hours, or is about to.
RUNNING_STATUSES = frozenset({"STARTING", "RUNNING"})


def describe(rekognition: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """The version's status and evaluation, compact, for the state machine's Choice states."""
    try:
        ref = parse_version_arn(event["projectVersionArn"])
    except ValueError as error:
        raise RequestValidationError(str(error)) from error
    project_arn = event.get("projectArn") or _project_arn(rekognition, ref.project, ref.arn)
    with rekognition_errors("DescribeProjectVersions"):
        versions = rekognition.describe_project_versions(ProjectArn=project_arn, VersionNames=[ref.version])
    found = next((v for v in versions.get("ProjectVersionDescriptions", []) if v["ProjectVersionArn"] == ref.arn), None)
    if found is None:
        raise RekognitionRequestError(f"DescribeProjectVersions: the model version {ref.arn} does not exist")
    evaluation = found.get("EvaluationResult") or {}
    summary = (evaluation.get("Summary") or {}).get("S3Object")
    return {
        "projectVersionArn": ref.arn,
        "projectArn": project_arn,
        "status": found["Status"],
        "statusMessage": found.get("StatusMessage", ""),
        # 0 when there is no evaluation yet, so Choice states can always compare it.
        "f1Score": float(evaluation.get("F1Score", 0.0)),
        "evaluated": "F1Score" in evaluation,
        "evaluationSummary": {"bucket": summary["Bucket"], "key": summary["Name"]} if summary else None,
        "billableTrainingSeconds": int(found.get("BillableTrainingTimeInSeconds", 0)),
        "minInferenceUnits": int(found.get("MinInferenceUnits", 0)),
    }


def _project_arn(rekognition: Any, project: str, version_arn: str) -> str:
    with rekognition_errors("DescribeProjects"):
        projects = rekognition.describe_projects(ProjectNames=[project]).get("ProjectDescriptions", [])
    if not projects:
        raise RekognitionRequestError(f"DescribeProjects: the project {project!r} of {version_arn} does not exist")
    return projects[0]["ProjectArn"]


def start(rekognition: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """StartProjectVersion; a model already starting or running is not an error (a retried step)."""
    arn = event["projectVersionArn"]
    units = int(event.get("minInferenceUnits") or 1)
    with rekognition_errors("StartProjectVersion"):
        try:
            status = rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=units)["Status"]
        except ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
            current = describe(rekognition, event)
            if current["status"] not in RUNNING_STATUSES:
                raise ModelNotReadyError(
                    f"StartProjectVersion: the model can't be started while it is {current['status']}: {current['statusMessage']}"
                ) from error
            status = current["status"]
    return {"projectVersionArn": arn, "status": status, "minInferenceUnits": units}


def stop(rekognition: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """StopProjectVersion when the model is starting or running; otherwise nothing to do."""
    current = describe(rekognition, event)
    if current["status"] not in RUNNING_STATUSES:
        return {"projectVersionArn": current["projectVersionArn"], "status": current["status"], "stopRequested": False}
    with rekognition_errors("StopProjectVersion"):
        try:
            status = rekognition.stop_project_version(ProjectVersionArn=current["projectVersionArn"])["Status"]
        except ClientError as error:
            if error_code(error) == "ResourceInUseException":
                # Rekognition may refuse to stop a model that is still starting: retried by the state machine.
                raise ModelNotReadyError(
                    f"StopProjectVersion: the model is {current['status']} and can't be stopped yet; retrying"
                ) from error
            raise
    return {"projectVersionArn": current["projectVersionArn"], "status": status, "stopRequested": True}
