"""Every patch the offline runtime applies to moto, in one place (design decision 9).

moto is pinned (see ``MOTO_VERSION``) because these patches reach into its internals; each
patch has a test in ``tests/local/test_moto_patches.py`` that fails loudly when an upgrade
changes what it relies on.

Patches:
- ``install_in_process_lambda``: moto runs Lambda code in Docker, which this machine lacks.
  The patched ``LambdaFunction._invoke_lambda`` imports the handler named by the function's
  ``Handler`` from the ``functions/`` tree and calls it in-process, with the function's own
  environment variables, returning errors as Lambda does (``errorType``/``errorMessage``) so
  Step Functions Retry/Catch see the same error names as on AWS.
- ``scale_retry_waits``: Step Functions Retry really sleeps in moto. Tests and demos keep the
  production Retry policy from the ASL file and compress only the waiting.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import moto

MOTO_VERSION = "5.2.5"

_PATCH_LOCK = threading.Lock()
# Handlers run one at a time: environment variables and stdout are process-global.
_INVOKE_LOCK = threading.RLock()


def check_moto_version() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"rekoflow's local runtime is tested with moto {MOTO_VERSION}, found {moto.__version__}; "
            "install the pinned version (make install)"
        )


class _InvocationStream(io.TextIOBase):
    """A stdout stand-in that handlers bind to at import and that writes to the current invocation's buffer.

    Powertools' Logger keeps a reference to ``sys.stdout`` taken when the handler module is imported,
    so swapping ``sys.stdout`` per invocation would not catch later log lines.
    """

    def __init__(self) -> None:
        self.current: io.StringIO | None = None
        self.fallback = sys.__stdout__

    def write(self, text: str) -> int:  # type: ignore[override]
        target = self.current if self.current is not None else self.fallback
        return target.write(text) if target else len(text)

    def flush(self) -> None:  # type: ignore[override]
        return None


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = 60.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(remaining * 1000))


@dataclass
class InvocationRecord:
    function_name: str
    event: Any
    errored: bool
    duration_ms: float
    logs: str


class InProcessLambdaRuntime:
    """Resolves a moto Lambda function to a handler in ``functions_dir`` and calls it."""

    def __init__(self, functions_dir: Path, base_environment: dict[str, str] | None = None) -> None:
        self.functions_dir = Path(functions_dir).resolve()
        self.base_environment = dict(base_environment or {})
        self.stream = _InvocationStream()
        self.invocations: list[InvocationRecord] = []
        self.listeners: list[Callable[[InvocationRecord], None]] = []

    def _resolve(self, handler_path: str) -> Callable[[Any, Any], Any]:
        module_name, _, attribute = handler_path.rpartition(".")
        if not module_name:
            raise ValueError(f"handler {handler_path!r} is not of the form package.module.function")
        if str(self.functions_dir) not in sys.path:
            sys.path.insert(0, str(self.functions_dir))
        with contextlib.redirect_stdout(self.stream):
            module = importlib.import_module(module_name)
        return getattr(module, attribute)

    def invoke(self, fn: Any, event: Any) -> tuple[str, bool, str]:
        """Call the handler of moto LambdaFunction ``fn``; return ``(payload, errored, logs)``."""
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        environment = {
            **self.base_environment,
            **{k: str(v) for k, v in (fn.environment_vars or {}).items()},
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_REGION": fn.region,
            "_HANDLER": fn.handler,
        }
        context = LambdaContext(
            function_name=fn.function_name,
            memory_limit_in_mb=int(fn.memory_size or 128),
            invoked_function_arn=fn.function_arn,
            log_group_name=f"/aws/lambda/{fn.function_name}",
            timeout_seconds=float(fn.timeout or 60),
        )
        buffer = io.StringIO()
        started = time.perf_counter()
        with _INVOKE_LOCK, _patched_environ(environment):
            self.stream.current = buffer
            try:
                handler = self._resolve(fn.handler)
                with contextlib.redirect_stdout(self.stream):
                    result = handler(event, context)
                payload, errored = json.dumps(result, default=str), False
            except Exception as error:  # noqa: BLE001 - every handler error becomes a Lambda error payload
                payload = json.dumps(
                    {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "requestId": context.aws_request_id,
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                )
                errored = True
            finally:
                self.stream.current = None
        record = InvocationRecord(
            function_name=fn.function_name,
            event=event,
            errored=errored,
            duration_ms=(time.perf_counter() - started) * 1000,
            logs=buffer.getvalue(),
        )
        self.invocations.append(record)
        for listener in self.listeners:
            listener(record)
        return payload, errored, record.logs


@contextlib.contextmanager
def _patched_environ(values: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def install_in_process_lambda(runtime: InProcessLambdaRuntime) -> Callable[[], None]:
    """Route every moto Lambda invocation to ``runtime``; returns a function that undoes it."""
    check_moto_version()
    from moto.awslambda.models import LambdaFunction

    with _PATCH_LOCK:
        original = LambdaFunction._invoke_lambda

        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            payload, errored, logs = runtime.invoke(self, event)
            with contextlib.suppress(Exception):  # logs are a convenience; never fail an invocation on them
                self.save_logs(logs or "(no output)")
            return payload, errored, logs

        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]

    def undo() -> None:
        with _PATCH_LOCK:
            LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]

    return undo


class _ScaledTime:
    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, float(seconds)) * self.scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def scale_retry_waits(scale: float) -> Callable[[], None]:
    """Multiply the sleep between Step Functions retries by ``scale`` (0 < scale <= 1)."""
    if not 0 <= scale <= 1:
        raise ValueError(f"retry time scale must be between 0 and 1, got {scale}")
    check_moto_version()
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    with _PATCH_LOCK:
        original = retrier_decl.time
        retrier_decl.time = _ScaledTime(scale)  # type: ignore[assignment]

    def undo() -> None:
        with _PATCH_LOCK:
            retrier_decl.time = original  # type: ignore[assignment]

    return undo
