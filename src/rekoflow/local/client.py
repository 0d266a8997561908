"""A client of the local stack: what the workflow commands and the tests use to run the workflow.

Plain boto3 against the stack's endpoint, plus two calls of the stack's own API (its status, and
waiting for an execution without polling). It imports no moto; any other AWS client works the same.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rekoflow.local import process
from rekoflow.records import TERMINAL_STATUSES

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


class StackRequestError(RuntimeError):
    """The stack refused a request (a one-line reason)."""


@dataclass
class ExecutionResult:
    name: str
    arn: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    started: float = 0.0
    duration_s: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def new_request_id() -> str:
    return time.strftime("req-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


def decode_record(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB record as plain Python, with its JSON-string attributes parsed."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    record = {key: deserializer.deserialize(value) for key, value in item.items()}
    for key in ("image", "results", "resultKeys", "request", "summary", "billing", "skippedReasons", "failures"):
        if isinstance(record.get(key), str):
            with contextlib.suppress(ValueError):
                record[key] = json.loads(record[key])
    for key, value in list(record.items()):
        if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
            record[key] = int(value) if value == int(value) else float(value)
    return record


class StackClient:
    """The local stack at ``status['endpoint']``, with its resources' names from its status."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        self.endpoint: str = status["endpoint"]
        resources = status.get("resources") or {}
        self.images_bucket: str = resources.get("imagesBucket", "")
        self.results_bucket: str = resources.get("resultsBucket", "")
        self.table_name: str = resources.get("table", "")
        self.state_machines: dict[str, str] = dict(resources.get("stateMachines") or {})
        self.region: str = status.get("region", "us-east-1")
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._session: Any = None

    @classmethod
    def connect(cls, state_dir: Path | None = None, announce: Any = None) -> StackClient:
        """The stack for ``state_dir`` (default ``$REKOFLOW_HOME`` or ``./.rekoflow``), started if none runs."""
        return cls(process.ensure_stack(state_dir or process.default_state_dir(), announce=announce))

    # ----- clients -----------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        with self._clients_lock:  # a boto3 session makes one client at a time
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                # One session for every client: it loads botocore's data files once.
                self._session = self._session or boto3.session.Session()
                credentials = self.status.get("credentials") or {}
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.endpoint,
                    region_name=self.region,
                    aws_access_key_id=credentials.get("accessKeyId", "testing"),
                    aws_secret_access_key=credentials.get("secretAccessKey", "testing"),
                    config=Config(
                        retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=5, read_timeout=90
                    ),
                )
            return self._clients[service]

    def prepare(self, *services: str) -> Any:
        """Make these clients in a background thread (while this one waits on the stack); join the result."""
        import threading

        thread = threading.Thread(
            target=lambda: [self.client(service) for service in services], name="rekoflow-clients", daemon=True
        )
        thread.start()
        return thread

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    # ----- the workflow ---------------------------------------------------------------------------------
    def upload(self, path: Path | str, key: str | None = None, bucket: str | None = None) -> dict[str, str]:
        path = Path(path)
        bucket = bucket or self.images_bucket
        key = key or f"uploads/{path.name}"
        content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        self.put_object(bucket, key, path.read_bytes(), content_type)
        return {"bucket": bucket, "key": key}

    def put_bytes(self, data: bytes, key: str, bucket: str | None = None) -> dict[str, str]:
        bucket = bucket or self.images_bucket
        self.put_object(bucket, key, data)
        return {"bucket": bucket, "key": key}

    def put_object(self, bucket: str, key: str, body: bytes, content_type: str = "binary/octet-stream") -> str | None:
        """S3 PutObject, signed with botocore's SigV4 signer; returns the new version id.

        Not through a boto3 S3 client: loading S3's service model takes ~0.2 s, more than a command
        that uploads one photo spends on anything else of its own (``rekoflow analyze``).
        """
        import urllib.error
        import urllib.request
        from urllib.parse import quote

        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        credentials = self.status.get("credentials") or {}
        request = AWSRequest(
            "PUT",
            f"{self.endpoint}/{quote(bucket)}/{quote(key, safe='/~')}",
            data=body,
            headers={"Content-Type": content_type},
        )
        S3SigV4Auth(
            Credentials(credentials.get("accessKeyId", "testing"), credentials.get("secretAccessKey", "testing")),
            "s3",
            self.region,
        ).add_auth(request)
        prepared = request.prepare()
        try:
            with urllib.request.urlopen(  # noqa: S310 - the stack's http endpoint
                urllib.request.Request(prepared.url, data=body, method="PUT", headers=dict(prepared.headers)),
                timeout=90,
            ) as response:
                return response.headers.get("x-amz-version-id")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            code = detail.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in detail else f"HTTP {error.code}"
            raise StackRequestError(f"cannot upload to s3://{bucket}/{key}: {code}") from None

    def start_execution(self, template: str, payload: dict[str, Any], name: str) -> str:
        """Start ``template`` as ``name``; the ARN. The name is the idempotency key: the same input under
        a name already used gives that execution (running or ended); another input is refused."""
        from botocore.exceptions import ClientError

        machine = self.state_machines[template]
        try:
            # allow_nan=False: JSON has no NaN/Infinity (Step Functions refuses them; Python would write them).
            return self.sfn.start_execution(
                stateMachineArn=machine, name=name, input=json.dumps(payload, allow_nan=False)
            )["executionArn"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code != "ExecutionAlreadyExists":
                message = error.response.get("Error", {}).get("Message", str(error))
                raise StackRequestError(f"cannot start {name}: {code}: {message}") from None
        # Step Functions answers ExecutionAlreadyExists for an ended execution even with the same input.
        arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
        earlier = self.sfn.describe_execution(executionArn=arn)
        if json.loads(earlier.get("input") or "null") != payload:
            raise StackRequestError(
                f"{name} already names an execution with another input ({earlier['status']}, started "
                f"{earlier['startDate']:%Y-%m-%d %H:%M:%S}): give another id, or the same request to see its result"
            )
        return arn

    def start_analysis(self, request: dict[str, Any]) -> str:
        """Start one execution; its name is the request id (generated when absent) for idempotency."""
        request.setdefault("requestId", new_request_id())
        return self.start_execution("image_analysis", request, request["requestId"])

    def wait(self, arn: str, timeout_s: float = 300.0) -> ExecutionResult:
        """Wait for the execution to end (the stack answers when it does); stop it after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            described = process.admin(
                self.endpoint,
                "wait",
                {"executionArn": arn, "timeoutSeconds": max(0.0, min(remaining, 20.0))},
                timeout=30,
            )
            if described["status"] in TERMINAL_STATUSES or remaining <= 0:
                break
        return _result(arn, described)

    def describe(self, arn: str) -> ExecutionResult:
        described = self.sfn.describe_execution(executionArn=arn)
        return _result(arn, json.loads(json.dumps(described, default=str)))

    def analyze(self, request: dict[str, Any], timeout_s: float = 300.0) -> ExecutionResult:
        return self.wait(self.start_analysis(request), timeout_s)

    def history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for page in self.sfn.get_paginator("get_execution_history").paginate(
            executionArn=arn, PaginationConfig={"PageSize": 1000}
        ):
            events.extend(page["events"])
        return events

    def get_record(self, pk: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=self.table_name, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
        return decode_record(item) if item else None

    def read_result(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.results_bucket, Key=key)["Body"].read())

    def query_batch(self, batch_id: str) -> list[dict[str, Any]]:
        """Every record of a batch run (its images' ANALYSIS records and its BATCH summary)."""
        records: list[dict[str, Any]] = []
        for page in self.dynamodb.get_paginator("query").paginate(
            TableName=self.table_name,
            IndexName="batch-index",
            KeyConditionExpression="batchId = :b",
            ExpressionAttributeValues={":b": {"S": batch_id}},
        ):
            records.extend(decode_record(item) for item in page.get("Items", []))
        return records

    def event_sequence(self) -> int:
        """The stack's latest execution-event number (follow from here to see only what ends later)."""
        return int(process.admin(self.endpoint, "events?after=latest")["sequence"])

    def ended_executions(
        self, prefix: str = "", after: int = 0, timeout_s: float = 1.0
    ) -> Iterator[list[dict[str, Any]]]:
        """Batches of executions that ended (names starting with ``prefix``), as the stack reports them."""
        sequence = after
        while True:
            answer = process.admin(
                self.endpoint, f"events?after={sequence}&prefix={prefix}&timeout={timeout_s}", timeout=timeout_s + 30
            )
            events = answer["events"]
            if events:
                sequence = max(e["sequence"] for e in events)
            yield events


def _result(arn: str, described: dict[str, Any]) -> ExecutionResult:
    from datetime import datetime

    def seconds(value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return float(value)
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()

    started = seconds(described.get("startDate")) or 0.0
    stopped = seconds(described.get("stopDate"))
    output = described.get("output")
    return ExecutionResult(
        name=described.get("name", arn.rsplit(":", 1)[-1]),
        arn=arn,
        status=described["status"],
        output=json.loads(output) if isinstance(output, str) and output else output,
        error=described.get("error"),
        cause=described.get("cause"),
        started=started,
        duration_s=(stopped - started) if stopped else 0.0,
    )
