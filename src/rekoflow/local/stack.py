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
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs

from rekoflow import __version__, asl
from rekoflow.local import declarations, patches
from rekoflow.local.incidents import IncidentRecorder
from rekoflow.paths import functions_dir, statemachines_dir

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
_ACTIVE_LOCK = threading.Lock()
_ACTIVE: list["Stack"] = []


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
    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> "Stack":
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
            self._server = make_server(cfg.host, cfg.port, self._wsgi, threaded=True, request_handler=MotoRequestHandler)
        except OSError as error:
            raise StackError(f"cannot listen on {cfg.host}:{cfg.port}: {error.strerror or error} (choose another --port)") from error
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
        self._undo.append(
            patches.install_stack_patches(
                self.runtime, self.endpoint, store=self.store, events=self.events, retry_time_scale=cfg.retry_time_scale,
                wsgi_app=self._wsgi,
            )
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="rekoflow-stack", daemon=True)
        self._thread.start()
        if cfg.resources:
            self._create_resources()
        if self.store is not None:
            self.restored = patches.restore(self.store, ACCOUNT_ID, REGION)
            self.store.collect_garbage()
        self.started_at = time.time()
        self.restored["startSeconds"] = round(time.perf_counter() - started, 3)
        if cfg.state_dir is not None:
            _write_atomically(Path(cfg.state_dir) / STATUS_FILE, json.dumps(self.status(), indent=2, default=_json_default))
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
        templates = sorted(p.name.removesuffix(".asl.json") for p in statemachines_dir().glob("*.asl.json"))
        # The image-analysis machine first: the others start it and need its ARN.
        templates.sort(key=lambda t: t != "image_analysis")
        sfn = self.client("stepfunctions")
        for template in templates:
            definition = asl.render_file(template, variables)
            # Our own definitions: not parsed now to validate them; the warm-up thread builds them.
            with patches.trusted_definitions():
                arn = sfn.create_state_machine(
                    name=cfg.state_machine_name(template), definition=json.dumps(definition), roleArn=role_arn, type="STANDARD"
                )["stateMachineArn"]
            self.state_machines[template] = arn
            variables[f"{template}_state_machine_arn"] = arn

    def template_variables(self) -> dict[str, str]:
        cfg = self.config
        variables = {f"{name}_function_arn": arn for name, arn in self.functions.items()}
        variables.update({
            # The integration ARNs are arn:${partition}:states:::... (Terraform: aws_partition).
            "partition": "aws",
            "results_table_name": cfg.table_name,
            "results_bucket": cfg.results_bucket,
            "images_bucket": cfg.images_bucket,
        })
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
        if cfg.resources:
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
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if self.engine is not None and target.startswith("RekognitionService."):
            return self._rekognition(environ, start_response, target)
        assert self.recorder is not None
        return self.recorder(environ, start_response)

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
        return _respond(start_response, status, payload, "application/x-amz-json-1.1", {"x-amzn-RequestId": str(uuid.uuid4())})

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
                return _respond(start_response, 200, self.wait_for(request["executionArn"], float(request.get("timeoutSeconds", 20))))
            if route == "events" and query.get("after") == "latest":
                return _respond(start_response, 200, {"events": [], "sequence": self.events.sequence})
            if route == "events":
                found = self.events.since(int(query.get("after", 0)), min(float(query.get("timeout", 0)), 60.0), query.get("prefix", ""))
                return _respond(start_response, 200, {"events": found, "sequence": self.events.sequence})
            if route == "shutdown" and method == "POST":
                threading.Thread(target=self._shutdown_soon, daemon=True).start()
                return _respond(start_response, 200, {"status": "stopping"})
        except (KeyError, ValueError) as error:
            return _respond(start_response, 400, {"message": f"bad request to {ADMIN_PREFIX}{route}: {error}"})
        return _respond(start_response, 404, {"message": f"no such stack route: {method} {ADMIN_PREFIX}{route}"})

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
    start_response: Callable[..., Any], status: int, payload: dict[str, Any], content_type: str = "application/json",
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
