"""The local AWS emulator that Terraform deploys to (``make tf-local``).

A moto ``ThreadedMotoServer`` on a free 127.0.0.1 port, in this process, so that:

- Lambda functions created through the API (by Terraform) run in-process: moto's function
  ``Handler`` (``<name>.handler.lambda_handler``) names the module imported from the repository's
  ``functions/`` tree (``moto_patches.install_in_process_lambda``); the uploaded zip is not used;
- state machines really execute (moto's ASL interpreter, ``execute_state_machine``);
- the gaps the Terraform AWS provider trips over are patched (``moto_patches.install_terraform_compat``);
- the handlers' boto3 clients reach the emulator through ``AWS_ENDPOINT_URL`` and Rekognition
  through ``AWS_ENDPOINT_URL_REKOGNITION``: the local engine (``rekoflow.engine.EngineServer``),
  or fixed scripted answers (``scripted_rekognition``) when the engine is not importable. Both are set only in the
  emulator's base environment for in-process Lambdas, never in the Terraform.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rekoflow.local import moto_patches
from rekoflow.local.scripted_rekognition import FakeRekognition

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
REPO_ROOT = Path(__file__).resolve().parents[3]
# The services the Terraform root module uses; each gets an endpoint override.
TERRAFORM_SERVICES = (
    "apigateway", "cloudwatch", "logs", "dynamodb", "iam", "kms", "lambda",
    "s3", "scheduler", "sfn", "sns", "sqs", "sts",
)


@dataclass(frozen=True)
class ServerIncident:
    """A request the emulator answered with HTTP 5xx, raised on, or took long over."""

    method: str
    path: str
    target: str
    status: str
    seconds: float
    detail: str

    def describe(self) -> str:
        operation = self.target or f"{self.method} {self.path}"
        return f"{operation}: {self.status} after {self.seconds:.1f}s {self.detail}".rstrip()


class IncidentRecorder:
    """WSGI middleware around moto's server app: remembers 5xx answers, exceptions and slow requests.

    moto's werkzeug server logs its own failures at a level the emulator silences, and a client
    that retries (the Terraform provider does) hides them; ``make tf-local`` prints these on failure.
    """

    def __init__(self, app: Any, slow_seconds: float = 20.0) -> None:
        self.app = app
        self.slow_seconds = slow_seconds
        self.incidents: list[ServerIncident] = []
        self._lock = threading.Lock()

    def _record(self, environ: dict[str, Any], status: str, started: float, detail: str) -> None:
        incident = ServerIncident(
            method=environ.get("REQUEST_METHOD", ""),
            path=environ.get("PATH_INFO", ""),
            target=environ.get("HTTP_X_AMZ_TARGET", ""),
            status=status,
            seconds=time.perf_counter() - started,
            detail=detail[:2000],
        )
        with self._lock:
            self.incidents.append(incident)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            seen["status"] = status
            return start_response(status, headers, *args)

        try:
            body = self.app(environ, recording_start_response)
        except Exception:
            self._record(environ, "exception", started, traceback.format_exc())
            raise
        status = seen.get("status", "")
        if status.startswith("5"):
            chunks = list(body)
            self._record(environ, status, started, b"".join(chunks).decode("utf-8", "replace"))
            return chunks
        if time.perf_counter() - started > self.slow_seconds:
            self._record(environ, f"slow ({status})", started, "")
        return body


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Emulator:
    """``with Emulator() as emu:`` a moto server at ``emu.url`` whose Lambdas run in-process."""

    def __init__(
        self,
        functions_dir: Path | None = None,
        rekognition: str = "engine",
        extra_environment: dict[str, str] | None = None,
        retry_time_scale: float = 1.0,
        log: Callable[[str], None] = print,
    ) -> None:
        if rekognition not in ("engine", "fixed"):
            raise ValueError("rekognition must be 'engine' or 'fixed'")
        self.functions_dir = Path(functions_dir or REPO_ROOT / "functions")
        self.rekognition = rekognition
        self.rekognition_kind = ""
        self.extra_environment = dict(extra_environment or {})
        self.retry_time_scale = retry_time_scale
        self.log = log
        self.url = ""
        self.runtime: moto_patches.InProcessLambdaRuntime | None = None
        self._server: Any = None
        self.recorder: IncidentRecorder | None = None
        self._rekognition_server: Any = None
        self._undo: list[Callable[[], None]] = []

    def endpoints(self) -> dict[str, str]:
        return {service: self.url for service in TERRAFORM_SERVICES}

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def _start_rekognition(self) -> str:
        if self.rekognition == "engine":
            try:
                from rekoflow.engine import EngineServer

                server = EngineServer("127.0.0.1", 0, s3_client_factory=lambda: self.client("s3")).start()
                self._rekognition_server, self.rekognition_kind = server, "local engine"
                return server.url
            except ImportError as error:  # the engine extra is not installed
                self.log(f"local engine not importable ({error}); using fixed scripted answers")
        server = FakeRekognition().start()
        self._rekognition_server, self.rekognition_kind = server, "fixed scripted answers"
        return server.url

    def start(self) -> "Emulator":
        moto_patches.check_moto_version()
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        logging.getLogger("moto").setLevel(logging.CRITICAL)
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        port = free_port()
        # moto's Step Functions interpreter calls Lambda/DynamoDB/S3 through boto3 at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        # The werkzeug server reads .app per request; wrapping it before any request is served.
        self.recorder = IncidentRecorder(self._server._server.app)
        self._server._server.app = self.recorder
        self.url = f"http://127.0.0.1:{port}"
        try:
            self._undo.append(moto_patches.install_terraform_compat())
            rekognition_url = self._start_rekognition()
            base_environment = {
                **FAKE_CREDENTIALS,
                "AWS_ENDPOINT_URL": self.url,
                "AWS_ENDPOINT_URL_REKOGNITION": rekognition_url,
                **self.extra_environment,
            }
            self.runtime = moto_patches.InProcessLambdaRuntime(self.functions_dir, base_environment)
            self._undo.append(moto_patches.install_in_process_lambda(self.runtime))
            if self.retry_time_scale != 1.0:
                self._undo.append(moto_patches.scale_retry_waits(self.retry_time_scale))
        except BaseException:
            self.stop()
            raise
        return self

    def reset_backends(self) -> None:
        """Empty every moto backend (they are process-wide, shared by every emulator in this process)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=30).read()

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()
        if self._rekognition_server is not None:
            self._rekognition_server.stop()
            self._rekognition_server = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> int:
    """``python -m rekoflow.local.emulator``: run the emulator until interrupted."""
    import time

    with Emulator() as emulator:
        print(f"emulator at {emulator.url} (Rekognition: {emulator.rekognition_kind}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
