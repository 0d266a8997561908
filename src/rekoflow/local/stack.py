"""The local stack: one long-running server that owns the local AWS (docs/architecture.md, ADR-9, ADR-10).

One endpoint (``AWS_ENDPOINT_URL`` works for every service) answers:

- ``/_rekoflow/...``: the stack's own API (health, status, waiting for executions, shutdown);
- ``X-Amz-Target: RekognitionService.*``: the local Rekognition engine, in this process;
- everything else: moto's server (S3, DynamoDB, Step Functions with its ASL interpreter, Lambda with
  the handlers of ``functions/`` run in-process, IAM, EventBridge, Scheduler... as far as moto goes),
  patched by :mod:`rekoflow.local.patches`.

At start the stack creates its own resources from the same declarations Terraform reads
(``functions/manifest.json``, ``terraform/results_table.json``, ``statemachines/*.asl.json``), then
restores what its store kept (:mod:`rekoflow.local.store`); every later change is written as it
happens. ``rekoflow up`` runs it (``rekoflow.local.process``); tests run it in-process.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from rekoflow import __version__, asl
from rekoflow.local import declarations, patches
from rekoflow.local.incidents import IncidentRecorder
from rekoflow.paths import functions_dir, project_root, statemachines_dir

log = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
DEFAULT_PORT = 4599
# Any credentials are accepted; these are what the stack's clients and handlers use.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_DEFAULT_REGION": REGION,
}
STATUS_FILE = "stack.json"
ADMIN_PREFIX = "/_rekoflow/"
API_PATH = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
API_STAGE = "v1"  # terraform/variables.tf api_stage_name's default
_ACTIVE_LOCK = threading.Lock()
_ACTIVE: list[Stack] = []


class StackError(RuntimeError):
    """The stack cannot start or answer (a clear one-line reason)."""


@dataclass
class StackConfig:
    # Where buckets, table, executions and trained models are kept; None keeps nothing (tests).
    state_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port
    name_prefix: str = "rekoflow-local"
    # Create the stack's own resources (False: an empty stack that Terraform deploys into).
    resources: bool = True
    # Rekognition for the handlers; None serves the local engine on the stack's own endpoint.
    rekognition_endpoint: str | None = None
    # Step Functions Retry waits are multiplied by this (1.0 = as written in the ASL).
    retry_time_scale: float = 1.0
    log_level: str = "INFO"
    # Environment variables that override the declared ones for every function (e.g. in tests).
    function_environment: dict[str, str] = field(default_factory=dict)
    fsync: bool = True
    # Images created under this prefix of the images bucket start an analysis (the upload trigger).
    trigger_prefix: str = "incoming/"

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

    def setting_values(self) -> dict[str, str]:
        """The deployment settings the manifest's environment declaration names, for this stack."""
        return {
            **declarations.LOCAL_SETTINGS,
            "log_level": self.log_level,
            "results_bucket": self.results_bucket,
            "images_bucket": self.images_bucket,
            "table_name": self.table_name,
            "image_analysis_state_machine_arn": (
                f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{self.state_machine_name('image_analysis')}"
            ),
        }

    def function_environment_for(self, name: str, spec: dict[str, Any]) -> dict[str, str]:
        values = {**self.setting_values(), "function_name": self.function_name(name)}
        return {**declarations.function_environment(spec, values), **self.function_environment}


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


class Stack:
    """``with Stack(config) as stack:`` the local AWS at ``stack.endpoint`` until closed."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.endpoint = ""
        self.engine: Any = None
        self.rekognition_kind = ""
        self.runtime: patches.InProcessLambdaRuntime | None = None
        self.events = patches.ExecutionEvents()
        self.store: Any = None
        self.recorder: IncidentRecorder | None = None
        self.functions: dict[str, str] = {}
        self.state_machines: dict[str, str] = {}
        self.restored: dict[str, Any] = {}
        self.api_id: str | None = None
        self.api_executor: Any = None
        self.delivery: patches.EventDelivery | None = None
        self.started_at = 0.0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._undo: list[Callable[[], None]] = []
        self._lock_file: Any = None
        self._stopped = threading.Event()
        self._rekognition_server: Any = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._session: Any = None

    # ----- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> Stack:
        patches.check_moto_version()
        with _ACTIVE_LOCK:
            if _ACTIVE:
                raise StackError("a local stack already runs in this process (moto's services are per process)")
            _ACTIVE.append(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from rekoflow.local.malloc_arenas import limit_malloc_arenas

        started = time.perf_counter()
        cfg = self.config
        limit_malloc_arenas()  # memory flat over long runs (docs/performance.md)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto's interpreter logs each evaluation problem it then handles (a missing cache item...).
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        _reset_moto()
        if cfg.state_dir is not None:
            self._take_state_dir(Path(cfg.state_dir))
        moto_app = DomainDispatcherApplication(create_backend_app)
        self.recorder = IncidentRecorder(moto_app)
        try:
            self._server = make_server(
                cfg.host, cfg.port, self._wsgi, threaded=True, request_handler=MotoRequestHandler
            )
        except OSError as error:
            raise StackError(
                f"cannot listen on {cfg.host}:{cfg.port}: {error.strerror or error} (choose another --port)"
            ) from error
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        host = "127.0.0.1" if cfg.host in ("0.0.0.0", "") else cfg.host
        self.endpoint = f"http://{host}:{port}"
        # moto reads the port for URLs it builds itself (presigned URLs, the interpreter's fallbacks).
        os.environ["MOTO_PORT"] = str(port)
        rekognition_url = self._start_rekognition()
        base_environment = {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_REKOGNITION": rekognition_url,
            # No X-Ray daemon runs locally; Powertools' tracer would only warn about it.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        self.runtime = patches.InProcessLambdaRuntime(functions_dir(), base_environment)
        self.delivery = patches.EventDelivery(
            self._deliver, self._dead_letter, store=self.store, backoff_scale=cfg.retry_time_scale
        )
        self._undo.append(
            patches.install_stack_patches(
                self.runtime,
                self.endpoint,
                store=self.store,
                events=self.events,
                retry_time_scale=cfg.retry_time_scale,
                credentials={ACCESS_KEY_ID: SECRET_ACCESS_KEY},
                delivery=self.delivery,
                wsgi_app=self._wsgi,
            )
        )
        from rekoflow.local.apigateway.executor import ApiExecutor

        self.api_executor = ApiExecutor(
            ACCOUNT_ID,
            REGION,
            self.endpoint,
            {ACCESS_KEY_ID: SECRET_ACCESS_KEY},
            self._invoke_lambda,
            log=lambda line: log.warning("API: %s", line),
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="rekoflow-stack", daemon=True)
        self._thread.start()
        if cfg.resources:
            self._create_resources()
        if self.store is not None:
            self.restored = patches.restore(self.store, ACCOUNT_ID, REGION)
            self.store.collect_garbage()
        self.delivery.start()  # after the restore: events kept from before the last stop go out too
        self.started_at = time.time()
        self.restored["startSeconds"] = round(time.perf_counter() - started, 3)
        if cfg.state_dir is not None:
            _write_atomically(
                Path(cfg.state_dir) / STATUS_FILE, json.dumps(self.status(), indent=2, default=_json_default)
            )
        threading.Thread(target=self._warm_up, name="rekoflow-warm-up", daemon=True).start()

    def _take_state_dir(self, state_dir: Path) -> None:
        import fcntl

        from rekoflow.local import legacy
        from rekoflow.local.store import Store

        state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(state_dir / "stack.lock", "a+")  # noqa: SIM115 - held for the stack's lifetime
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            self._lock_file.close()
            self._lock_file = None
            raise StackError(f"another local stack already uses {state_dir} (`rekoflow status` shows it)") from error
        self.store = Store(state_dir, fsync=self.config.fsync)
        legacy.import_if_present(state_dir, self.store)

    def _start_rekognition(self) -> str:
        if self.config.rekognition_endpoint:
            self.rekognition_kind = f"endpoint {self.config.rekognition_endpoint}"
            return self.config.rekognition_endpoint
        try:
            from rekoflow.engine import Engine
        except ImportError as error:  # the engine extra is not installed
            from rekoflow.local.scripted_rekognition import FakeRekognition

            log.warning("local engine not importable (%s); Rekognition gives fixed scripted answers", error)
            self._rekognition_server = FakeRekognition().start()
            self.rekognition_kind = "fixed scripted answers (the engine extra is not installed)"
            return self._rekognition_server.url
        from rekoflow.local.backend_s3 import BackendS3

        state_dir = Path(self.config.state_dir) / "engine" if self.config.state_dir else None
        # The engine reads images from moto's S3 backend in this process, not through our socket.
        s3 = BackendS3(ACCOUNT_ID, lambda: self.client("s3"))
        self.engine = Engine(s3_client_factory=lambda: s3, state_dir=state_dir)
        self.rekognition_kind = "local engine"
        return self.endpoint

    def _warm_up(self) -> None:
        """Build the state machines' programs now, not in their first execution (their creation did not parse them)."""
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        for arn in self.state_machines.values():
            if self._stopped.is_set():
                return
            try:
                definition = self.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
                AmazonStateLanguageParser.parse(definition)
            except Exception as error:  # noqa: BLE001 - its executions will report it too
                log.error("state machine %s does not parse: %s", arn, error)

    def stop(self) -> None:
        self._stopped.set()
        if self.delivery is not None:
            self.delivery.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        while self._undo:
            self._undo.pop()()
        if self._rekognition_server is not None:
            self._rekognition_server.stop()
            self._rekognition_server = None
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.config.state_dir is not None and self._lock_file is not None:
            status_file = Path(self.config.state_dir) / STATUS_FILE
            try:
                if json.loads(status_file.read_text()).get("pid") == os.getpid():
                    status_file.unlink()
            except (OSError, ValueError):
                pass
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self._clients.clear()
        _reset_moto()
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    # ----- clients (for the stack's own use and for tests) -----------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client of this stack (one per service, shared: botocore clients are thread-safe; in-process)."""
        client = self._clients.get(service)
        if client is None:
            import boto3
            from botocore.config import Config

            with self._clients_lock:
                client = self._clients.get(service)
                if client is None:
                    self._session = self._session or boto3.session.Session()
                    client = self._clients[service] = self._session.client(
                        service,
                        endpoint_url=self.endpoint,
                        region_name=REGION,
                        aws_access_key_id=ACCESS_KEY_ID,
                        aws_secret_access_key=SECRET_ACCESS_KEY,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 3}, max_pool_connections=32),
                    )
                    # The stack's own calls reach it in this process, without a socket.
                    patches.route_in_process(client, self._wsgi)
        return client

    # ----- the stack's own resources, from the declarations Terraform reads ---------------------------
    def _create_resources(self) -> None:
        cfg = self.config
        s3 = self.client("s3")
        for bucket in (cfg.images_bucket, cfg.results_bucket):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        cors = json.loads((project_root() / "terraform" / "images_bucket_cors.json").read_text())
        s3.put_bucket_cors(
            Bucket=cfg.images_bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedMethods": cors["allowed_methods"],
                        "AllowedOrigins": self.console_origins(),
                        "AllowedHeaders": cors["allowed_headers"],
                        "ExposeHeaders": cors["expose_headers"],
                        "MaxAgeSeconds": cors["max_age_seconds"],
                    }
                ]
            },
        )
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(**declarations.create_table_request(cfg.table_name))
        dynamodb.update_time_to_live(
            TableName=cfg.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": declarations.results_table()["ttl_attribute"]},
        )
        iam = self.client("iam")
        role_arn = iam.create_role(
            RoleName=f"{cfg.name_prefix}-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = self.client("lambda")
        placeholder = _placeholder_zip()
        for name, spec in declarations.functions().items():
            self.functions[name] = lam.create_function(
                FunctionName=cfg.function_name(name),
                Runtime="python3.11",
                Role=role_arn,
                Handler=spec["handler"],
                Description=spec.get("description", "")[:256],
                Timeout=int(spec.get("timeout_s", 60)),
                MemorySize=int(spec.get("memory_mb", 256)),
                Code={"ZipFile": placeholder},
                Environment={"Variables": cfg.function_environment_for(name, spec)},
            )["FunctionArn"]
        variables = self.template_variables()
        # Each machine after the machines it starts: it needs their ARNs (${<template>_state_machine_arn}).
        templates = asl.creation_order(
            sorted(p.name.removesuffix(".asl.json") for p in statemachines_dir().glob("*.asl.json"))
        )
        sfn = self.client("stepfunctions")
        for template in templates:
            definition = asl.render_file(template, variables)
            # Our own definitions: not parsed now to validate them; the warm-up thread builds them.
            with patches.trusted_definitions():
                arn = sfn.create_state_machine(
                    name=cfg.state_machine_name(template),
                    definition=json.dumps(definition),
                    roleArn=role_arn,
                    type="STANDARD",
                )["stateMachineArn"]
            self.state_machines[template] = arn
            variables[f"{template}_state_machine_arn"] = arn
        self._create_api()
        self._create_upload_trigger(role_arn)

    def _create_upload_trigger(self, role_arn: str) -> None:
        """S3 -> EventBridge -> start_upload_analysis, as terraform/upload_trigger.tf wires it (ADR-16)."""
        cfg = self.config
        trigger = json.loads(
            asl.render(
                (project_root() / "terraform" / "upload_trigger.json").read_text(),
                {"images_bucket": cfg.images_bucket, "prefix": cfg.trigger_prefix},
            )
        )
        self.client("s3").put_bucket_notification_configuration(
            Bucket=cfg.images_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        events = self.client("events")
        rule_name = f"{cfg.name_prefix}-uploads"
        rule_arn = events.put_rule(Name=rule_name, EventPattern=json.dumps(trigger["event_pattern"]), State="ENABLED")[
            "RuleArn"
        ]
        sqs = self.client("sqs")
        queue_url = sqs.create_queue(
            QueueName=f"{cfg.name_prefix}-uploads-dlq",
            Attributes={"MessageRetentionPeriod": str(trigger["dlq_message_retention_seconds"])},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = trigger["retry_policy"]
        events.put_targets(
            Rule=rule_name,
            Targets=[
                {
                    "Id": "start-upload-analysis",
                    "Arn": self.functions["start_upload_analysis"],
                    "RetryPolicy": {
                        "MaximumRetryAttempts": policy["maximum_retry_attempts"],
                        "MaximumEventAgeInSeconds": policy["maximum_event_age_in_seconds"],
                    },
                    "DeadLetterConfig": {"Arn": queue_arn},
                }
            ],
        )
        self.client("lambda").add_permission(
            FunctionName=self.functions["start_upload_analysis"],
            StatementId="AllowEventBridgeUploads",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
        self.trigger_dlq_url = queue_url

    def _deliver(self, target: dict[str, Any], payload: str) -> None:
        """One EventBridge delivery (the background deliverer calls it; an exception means retry)."""
        from rekoflow.local.patches.eventbridge_targets import DeliveryError

        arn = target["Arn"]
        service = arn.split(":")[2]
        if service == "lambda":
            answer = self.client("lambda").invoke(FunctionName=arn, Payload=payload.encode())
            if "FunctionError" in answer:
                raise DeliveryError("Lambda.FunctionError", answer["Payload"].read().decode("utf-8", "replace")[:1000])
        elif service == "states":
            self.client("stepfunctions").start_execution(stateMachineArn=arn, input=payload)
        elif service == "sqs":
            self.client("sqs").send_message(QueueUrl=self._queue_url(arn), MessageBody=payload)
        else:
            raise DeliveryError("UnsupportedTarget", f"targets of {service} are not delivered locally")

    def _dead_letter(self, queue_arn: str, payload: str, attributes: dict[str, str]) -> None:
        self.client("sqs").send_message(
            QueueUrl=self._queue_url(queue_arn),
            MessageBody=payload,
            MessageAttributes={k: {"DataType": "String", "StringValue": v or "-"} for k, v in attributes.items()},
        )

    def _queue_url(self, queue_arn: str) -> str:
        _, _, _, region, account, name = queue_arn.split(":")
        return self.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]

    def _create_api(self) -> None:
        """The REST API of terraform/api/api.json, in this stack's API Gateway (ADR-15)."""
        from rekoflow.local.apigateway import declaration

        cfg = self.config
        apigateway = self.client("apigateway")
        self.api_id = declaration.create(
            apigateway,
            name=f"{cfg.name_prefix}-api",
            stage=API_STAGE,
            region=REGION,
            variables={"state_machine_arn": self.state_machines["image_analysis"], "table_name": cfg.table_name},
            function_arns=self.functions,
        )
        # What the templates build URLs from (on AWS: the stage's invoke URL, terraform/api.tf).
        apigateway.update_stage(
            restApiId=self.api_id,
            stageName=API_STAGE,
            patchOperations=[{"op": "replace", "path": "/variables/baseUrl", "value": self.api_url}],
        )

    def console_origins(self) -> list[str]:
        """Where the console is served from: the origins the images bucket accepts uploads from."""
        port = self.endpoint.rsplit(":", 1)[-1]
        return [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]

    @property
    def console_url(self) -> str:
        # localhost, not the endpoint's 127.0.0.1: the console's uploads are then cross-origin, as a
        # deployed console's are, and go through the bucket's CORS rules.
        return f"http://localhost:{self.endpoint.rsplit(':', 1)[-1]}/_rekoflow/console/"

    @property
    def api_url(self) -> str | None:
        return f"{self.endpoint}/restapis/{self.api_id}/{API_STAGE}/_user_request_" if self.api_id else None

    def _invoke_lambda(self, function_arn: str, payload: bytes) -> tuple[bytes, bool]:
        answer = self.client("lambda").invoke(FunctionName=function_arn, Payload=payload)
        return answer["Payload"].read(), "FunctionError" in answer

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

    # ----- what the stack says about itself ------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        cfg = self.config
        status: dict[str, Any] = {
            "endpoint": self.endpoint,
            "region": REGION,
            "accountId": ACCOUNT_ID,
            "credentials": {"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": SECRET_ACCESS_KEY},
            "pid": os.getpid(),
            "version": __version__,
            "startedAt": self.started_at,
            "stateDir": str(cfg.state_dir) if cfg.state_dir else None,
            "rekognition": self.rekognition_kind,
            "restored": self.restored,
        }
        if self.api_url:
            status["apiUrl"] = self.api_url
            status["consoleUrl"] = self.console_url
        if cfg.resources:
            status["triggerPrefix"] = cfg.trigger_prefix
            status["resources"] = {
                "imagesBucket": cfg.images_bucket,
                "resultsBucket": cfg.results_bucket,
                "table": cfg.table_name,
                "stateMachines": dict(self.state_machines),
                "functions": {name: cfg.function_name(name) for name in self.functions},
            }
        if self.store is not None:
            status["stored"] = {
                "objects": self.store.object_count(),
                "items": self.store.item_count(),
                "executions": self.store.execution_count(),
            }
        return status

    # ----- the single endpoint ---------------------------------------------------------------------------
    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX):
            return self._admin(environ, start_response, path[len(ADMIN_PREFIX) :])
        api = API_PATH.match(path)
        if api is not None and self.api_executor is not None:
            return self._api(environ, start_response, api)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if self.engine is not None and target.startswith("RekognitionService."):
            return self._rekognition(environ, start_response, target)
        assert self.recorder is not None
        return self.recorder(environ, start_response)

    def _api(self, environ: dict[str, Any], start_response: Callable[..., Any], match: Any) -> Any:
        """A request to a REST API of this stack's API Gateway (executor: rekoflow.local.apigateway)."""
        from http import HTTPStatus

        from rekoflow.local.apigateway.executor import Request, parse_query

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        if environ.get("CONTENT_LENGTH"):
            headers["Content-Length"] = environ["CONTENT_LENGTH"]
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        query_string = environ.get("QUERY_STRING", "")
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        raw_path = raw_path.split("?", 1)[0]
        request = Request(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=match.group("path") or "/",
            query=parse_query(query_string),
            headers=headers,
            body=body,
            host=host,
            url=f"http://{host}{raw_path}" + (f"?{query_string}" if query_string else ""),
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        )
        response = self.api_executor.handle(match.group("api"), match.group("stage"), request)
        reason = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        headers_out = {**response.headers, "Content-Length": str(len(response.body))}
        start_response(f"{response.status} {reason}", list(headers_out.items()))
        return [response.body]

    def _rekognition(self, environ: dict[str, Any], start_response: Callable[..., Any], target: str) -> Any:
        import uuid

        from rekoflow.engine import errors as engine_errors
        from rekoflow.engine.server import _MAX_BODY, answer

        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > _MAX_BODY:
            status, payload = 400, engine_errors.image_too_large().to_body()
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            status, payload = answer(self.engine, target, body)
        return _respond(
            start_response, status, payload, "application/x-amz-json-1.1", {"x-amzn-RequestId": str(uuid.uuid4())}
        )

    def _admin(self, environ: dict[str, Any], start_response: Callable[..., Any], route: str) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if route == "health":
                return _respond(start_response, 200, {"status": "ok", "endpoint": self.endpoint})
            if route == "status":
                return _respond(start_response, 200, self.status())
            if route == "wait" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                request = json.loads(environ["wsgi.input"].read(length) or b"{}")
                return _respond(
                    start_response,
                    200,
                    self.wait_for(request["executionArn"], float(request.get("timeoutSeconds", 20))),
                )
            if route == "events" and query.get("after") == "latest":
                return _respond(start_response, 200, {"events": [], "sequence": self.events.sequence})
            if route == "events":
                found = self.events.since(
                    int(query.get("after", 0)), min(float(query.get("timeout", 0)), 60.0), query.get("prefix", "")
                )
                return _respond(start_response, 200, {"events": found, "sequence": self.events.sequence})
            if route == "console" or route.startswith("console/"):
                return self._console(environ, start_response, route.removeprefix("console").lstrip("/"))
            if route == "shutdown" and method == "POST":
                threading.Thread(target=self._shutdown_soon, daemon=True).start()
                return _respond(start_response, 200, {"status": "stopping"})
        except (KeyError, ValueError) as error:
            return _respond(start_response, 400, {"message": f"bad request to {ADMIN_PREFIX}{route}: {error}"})
        return _respond(start_response, 404, {"message": f"no such stack route: {method} {ADMIN_PREFIX}{route}"})

    def _console(self, environ: dict[str, Any], start_response: Callable[..., Any], route: str) -> Any:
        try:
            return self._console_route(environ, start_response, route)
        except Exception as error:  # noqa: BLE001 - the page shows the message; the stack goes on
            log.warning("console %s failed: %s", route, error, exc_info=True)
            return _respond(start_response, 400, {"message": f"{type(error).__name__}: {error}"})

    def _console_route(self, environ: dict[str, Any], start_response: Callable[..., Any], route: str) -> Any:
        from rekoflow.local import console

        query = environ.get("QUERY_STRING", "")
        if route == "api/config":
            return _respond(start_response, 200, console.config(self))
        if route == "api/executions":
            return _respond(start_response, 200, {"executions": console.recent_executions(self)})
        if route == "api/execution":
            arn = parse_qs(query).get("arn", [""])[-1]
            return _respond(start_response, 200, console.execution_view(self, arn))
        if route == "api/image":
            data, content_type = console.image_bytes(self, query)
            start_response(
                "200 OK",
                [("Content-Type", content_type), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")],
            )
            return [data]
        found = console.static_file(route)
        if found is None:
            return _respond(start_response, 404, {"message": f"no console file {route!r}"})
        data, content_type = found
        start_response(
            "200 OK",
            [("Content-Type", content_type), ("Content-Length", str(len(data))), ("Cache-Control", "no-cache")],
        )
        return [data]

    def _shutdown_soon(self) -> None:
        time.sleep(0.1)  # let the answer to the shutdown request leave first
        self._stopped.set()

    def wait_for(self, execution_arn: str, timeout_s: float) -> dict[str, Any]:
        """Wait (up to ``timeout_s``) until the execution is no longer RUNNING; its description."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]

        def finished() -> bool:
            return backend.describe_execution(execution_arn).status != "RUNNING"

        self.events.wait_until(finished, min(timeout_s, 60.0))
        described = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        described.pop("ResponseMetadata", None)
        return json.loads(json.dumps(described, default=_json_default))


def _respond(
    start_response: Callable[..., Any],
    status: int,
    payload: dict[str, Any],
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> list[bytes]:
    from http import HTTPStatus

    data = json.dumps(payload, default=_json_default).encode()
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    start_response(
        f"{status} {reason}",
        [("Content-Type", content_type), ("Content-Length", str(len(data))), *(headers or {}).items()],
    )
    return [data]


def _reset_moto() -> None:
    """Empty every moto backend (they are per process: a stack starts from nothing but its store)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def _placeholder_zip() -> bytes:
    # moto needs a deployment package; the in-process runtime imports the handler from functions/.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "rekoflow local stack: code is imported from functions/\n")
    return buffer.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
