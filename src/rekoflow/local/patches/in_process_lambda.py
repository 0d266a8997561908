"""Lambda functions run in-process: moto would run their code in Docker, which this machine lacks.

moto calls ``moto.awslambda.models.LambdaFunction._invoke_lambda(self, event)`` for every invoke
(boto3 Invoke, a Step Functions ``lambda:invoke`` Task, a plain Lambda ARN Task) and expects
``(payload, errored, logs)`` back. The patch imports the handler named by the function's
``Handler`` from the ``functions/`` tree and calls it here, with the function's own environment
variables, returning errors as Lambda does (``errorType``/``errorMessage``) so Step Functions
Retry/Catch see the same error names as on AWS (docs/architecture.md, ADR-11).
"""

from __future__ import annotations

import collections
import collections.abc
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

# Cold starts (importing a function's modules) run one at a time: they swap project modules in sys.modules.
IMPORT_LOCK = threading.RLock()


class ThreadEnviron(collections.abc.MutableMapping):
    """``os.environ`` with a per-thread overlay: each invocation sees its own function's variables.

    Environment variables are process-wide, but concurrent in-process invocations need different
    ones (``RESULTS_TABLE``, ``POWERTOOLS_SERVICE_NAME``...). While an invocation runs, its thread
    reads and writes an overlay over the real environment; other threads, moto's interpreter among
    them, see the real one, which invocations never change (docs/architecture.md, the local stack).
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self._local = threading.local()

    def _overlay(self) -> tuple[dict[str, str], set[str]] | None:
        return getattr(self._local, "overlay", None)

    @contextlib.contextmanager
    def overlay(self, values: dict[str, str]):
        previous = self._overlay()
        self._local.overlay = (dict(values), set())
        try:
            yield
        finally:
            self._local.overlay = previous

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if overlay is not None:
            values, deleted = overlay
            if key in values:
                return values[key]
            if key in deleted:
                raise KeyError(key)
        return self.real[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            self.real[key] = value
        else:
            overlay[0][key] = str(value)
            overlay[1].discard(key)

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            del self.real[key]
            return
        if key not in self:
            raise KeyError(key)
        overlay[0].pop(key, None)
        overlay[1].add(key)

    def _keys(self) -> list[str]:
        keys = dict.fromkeys(list(self.real))
        overlay = self._overlay()
        if overlay is not None:
            keys.update(dict.fromkeys(overlay[0]))
            for key in overlay[1]:
                keys.pop(key, None)
        return list(keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def copy(self) -> dict[str, str]:
        return {key: self[key] for key in self._keys()}

    def __repr__(self) -> str:
        return f"ThreadEnviron({self.copy()!r})"


class _InvocationStream(io.TextIOBase):
    """``sys.stdout`` while in-process Lambdas are installed: each thread writes to its invocation's buffer.

    Powertools' Logger keeps a reference to ``sys.stdout`` taken when the handler module is imported,
    so swapping ``sys.stdout`` per invocation would not catch later log lines; output from threads
    that run no invocation goes to the real stdout.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self.replaced: Any = None  # the sys.stdout this stream stands in for

    @property
    def fallback(self) -> Any:
        # What sys.stdout was, unless it has been closed since (test runners close their captures).
        replaced = self.replaced
        if replaced is None or replaced is self or getattr(replaced, "closed", False):
            return sys.__stdout__
        return replaced

    @property
    def current(self) -> io.StringIO | None:
        return getattr(self._local, "buffer", None)

    @current.setter
    def current(self, buffer: io.StringIO | None) -> None:
        self._local.buffer = buffer

    def write(self, text: str) -> int:
        target = self.current if self.current is not None else self.fallback
        return target.write(text) if target else len(text)

    def flush(self) -> None:
        if self.current is None and self.fallback:
            self.fallback.flush()


# One stream for the whole process: loggers created by an earlier stack's imports keep a reference
# to it (logging handlers outlive purged modules), so it must be the same object for every stack.
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
        # Top-level packages under functions/: each function gets its own copy of them (see _cold_start).
        self._packages = {p.name for p in self.functions_dir.iterdir() if (p / "__init__.py").is_file()}
        self._handlers: dict[tuple[str, str, str], Callable[[Any, Any], Any]] = {}

    def _cold_start(self, handler_path: str) -> Callable[[Any, Any], Any]:
        """Import the function's handler with fresh copies of the project's modules, as its own Lambda process would.

        Shared code (rekoflow_common) keeps module-level state such as clients and child loggers
        bound to the function that imported it; in AWS every function is a separate process, so
        one function's copy must never serve another here either. The copies are taken out of
        ``sys.modules`` again: the handler holds its own references, and no other import sees them.
        """
        module_name, _, attribute = handler_path.rpartition(".")
        if not module_name:
            raise ValueError(f"handler {handler_path!r} is not of the form package.module.function")
        with IMPORT_LOCK:
            if str(self.functions_dir) not in sys.path:
                sys.path.insert(0, str(self.functions_dir))
            saved = {m: sys.modules.pop(m) for m in [m for m in sys.modules if m.split(".")[0] in self._packages]}
            try:
                # Loggers created at import bind to sys.stdout: the stream that routes each thread's output.
                with contextlib.redirect_stdout(self.stream):
                    module = importlib.import_module(module_name)
                return getattr(module, attribute)
            finally:
                for name in [m for m in sys.modules if m.split(".")[0] in self._packages]:
                    del sys.modules[name]
                sys.modules.update(saved)

    def _handler(self, fn: Any, environment: dict[str, str]) -> Callable[[Any, Any], Any]:
        # A new configuration is a new cold start, as on AWS.
        key = (fn.function_name, fn.handler, json.dumps(environment, sort_keys=True))
        handler = self._handlers.get(key)
        if handler is None:
            handler = self._handlers[key] = self._cold_start(fn.handler)
        return handler

    def invoke(self, fn: Any, event: Any) -> tuple[str, bool, str]:
        """Call the handler of moto LambdaFunction ``fn``; return ``(payload, errored, logs)``.

        Invocations run concurrently: each sees its own environment (:class:`ThreadEnviron`) and
        writes its own log buffer; only cold starts are serialised.
        """
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
        outcome: dict[str, Any] = {}

        def run() -> None:
            environ = os.environ
            overlay = (
                environ.overlay(environment) if isinstance(environ, ThreadEnviron) else _patched_environ(environment)
            )
            _own_stdout(self.stream)
            with overlay:
                self.stream.current = buffer
                try:
                    handler = self._handler(fn, environment)
                    result = handler(event, context)
                    outcome["payload"], outcome["errored"] = json.dumps(result, default=str), False
                except Exception as error:  # noqa: BLE001 - every handler error becomes a Lambda error payload
                    outcome["payload"] = json.dumps(
                        {
                            "errorType": type(error).__name__,
                            "errorMessage": str(error),
                            "requestId": context.aws_request_id,
                            "stackTrace": traceback.format_tb(error.__traceback__),
                        }
                    )
                    outcome["errored"] = True
                finally:
                    self.stream.current = None

        # The function's timeout, as Lambda enforces it: the caller gets Sandbox.Timedout when the
        # handler runs longer. A thread cannot be killed, so it runs on unobserved (its answer is dropped),
        # as a frozen Lambda sandbox would (docs/reliability.md).
        worker = threading.Thread(target=run, name=f"lambda:{fn.function_name}", daemon=True)
        worker.start()
        worker.join(timeout=context.timeout_seconds)
        if "payload" in outcome:
            payload, errored = outcome["payload"], outcome["errored"]
        else:
            payload, errored = (
                json.dumps(
                    {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"RequestId: {context.aws_request_id} "
                        f"Error: Task timed out after {context.timeout_seconds:.2f} seconds",
                    }
                ),
                True,
            )
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


_STDOUT_LOCK = threading.Lock()


def _own_stdout(stream: _InvocationStream) -> None:
    """Make ``sys.stdout`` the invocation stream again if something replaced it since (a test runner's capture).

    A handler's prints (Powertools' metrics are printed) belong in its invocation's log, not in the
    output of whatever else runs in this process; the replacement keeps receiving everyone else's.
    """
    if sys.stdout is stream or stream.replaced is None:
        return  # not installed as sys.stdout (the patch is not active): nothing to take back
    with _STDOUT_LOCK:
        if sys.stdout is not stream:
            stream.replaced = sys.stdout
            sys.stdout = stream


@contextlib.contextmanager
def _patched_environ(values: dict[str, str]):
    """Without the per-thread environment (the patch not installed): set ``values`` for one invocation.

    Only the keys that change are touched, then put back exactly as they were.
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
    """Route every moto Lambda invocation to ``runtime``; returns a function that undoes it.

    While installed, ``os.environ`` is a :class:`ThreadEnviron` and ``sys.stdout`` the invocation
    stream, so that invocations can run at the same time, each with its own environment and output.
    """

    def apply(patcher: Patcher) -> None:
        from moto.awslambda.models import LambdaFunction

        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            payload, errored, logs = runtime.invoke(self, event)
            with contextlib.suppress(Exception):  # logs are a convenience; never fail an invocation on them
                self.save_logs(logs or "(no output)")
            return payload, errored, logs

        patcher.set(LambdaFunction, "_invoke_lambda", _invoke_lambda)
        if not isinstance(os.environ, ThreadEnviron):
            patcher.set(os, "environ", ThreadEnviron(os.environ))
            # boto3's default session reads the environment through the mapping it found when it was
            # made: the handlers' clients must get one made now, which reads through the overlay.
            import boto3

            patcher.set(boto3, "DEFAULT_SESSION", None)
        if sys.stdout is not INVOCATION_STREAM:
            INVOCATION_STREAM.replaced = sys.stdout
            sys.stdout = INVOCATION_STREAM

            def restore_stdout() -> None:
                if sys.stdout is INVOCATION_STREAM:  # unless someone replaced it since (then theirs stays)
                    sys.stdout = INVOCATION_STREAM.replaced
                INVOCATION_STREAM.replaced = None

            patcher.on_undo(restore_stdout)

    return install(apply)
