"""The offline runtime: the real ASL and the real handlers, with AWS emulated on this machine.

- moto's Step Functions interpreter executes the state machines rendered from ``statemachines/``;
- Lambda tasks run the handlers from ``functions/`` in-process (``moto_patches``), each with the
  environment the deployed function gets (from ``functions/manifest.json``);
- S3 and DynamoDB are moto's; Rekognition is whatever endpoint is configured: the local engine by
  default, a test double in some tests. Handlers see only configuration (design decision 9).

moto keeps everything in memory, so the runtime saves the buckets, the table and every execution's
history under a state directory (``.rekoflow/`` by default) when it closes and restores them when it
opens: the cache, ``rekoflow trace --last`` and repeated batch runs work across commands.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import shutil
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import boto3
from boto3.dynamodb.types import TypeDeserializer

from rekoflow import asl
from rekoflow.local import declarations, moto_patches
from rekoflow.paths import functions_dir, manifest_path, statemachines_dir

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass
class LocalConfig:
    name_prefix: str = "rekoflow-local"
    # Rekognition endpoint for the handlers; None starts the local engine in this process.
    rekognition_endpoint: str | None = None
    # Step Functions Retry waits are multiplied by this (1.0 = as written in the ASL).
    retry_time_scale: float = 1.0
    # Where buckets, table and executions are saved between commands; None keeps nothing.
    state_dir: Path | None = None
    log_level: str = "INFO"
    extra_function_environment: dict[str, str] = field(default_factory=dict)

    @property
    def images_bucket(self) -> str:
        return f"{self.name_prefix}-images"

    @property
    def results_bucket(self) -> str:
        return f"{self.name_prefix}-results"

    @property
    def table_name(self) -> str:
        return f"{self.name_prefix}-results"

    def function_name(self, name: str) -> str:
        return f"{self.name_prefix}-{name.replace('_', '-')}"

    def state_machine_name(self, template: str) -> str:
        return f"{self.name_prefix}-{template.replace('_', '-')}"


def default_state_dir() -> Path:
    return Path(os.environ.get("REKOFLOW_HOME", ".rekoflow")).resolve()


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


def load_manifest() -> dict[str, dict[str, Any]]:
    return json.loads(manifest_path().read_text())["functions"]


def function_environment(config: LocalConfig, name: str, spec: dict[str, Any]) -> dict[str, str]:
    """The environment Terraform gives the deployed function, from the same declaration, with local names."""
    values = {
        **declarations.LOCAL_SETTINGS,
        "service_name": config.name_prefix,
        "log_level": config.log_level,
        "results_bucket": config.results_bucket,
        "images_bucket": config.images_bucket,
        "table_name": config.table_name,
    }
    # Overrides (e.g. one Rekognition attempt in tests) win over the declared values.
    return {**declarations.function_environment(spec, values), **config.extra_function_environment}


class LocalRuntime:
    """Context manager: ``with LocalRuntime(config) as rt: rt.analyze({...})``."""

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        self.functions: dict[str, str] = {}
        self.state_machines: dict[str, str] = {}
        self.engine: Any = None
        self.lambda_runtime: moto_patches.InProcessLambdaRuntime | None = None
        self._undo: list[Callable[[], None]] = []
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._clients: dict[str, Any] = {}
        self.manifest = load_manifest()

    # ----- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "LocalRuntime":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> None:
        from moto import mock_aws

        # moto's interpreter logs every state error it handles (Catch paths included) at ERROR level;
        # the execution history and the failure record already say what went wrong.
        logging.getLogger("moto").setLevel(logging.CRITICAL)

        moto_patches.check_moto_version()
        for key, value in FAKE_CREDENTIALS.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        try:
            endpoint = self.config.rekognition_endpoint or self._start_engine()
            base_env = {
                **FAKE_CREDENTIALS,
                "AWS_ENDPOINT_URL_REKOGNITION": endpoint,
                # No X-Ray daemon runs locally; Powertools' tracer would only warn about it.
                "POWERTOOLS_TRACE_DISABLED": "true",
                **self.config.extra_function_environment,
            }
            self.lambda_runtime = moto_patches.InProcessLambdaRuntime(functions_dir(), base_env)
            self._undo.append(moto_patches.install_in_process_lambda(self.lambda_runtime))
            # Batch runs: child executions (states:startExecution.sync:2) and Distributed Map fidelity.
            self._undo.append(moto_patches.install_nested_executions())
            self._undo.append(moto_patches.install_distributed_map_fidelity())
            self._undo.append(moto_patches.install_parse_cache())
            if self.config.retry_time_scale != 1.0:
                self._undo.append(moto_patches.scale_retry_waits(self.config.retry_time_scale))
            self._create_resources()
            if self.config.state_dir:
                self._restore_state(Path(self.config.state_dir))
        except BaseException:
            self.close(save=False)
            raise

    def close(self, save: bool = True) -> None:
        try:
            if save and self.config.state_dir and self._mock is not None:
                self._save_state(Path(self.config.state_dir))
        finally:
            while self._undo:
                self._undo.pop()()
            if self.engine is not None:
                self.engine.stop()
                self.engine = None
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            self._clients.clear()
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env.clear()

    def _start_engine(self) -> str:
        from rekoflow.engine import EngineServer

        # Custom Labels projects and trained models persist with the rest of the local state.
        state_dir = Path(self.config.state_dir) / "engine" if self.config.state_dir else None
        self.engine = EngineServer(host="127.0.0.1", port=0, state_dir=state_dir).start()
        return self.engine.url

    # ----- clients ---------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        # Clients are cached: creating one costs ~10 ms, and wait() polls in a loop.
        if service not in self._clients:
            # Created under the invocation lock: creating a client reads the whole environment,
            # which in-process invocations change (see moto_patches.install_in_process_lambda).
            with moto_patches.INVOKE_LOCK:
                self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    # ----- resources -------------------------------------------------------------------------
    def _create_resources(self) -> None:
        cfg = self.config
        s3 = self.s3
        for bucket in (cfg.images_bucket, cfg.results_bucket):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self._create_table()
        iam = self.client("iam")
        role_arn = iam.create_role(
            RoleName=f"{cfg.name_prefix}-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = self.client("lambda")
        placeholder_zip = _placeholder_zip()
        for name, spec in self.manifest.items():
            self.functions[name] = lam.create_function(
                FunctionName=cfg.function_name(name),
                Runtime="python3.11",
                Role=role_arn,
                Handler=spec["handler"],
                Description=spec.get("description", "")[:256],
                Timeout=int(spec.get("timeout_s", 60)),
                MemorySize=int(spec.get("memory_mb", 256)),
                Code={"ZipFile": placeholder_zip},
                Environment={"Variables": function_environment(cfg, name, spec)},
            )["FunctionArn"]
        variables = self.template_variables()
        templates = sorted(p.name.removesuffix(".asl.json") for p in statemachines_dir().glob("*.asl.json"))
        # The image-analysis machine first: the others start it and need its ARN.
        templates.sort(key=lambda t: t != "image_analysis")
        sfn = self.sfn
        for template in templates:
            definition = asl.render_file(template, variables)
            arn = sfn.create_state_machine(
                name=cfg.state_machine_name(template),
                definition=json.dumps(definition),
                roleArn=role_arn,
                type="STANDARD",
            )["stateMachineArn"]
            self.state_machines[template] = arn
            variables[f"{template}_state_machine_arn"] = arn

    def template_variables(self) -> dict[str, str]:
        cfg = self.config
        variables = {f"{name}_function_arn": arn for name, arn in self.functions.items()}
        variables.update(
            {
                # The integration ARNs are arn:${partition}:states:::... (Terraform: aws_partition).
                "partition": "aws",
                "results_table_name": cfg.table_name,
                "results_bucket": cfg.results_bucket,
                "images_bucket": cfg.images_bucket,
            }
        )
        variables.update({f"{t}_state_machine_arn": arn for t, arn in self.state_machines.items()})
        return variables

    def _create_table(self) -> None:
        self.dynamodb.create_table(**declarations.create_table_request(self.config.table_name))

    # ----- working with the workflow ---------------------------------------------------------
    def upload(self, path: Path | str, key: str | None = None, bucket: str | None = None) -> dict[str, str]:
        path = Path(path)
        bucket = bucket or self.config.images_bucket
        key = key or f"uploads/{path.name}"
        content_type = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(
            path.suffix.lower(), "application/octet-stream"
        )
        self.s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type)
        return {"bucket": bucket, "key": key}

    def put_bytes(self, data: bytes, key: str, bucket: str | None = None) -> dict[str, str]:
        bucket = bucket or self.config.images_bucket
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)
        return {"bucket": bucket, "key": key}

    def start_execution(self, template: str, payload: dict[str, Any], name: str) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.state_machines[template], name=name, input=json.dumps(payload)
        )["executionArn"]

    def start_analysis(self, request: dict[str, Any]) -> str:
        """Start one execution; its name is the request id (generated when absent) for idempotency."""
        request.setdefault("requestId", new_request_id())
        return self.start_execution("image_analysis", request, request["requestId"])

    def wait(self, arn: str, timeout_s: float = 300.0, poll_s: float = 0.05) -> ExecutionResult:
        deadline = time.monotonic() + timeout_s
        sfn = self.sfn
        while True:
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] in TERMINAL_STATUSES:
                break
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=arn, error="LocalTimeout", cause=f"no result within {timeout_s:g} s")
                described = sfn.describe_execution(executionArn=arn)
                break
            time.sleep(poll_s)
        started = described["startDate"].timestamp()
        stopped = described.get("stopDate")
        return ExecutionResult(
            name=described["name"],
            arn=arn,
            status=described["status"],
            output=json.loads(described["output"]) if described.get("output") else None,
            error=described.get("error"),
            cause=described.get("cause"),
            started=started,
            duration_s=(stopped.timestamp() - started) if stopped else 0.0,
        )

    def analyze(self, request: dict[str, Any], timeout_s: float = 300.0) -> ExecutionResult:
        return self.wait(self.start_analysis(request), timeout_s)

    def history(self, arn: str) -> list[dict[str, Any]]:
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def get_record(self, request_id: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=self.config.table_name, Key={"pk": {"S": request_id}}, ConsistentRead=True).get("Item")
        return decode_record(item) if item else None

    def read_result(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.config.results_bucket, Key=key)["Body"].read())

    # ----- saving and restoring between commands ---------------------------------------------
    def _save_state(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        s3_dir = state_dir / "s3"
        s3 = self.s3
        for bucket in (self.config.images_bucket, self.config.results_bucket):
            target = s3_dir / bucket
            if target.exists():
                shutil.rmtree(target)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    path = target / obj["Key"]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
        items = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.config.table_name):
            items.extend(page["Items"])
        (state_dir / "table.json").write_text(json.dumps(items))
        self.save_executions(state_dir / "executions")

    def save_executions(self, directory: Path) -> None:
        """Write each execution's description, history and state machine definition for `rekoflow trace`."""
        directory.mkdir(parents=True, exist_ok=True)
        sfn = self.sfn
        for template, machine_arn in self.state_machines.items():
            definition = sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn):
                for summary in page["executions"]:
                    described = sfn.describe_execution(executionArn=summary["executionArn"])
                    record = {
                        "stateMachine": template,
                        "definition": json.loads(definition),
                        "execution": described,
                        "events": self.history(summary["executionArn"]),
                    }
                    path = directory / f"{described['name']}.json"
                    path.write_text(json.dumps(record, default=_json_default))

    def _restore_state(self, state_dir: Path) -> None:
        s3 = self.s3
        for bucket in (self.config.images_bucket, self.config.results_bucket):
            root = state_dir / "s3" / bucket
            if not root.is_dir():
                continue
            for path in root.rglob("*"):
                if path.is_file():
                    s3.put_object(Bucket=bucket, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())
        table_file = state_dir / "table.json"
        if table_file.is_file():
            for item in json.loads(table_file.read_text()):
                self.dynamodb.put_item(TableName=self.config.table_name, Item=item)


def decode_record(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB record as plain Python, with its JSON-string attributes parsed."""
    deserializer = TypeDeserializer()
    record = {key: deserializer.deserialize(value) for key, value in item.items()}
    for key in ("image", "results", "resultKeys", "request", "summary"):
        if isinstance(record.get(key), str):
            try:
                record[key] = json.loads(record[key])
            except ValueError:
                pass
    for key, value in list(record.items()):
        if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
            record[key] = int(value) if value == int(value) else float(value)
    return record


def new_request_id() -> str:
    return time.strftime("req-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


def _placeholder_zip() -> bytes:
    # moto needs a deployment package; the in-process runtime imports the handler from functions/.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "rekoflow local runtime: code is imported from functions/\n")
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return str(value)
