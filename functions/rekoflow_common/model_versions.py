"""Custom Labels model lifecycle: describe a version, start it, stop it when idle. Each is its own
Lambda (describe_model_version, start_model_version, stop_idle_model) and one step of a state
machine's poll loop (docs/architecture.md, ADR-8): nothing here waits.

Starting and stopping go through the model's lease item (rekoflow_common/model_leases.py,
ADR-19): one start however many requests find the model stopped, and a stop only once no lease is
held and the model has been idle for idleStopSeconds, decided on the item it is written on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from rekoflow_common import model_leases
from rekoflow_common.custom_labels import parse_version_arn
from rekoflow_common.errors import (
    ModelNotReadyError,
    RekognitionRequestError,
    RequestValidationError,
    error_code,
    rekognition_errors,
)
from rekoflow_common.model_leases import LeaseTable

# Statuses in which the model bills inference hours, or is about to.
RUNNING_STATUSES = frozenset({"STARTING", "RUNNING"})
# Statuses from which StartProjectVersion starts the model.
STARTABLE_STATUSES = frozenset({"STOPPED", "TRAINING_COMPLETED"})


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


def start(rekognition: Any, leases: LeaseTable, event: Mapping[str, Any]) -> dict[str, Any]:
    """Start the model unless another holder is starting it: claim the start, look, start it if it is stopped.

    Of many requests that found the model stopped, the one whose claim is written starts it; the
    others are refused the claim, or find it STARTING once they have it, and only wait.
    """
    arn, holder = event["projectVersionArn"], str(event["holder"])
    units = int(event.get("minInferenceUnits") or 1)
    answer = {"projectVersionArn": arn, "status": None, "started": False, "minInferenceUnits": units}
    if not leases.change(arn, lambda lease, now: model_leases.claim_start(lease, holder, now)):
        return {**answer, "reason": "another request is starting the model, or it is being stopped"}
    started = False
    try:
        status = describe(rekognition, event)["status"]
        if status in STARTABLE_STATUSES:
            status, started = _start_project_version(rekognition, event, arn, units)
    except BaseException:
        leases.change(arn, lambda lease, now: model_leases.finish_start(lease, holder, False, units))
        raise
    leases.change(arn, lambda lease, now: model_leases.finish_start(lease, holder, started, units))
    return {**answer, "status": status, "started": started, "reason": "" if started else f"the model is {status}"}


def _start_project_version(rekognition: Any, event: Mapping[str, Any], arn: str, units: int) -> tuple[str, bool]:
    """StartProjectVersion; a model already starting or running is not an error (started elsewhere)."""
    with rekognition_errors("StartProjectVersion"):
        try:
            return rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=units)["Status"], True
        except ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
            current = describe(rekognition, event)
            if current["status"] not in RUNNING_STATUSES:
                raise ModelNotReadyError(
                    "StartProjectVersion: the model can't be started "
                    f"while it is {current['status']}: {current['statusMessage']}"
                ) from error
            return current["status"], False


def stop_if_idle(rekognition: Any, leases: LeaseTable, event: Mapping[str, Any]) -> dict[str, Any]:
    """One check of the idle watcher: stop the model if no lease is held and it has idled long enough,
    else say how long to wait before looking again ("wait"), or that there is nothing to watch ("done")."""
    arn = event["projectVersionArn"]

    def decide(lease: model_leases.Lease, now: float) -> tuple[str, float, str]:
        action, seconds, why = model_leases.idle_decision(lease, now)
        if action == "wait":
            model_leases.renew_watch(lease, now, seconds)
        elif action == "stop":
            model_leases.claim_stop(lease, now)
        else:
            model_leases.end_watch(lease)
        return action, seconds, why

    action, seconds, why = leases.change(arn, decide)
    if action != "stop":
        return _watch_answer(arn, action, seconds, why, None)
    # The stop is claimed: no lease can be granted until it is released below.
    stopped, watch_ended, status = False, True, None
    try:
        status = describe(rekognition, event)["status"]
        if status == "RUNNING":
            with rekognition_errors("StopProjectVersion"):
                try:
                    status = rekognition.stop_project_version(ProjectVersionArn=arn)["Status"]
                    stopped = True
                except ClientError as error:
                    if error_code(error) != "ResourceInUseException":
                        raise
                    watch_ended = False  # it changed state meanwhile: look again
        elif status == "STARTING":
            watch_ended = False  # a holder started it and went away; AWS may refuse to stop it while it starts
    except BaseException:
        leases.change(arn, lambda lease, now: model_leases.finish_stop(lease, False, False))
        raise

    def finish(lease: model_leases.Lease, now: float) -> None:
        model_leases.finish_stop(lease, stopped, watch_ended)
        if not watch_ended:
            model_leases.renew_watch(lease, now, model_leases.STARTING_RECHECK_SECONDS)

    leases.change(arn, finish)
    if stopped:
        return _watch_answer(arn, "stopped", 0, why, status)
    if not watch_ended:
        return _watch_answer(
            arn, "wait", model_leases.STARTING_RECHECK_SECONDS, f"the model is {status}; looking again", status
        )
    return _watch_answer(arn, "done", 0, f"the model is {status}: nothing to stop", status)


def _watch_answer(arn: str, action: str, seconds: float, reason: str, status: str | None) -> dict[str, Any]:
    # Wait states take whole seconds; at least 1 so a loop never spins.
    return {
        "projectVersionArn": arn,
        "action": action,
        "waitSeconds": max(1, math.ceil(seconds)),
        "reason": reason,
        "status": status,
    }
