"""The local console's server side: its static page and the views the page reads (docs/architecture.md, ADR-17).

The page (``rekoflow/console/static``, no build step) uploads through ``POST /uploads`` and the
presigned POST, starts analyses and reads records through the REST API, signed with the local
credentials, as any client of the deployed API would. What only the console shows comes from here:
the recent executions (newest first, batches marked, batch children left out), one execution's
path (the state machine graph with states coloured by outcome, as SVG, and its event list, from
the Step Functions API), and an image's bytes for drawing its boxes.
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from rekoflow.records import batch_record_key

STATIC = "console/static"
CHILD_MARKER = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


def static_file(name: str) -> tuple[bytes, str] | None:
    """A file of the page, or None (names are plain file names: no paths out of the folder)."""
    name = name or "index.html"
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = resources.files("rekoflow").joinpath(STATIC, name)
    if not path.is_file():
        return None
    return path.read_bytes(), mimetypes.guess_type(name)[0] or "application/octet-stream"


def recent_executions(stack: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The newest executions people started (a batch's children are under their batch)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from rekoflow.local.stack import ACCOUNT_ID, REGION

    backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    templates = {arn: template for template, arn in stack.state_machines.items()}
    found = []
    for machine in backend.state_machines:
        template = templates.get(machine.arn)
        if template is None:
            continue
        for execution in list(machine.executions):
            if CHILD_MARKER in str(getattr(execution, "execution_input", "")):
                continue
            found.append(
                {
                    "name": execution.name,
                    "executionArn": execution.execution_arn,
                    "stateMachine": template,
                    "kind": "batch" if template == "batch_analysis" else "analysis",
                    "status": execution.status,
                    "startDate": _iso(execution.start_date),
                    "stopDate": _iso(execution.stop_date),
                }
            )
    found.sort(key=lambda e: e["startDate"] or "", reverse=True)
    return found[:limit]


def execution_view(stack: Any, arn: str) -> dict[str, Any]:
    """One execution as the console draws it: summary, rows, events, the graph as SVG."""
    from rekoflow import trace as tracing

    sfn = stack.client("stepfunctions")
    trace = tracing.from_api(arn, sfn, batch_record=lambda batch_id: _batch_record(stack, batch_id))
    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn, PaginationConfig={"PageSize": 1000}
    ):
        for event in page["events"]:
            details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
            events.append(
                {
                    "id": event["id"],
                    "type": event["type"],
                    "offsetSeconds": round((event["timestamp"] - trace.started).total_seconds(), 3),
                    "state": details.get("name", ""),
                    "error": details.get("error", ""),
                    "cause": tracing._short(details.get("cause"), 300) if details.get("cause") else "",
                }
            )
    try:
        svg = tracing.build_graph(trace).pipe(format="svg").decode("utf-8")
    except Exception:  # noqa: BLE001 - no dot binary: the page shows the event list alone
        svg = None
    return {
        "name": trace.name,
        "executionArn": trace.arn,
        "stateMachine": trace.state_machine,
        "status": trace.status,
        "error": trace.error,
        "cause": trace.cause,
        "startDate": _iso(trace.started),
        "stopDate": _iso(trace.stopped),
        "input": trace.input,
        "states": [
            {
                "name": r.name,
                "type": r.type,
                "iteration": r.context,
                "retries": r.retries,
                "error": r.error or "",
                "failed": r.failed,
                "durationSeconds": (r.ended - r.entered).total_seconds() if r.ended else None,
            }
            for r in trace.rows
        ],
        "failedStates": sorted(trace.failed_states),
        "visitedStates": sorted(trace.visited),
        "events": events,
        "batch": trace.batch,
        "graphSvg": svg,
    }


def _batch_record(stack: Any, batch_id: str) -> dict[str, Any] | None:
    from rekoflow.local.client import decode_record

    item = (
        stack.client("dynamodb")
        .get_item(TableName=stack.config.table_name, Key={"pk": {"S": batch_record_key(batch_id)}})
        .get("Item")
    )
    return decode_record(item) if item else None


def image_bytes(stack: Any, query: str) -> tuple[bytes, str]:
    params = {k: v[-1] for k, v in parse_qs(query).items()}
    arguments = {"Bucket": params["bucket"], "Key": params["key"]}
    if params.get("versionId"):
        arguments["VersionId"] = params["versionId"]
    answer = stack.client("s3").get_object(**arguments)
    return answer["Body"].read(), answer.get("ContentType") or "application/octet-stream"


def config(stack: Any) -> dict[str, Any]:
    """What the page needs: where the API is (a path: the page calls it on its own origin) and how to sign."""
    from rekoflow.local.stack import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

    api_path = stack.api_url.split("://", 1)[1].split("/", 1)[1] if stack.api_url else None
    return {
        "apiPath": "/" + api_path if api_path else None,
        "region": REGION,
        "credentials": {"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": SECRET_ACCESS_KEY},
        "imagesBucket": stack.config.images_bucket,
        "triggerPrefix": stack.config.trigger_prefix,
        "analyses": ["labels", "faces", "text", "moderation"],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None
