"""Lambda functions run in-process: moto would run their code in Docker, which this machine lacks.

moto calls ``moto.awslambda.models.LambdaFunction._invoke_lambda(self, event)`` for every invoke
(boto3 Invoke, a Step Functions ``lambda:invoke`` Task, a plain Lambda ARN Task) and expects
``(payload, errored, logs)`` back. The patch imports the handler named by the function's
``Handler`` from the ``functions/`` tree and calls it here, with the function's own environment
variables, returning errors as Lambda does (``errorType``/``errorMessage``) so Step Functions
Retry/Catch see the same error names as on AWS (docs/architecture.md, ADR on the local stack).
"""

from __future__ import annotations

import collections
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

from rekoflow.local.patches._base import Patcher, Undo, install

# Handlers run one at a time: environment variables and stdout are process-global.
INVOKE_LOCK = threading.RLock()


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


# One stream for the whole process: loggers created by an earlier runtime's imports keep a reference
# to it (logging handlers outlive purged modules), so it must be the same object for every runtime.
INVOCATION_STREAM = _InvocationStream()


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
        self.stream = INVOCATION_STREAM
        # The latest invocations (tests and `rekoflow -v` read them); bounded: the stack runs for days.
        self.invocations: collections.deque[InvocationRecord] = collections.deque(maxlen=500)
        self.listeners: list[Callable[[InvocationRecord], None]] = []
        # Top-level packages under functions/: each function gets its own copy of them (see _isolated).
        self._packages = {p.name for p in self.functions_dir.iterdir() if (p / "__init__.py").is_file()}
        self._modules_by_function: dict[str, dict[str, Any]] = {}

    @contextlib.contextmanager
    def _isolated(self, function_name: str):
        """Give each function its own imported modules, as its own Lambda process would have.

        Shared code (rekoflow_common) keeps module-level state such as clients and child loggers
        bound to the function that imported it; in AWS every function is a separate process, so
        one function's copy must never serve another here either.
        """
        for name in [m for m in sys.modules if m.split(".")[0] in self._packages]:
            del sys.modules[name]
        sys.modules.update(self._modules_by_function.get(function_name, {}))
        try:
            yield
        finally:
            self._modules_by_function[function_name] = {
                m: module for m, module in sys.modules.items() if m.split(".")[0] in self._packages
            }

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
        with INVOKE_LOCK, _patched_environ(environment), self._isolated(fn.function_name):
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
    """Set ``values`` for one invocation, then put back exactly what was there.

    Only the keys that change are touched: other threads (moto's interpreter, its boto3 clients)
    read the environment at the same time, and clearing it even briefly makes them see no
    credentials at all (botocore then copies os.environ while it is being rebuilt: KeyError).
    """
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            elif os.environ.get(key) != value:
                os.environ[key] = value


def install_in_process_lambda(runtime: InProcessLambdaRuntime) -> Undo:
    """Route every moto Lambda invocation to ``runtime``; returns a function that undoes it."""

    def apply(patcher: Patcher) -> None:
        from moto.awslambda.models import LambdaFunction

        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            payload, errored, logs = runtime.invoke(self, event)
            with contextlib.suppress(Exception):  # logs are a convenience; never fail an invocation on them
                self.save_logs(logs or "(no output)")
            return payload, errored, logs

        patcher.set(LambdaFunction, "_invoke_lambda", _invoke_lambda)

    return install(apply)
