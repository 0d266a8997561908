"""An image uploaded under the trigger prefix starts one analysis (docs/architecture.md, ADR-16).

S3 sends "Object Created" to EventBridge; a rule passes the event here. The execution's name, which
is also the request id and the record's key, is derived from the bucket, key and version of the
object, so a duplicate event (EventBridge delivers at least once) finds the execution already
there and analyses nothing twice. A new version of the same key is a new analysis.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from rekoflow_common.schema import request_schema

NAME_PREFIX = "upload-"


class UploadEventError(ValueError):
    """The event is not an S3 "Object Created" event (the rule or the caller is misconfigured)."""


@dataclass(frozen=True)
class TriggerSettings:
    state_machine_arn: str
    analyses: tuple[str, ...]


def parse_analyses(text: str) -> tuple[str, ...]:
    """``labels,faces`` -> ("labels", "faces"); only analyses that need nothing but the image."""
    chosen = tuple(a.strip() for a in text.split(",") if a.strip())
    declared = request_schema()["properties"]["analyses"]["items"]["enum"]
    allowed = [a for a in declared if a not in ("compare", "custom")]
    unknown = [a for a in chosen if a not in allowed]
    if not chosen or unknown:
        raise ValueError(f"TRIGGER_ANALYSES must be a comma-separated subset of {', '.join(allowed)}, got {text!r}")
    return chosen


def uploaded_object(event: dict[str, Any]) -> dict[str, str]:
    """Bucket, key and version of the object an S3 EventBridge event describes."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or event.get("source") != "aws.s3" or event.get("detail-type") != "Object Created":
        raise UploadEventError(
            f"not an S3 Object Created event: source={event.get('source')!r}, detail-type={event.get('detail-type')!r}"
        )
    try:
        image = {"bucket": detail["bucket"]["name"], "key": detail["object"]["key"]}
    except (KeyError, TypeError) as error:
        raise UploadEventError(f"the S3 event has no {error} in its detail") from error
    version = detail["object"].get("version-id")
    if version and version != "null":
        image["versionId"] = version
    return image


def execution_name(image: dict[str, str]) -> str:
    """``upload-<sha256 of bucket, key and version>``: the same upload, the same name (at most 80 characters)."""
    identity = json.dumps([image["bucket"], image["key"], image.get("versionId", "")])
    return NAME_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:40]


def start_analysis(sfn: Any, event: dict[str, Any], settings: TriggerSettings) -> dict[str, Any]:
    """Start the analysis of the uploaded image, once; what was done."""
    image = uploaded_object(event)
    name = execution_name(image)
    request = {"requestId": name, "image": image, "analyses": list(settings.analyses)}
    try:
        started = sfn.start_execution(stateMachineArn=settings.state_machine_arn, name=name, input=json.dumps(request))
    except sfn.exceptions.ExecutionAlreadyExists:
        return {
            "requestId": name,
            "image": image,
            "started": False,
            "reason": "already analysed or running (duplicate event)",
        }
    return {"requestId": name, "image": image, "started": True, "executionArn": started["executionArn"]}


def record_upload(logger: Any, metrics: Any, outcome: dict[str, Any]) -> dict[str, Any]:
    """A started analysis or a duplicate event, counted and logged."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(
        name="UploadsStarted" if outcome["started"] else "UploadsDuplicate", unit=MetricUnit.Count, value=1
    )
    logger.info("upload trigger", extra=outcome)
    return outcome
