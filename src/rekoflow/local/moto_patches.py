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
- ``install_nested_executions``: Task states that start another state machine
  (``states:startExecution``, ``.sync``, ``.sync:2``) fail in moto with ``KeyError: 'StateMachineArn'``;
  the patch restores the request/response normalisation they need (tests/local/test_moto_patches_nested.py).
- ``install_distributed_map_fidelity``: Distributed Map tolerated-failure thresholds are enforced
  and ResultWriter writes the manifest and result files AWS writes (same test file).
- ``install_parse_cache``: moto lexes and parses the ASL (ANTLR's pure-Python runtime) for every
  execution, ~0.2 s of CPU for the image-analysis machine; a batch starts one per image. The
  patch parses each definition (and each intrinsic function) once and builds a fresh program
  from the cached parse tree per execution.
- ``install_terraform_compat``: the APIs the Terraform AWS provider calls that moto's server lacks
  or answers differently (``make tf-local``); see its docstring for the list.
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
INVOKE_LOCK = threading.RLock()


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
        self.invocations: list[InvocationRecord] = []
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


def install_in_process_lambda(runtime: InProcessLambdaRuntime) -> Callable[[], None]:
    """Route every moto Lambda invocation to ``runtime``; returns a function that undoes it.

    While installed, moto's interpreter creates its boto3 clients under the invocation lock too:
    each invocation sets and removes its function's environment variables, and creating a client
    reads the whole environment (botocore copies it, urllib iterates it for proxies), which raises
    KeyError for a variable removed between listing and reading it. Seen as sporadic
    ``States.Runtime`` task failures in batch runs under load.
    """
    check_moto_version()
    from moto.awslambda.models import LambdaFunction
    from moto.stepfunctions.parser.asl.utils import boto_client

    with _PATCH_LOCK:
        original = LambdaFunction._invoke_lambda
        original_client_for = boto_client.boto_client_for

        def boto_client_for(*args: Any, **kwargs: Any) -> Any:
            with INVOKE_LOCK:
                return original_client_for(*args, **kwargs)

        # Modules that imported the function by name hold their own reference: replace it there too.
        holders = [boto_client] + [
            module
            for name, module in list(sys.modules.items())
            if name.startswith("moto.stepfunctions.") and getattr(module, "boto_client_for", None) is original_client_for
        ]
        for module in holders:
            module.boto_client_for = boto_client_for

        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            payload, errored, logs = runtime.invoke(self, event)
            with contextlib.suppress(Exception):  # logs are a convenience; never fail an invocation on them
                self.save_logs(logs or "(no output)")
            return payload, errored, logs

        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]

    def undo() -> None:
        with _PATCH_LOCK:
            LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]
            # Modules imported while installed took the wrapper by name too: restore them as well.
            for name, module in list(sys.modules.items()):
                if name.startswith("moto.stepfunctions.") and getattr(module, "boto_client_for", None) is boto_client_for:
                    module.boto_client_for = original_client_for
            for module in holders:
                module.boto_client_for = original_client_for

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


def _set_attribute(owner: Any, name: str, value: Any) -> Callable[[], None]:
    """Set ``owner.name = value``; return a function that restores what was there (or removes it)."""
    had = name in owner.__dict__
    previous = owner.__dict__.get(name)
    setattr(owner, name, value)

    def restore() -> None:
        if had:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)

    return restore


def _sfn_list_state_machine_versions(self: Any) -> Any:
    """``ListStateMachineVersions`` for moto's Step Functions server (moto has the model, not the route)."""
    from moto.core.responses import ActionResult

    arn = self._get_param("stateMachineArn")
    state_machine = self.stepfunction_backend.describe_state_machine(arn)
    versions = sorted(getattr(state_machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    return ActionResult(
        {
            "stateMachineVersions": [
                {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions
            ]
        }
    )


def _sfn_validate_state_machine_definition(self: Any) -> Any:
    """``ValidateStateMachineDefinition``: OK for a JSON object with ``StartAt`` and ``States``, else FAIL."""
    from moto.core.responses import ActionResult

    definition = self._get_param("definition") or ""
    diagnostics = []
    try:
        parsed = json.loads(definition)
        if not isinstance(parsed, dict) or "StartAt" not in parsed or "States" not in parsed:
            diagnostics.append({"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED",
                                "message": "definition must be an object with StartAt and States", "location": "/"})
    except ValueError as error:
        diagnostics.append({"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": str(error), "location": "/"})
    return ActionResult({"result": "FAIL" if diagnostics else "OK", "diagnostics": diagnostics, "truncated": False})


def _drop_secure_transport_denials(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy without its ``Deny ... Bool aws:SecureTransport = false`` statements."""

    def insecure_only(statement: dict[str, Any]) -> bool:
        condition = statement.get("Condition") or {}
        value = (condition.get("Bool") or {}).get("aws:SecureTransport")
        values = value if isinstance(value, list) else [value]
        return statement.get("Effect") == "Deny" and [str(v).lower() for v in values] == ["false"]

    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return {**policy, "Statement": [st for st in statements if not insecure_only(st)]}


def _s3_bucket_get_permission(self: Any, action: str, resource: str) -> Any:
    """``FakeBucket.get_permission`` that treats every request as arriving over TLS."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    raw = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
    policy = _drop_secure_transport_denials(json.loads(raw))
    if not policy["Statement"]:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


# Names of functions whose CreateFunction a client sent again after it had succeeded (see below).
REPLAYED_CREATES: list[str] = []


def _same_function_request(existing: Any, spec: dict[str, Any]) -> bool:
    """True when ``spec`` would create exactly ``existing``, and nothing changed it since."""
    from moto.awslambda.models import _zipfile_content

    zip_file = (spec.get("Code") or {}).get("ZipFile")
    if not zip_file or existing.code_or_config_updated or existing.code.get("ZipFile") is None:
        return False
    return (
        _zipfile_content(zip_file)[2] == existing.code_sha_256
        and spec.get("Role") == existing.role
        and spec.get("Handler") == existing.handler
        and spec.get("Runtime") == existing.run_time
        and (spec.get("Environment") or {}).get("Variables", {}) == existing.environment_vars
        and spec.get("Layers", []) == [layer["Arn"] for layer in existing.layers]
    )


def _lambda_create_function_replayable(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create_function(self: Any) -> Any:
        from moto.awslambda.exceptions import UnknownFunctionException

        name = self.json_body["FunctionName"].rsplit(":", 1)[-1]
        try:
            existing = self.backend.get_function(name, None)
        except UnknownFunctionException:
            return original(self)
        if not _same_function_request(existing, self.json_body):
            return original(self)  # ResourceConflictException, as AWS answers
        REPLAYED_CREATES.append(name)
        return 201, {"status": 201}, json.dumps(existing.get_configuration(on_create=True))

    return create_function


def install_terraform_compat() -> Callable[[], None]:
    """Fill the gaps between moto's server and what the Terraform AWS provider (5.x) calls.

    - Step Functions ``ListStateMachineVersions``: the provider lists versions after creating
      ``aws_sfn_state_machine``; moto has no route for it and answers HTTP 500, which the provider
      retries for ~50 minutes. The patch adds the route, answering from moto's own version list
      (empty unless the machine was published).
    - Step Functions ``ValidateStateMachineDefinition``: the provider validates the definition
      before creating/updating the machine; moto lacks it (HTTP 500, retried). The patch answers OK
      for a JSON object with StartAt/States and FAIL with a diagnostic otherwise.
    - S3 bucket policies: moto evaluates only ``StringEquals`` conditions and treats any other
      condition as matching, so the TLS-only statement (``Deny s3:* if aws:SecureTransport is
      false``) denies every request, including the Lambdas' and the test's uploads. The emulator
      stands in for AWS's HTTPS endpoints, so the patch evaluates bucket policies as for a request
      over TLS: those Deny statements are left out; every other statement is evaluated as before.
    - Lambda ``CreateFunction`` sent again, identical, for a function it already created: when the
      answer to the first request is lost (a 5xx or a dropped connection under load), the SDK
      retries, moto answers ``ResourceConflictException``, and the provider retries *that* for its
      whole propagation timeout (about 5 minutes) while holding the lock that serialises every
      function upload, then fails the apply. The patch answers such a replay with the function it
      created (noted in ``REPLAYED_CREATES``); any other create of an existing name still conflicts.

    Returns a function that undoes every patch.
    """
    check_moto_version()
    from moto.awslambda.responses import LambdaResponse
    from moto.s3.models import FakeBucket
    from moto.stepfunctions.responses import StepFunctionResponse

    undo_steps: list[Callable[[], None]] = []
    with _PATCH_LOCK:
        undo_steps.append(_set_attribute(StepFunctionResponse, "list_state_machine_versions", _sfn_list_state_machine_versions))
        undo_steps.append(
            _set_attribute(StepFunctionResponse, "validate_state_machine_definition", _sfn_validate_state_machine_definition)
        )
        undo_steps.append(_set_attribute(FakeBucket, "get_permission", _s3_bucket_get_permission))
        undo_steps.append(
            _set_attribute(
                LambdaResponse, "create_function", _lambda_create_function_replayable(LambdaResponse.create_function)
            )
        )

    def undo() -> None:
        with _PATCH_LOCK:
            while undo_steps:
                undo_steps.pop()()

    return undo


# ----- nested executions and Distributed Map fidelity (batch runs) -------------------------------

_SYNC_POLL_SECONDS = 0.1


def _sfn_operation_model(action: str) -> Any:
    """botocore's operation model for a snake_case Step Functions action (``start_execution``)."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("stepfunctions")
    for name in model.operation_names:
        if xform_name(name) == action:
            return model.operation_model(name)
    raise KeyError(action)


def _epoch_millis(value: Any) -> Any:
    """Datetimes as Step Functions passes them between states (epoch milliseconds), recursively."""
    from datetime import datetime

    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(item) for item in value]
    return value


def install_nested_executions() -> Callable[[], None]:
    """Let Task states start other state machines: ``arn:aws:states:::states:startExecution[.sync[:2]]``.

    moto's port of the LocalStack interpreter dropped the request/response normalisation the other
    service integrations rely on: the task's ``Parameters`` (``StateMachineArn``, ``Name``,
    ``Input``) reach boto3 in the ASL's PascalCase and serialisation fails with
    ``KeyError: 'StateMachineArn'``; the ``.sync`` resolvers then read ``ExecutionArn`` from a
    camelCase response. The patch gives ``StateTaskServiceSfn`` the normalisation from botocore's
    Step Functions model (parameters to boto3 names, responses to Step Functions' PascalCase,
    datetimes to epoch milliseconds as on AWS). The interpreter's own resolvers then do what AWS does:
    ``.sync:2`` waits for the child and returns DescribeExecution with ``Output`` as JSON; a failed
    child fails the task with ``States.TaskFailed`` and a cause holding the child's ``Error`` and
    ``Cause``. The poll interval of the ``.sync`` wait drops from 0.5 s to 100 ms.

    Returns a function that undoes the patch.
    """
    check_moto_version()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback_module,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    with _PATCH_LOCK:
        original_parameters = StateTaskServiceSfn.__dict__["_normalise_parameters"]
        had_response = "_normalise_response" in StateTaskServiceSfn.__dict__
        original_response = StateTaskServiceSfn.__dict__.get("_normalise_response")
        original_delay = callback_module._DELAY_SECONDS_SYNC_CONDITION_CHECK

        def _normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None) -> None:
            original_parameters(self, parameters, boto_service_name, service_action_name)  # Input -> JSON string
            shape = _sfn_operation_model(self._get_boto_service_action(service_action_name)).input_shape
            if shape is not None:
                self._to_boto_request(parameters, shape)

        def _normalise_response(self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None) -> None:
            if not isinstance(response, dict):
                return
            shape = _sfn_operation_model(self._get_boto_service_action(service_action_name)).output_shape
            if shape is not None:
                self._from_boto_response(response, shape)
            converted = _epoch_millis(response)
            response.clear()
            response.update(converted)

        StateTaskServiceSfn._normalise_parameters = _normalise_parameters  # type: ignore[method-assign]
        StateTaskServiceSfn._normalise_response = _normalise_response  # type: ignore[method-assign]
        callback_module._DELAY_SECONDS_SYNC_CONDITION_CHECK = _SYNC_POLL_SECONDS  # type: ignore[misc]

    def undo() -> None:
        with _PATCH_LOCK:
            StateTaskServiceSfn._normalise_parameters = original_parameters  # type: ignore[method-assign]
            if had_response:
                StateTaskServiceSfn._normalise_response = original_response  # type: ignore[method-assign]
            else:
                delattr(StateTaskServiceSfn, "_normalise_response")
            callback_module._DELAY_SECONDS_SYNC_CONDITION_CHECK = original_delay  # type: ignore[misc]

    return undo


def _iso_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def install_distributed_map_fidelity() -> Callable[[], None]:
    """Make moto's Distributed Map behave like AWS where a batch run depends on it.

    - **Tolerated failures**: moto counts failed items but never compares them with
      ``ToleratedFailureCount(Path)`` / ``ToleratedFailurePercentage(Path)``, so a Map Run with
      failures always succeeds. The patch fails the Map Run with
      ``States.ExceedToleratedFailureThreshold`` when a declared threshold is exceeded (no
      threshold declared = none tolerated, as on AWS).
    - **ResultWriter**: moto evaluates its ``Parameters`` against the Map's results instead of the
      state's input (so ``"Prefix.$": "$.batchId"`` fails), and writes only an empty
      ``manifest.json`` ("TODO: generate result files"). The patch evaluates them against the
      input and writes what AWS writes under ``<Prefix>/<map run id>/``:
      ``SUCCEEDED_0.json`` / ``FAILED_0.json`` (one entry per child workflow execution with
      ``Input``/``Output`` as JSON strings, ``Status``, ``Error``/``Cause`` for failures) and a
      manifest listing them with their sizes.

    Returns a function that undoes every patch.
    """
    check_moto_version()
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
        ResourceEvalS3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import ResultWriter
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
        ToleratedFailureCountDecl,
        ToleratedFailurePercentageDecl,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramStopped, ProgramTimedOut
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    undo_steps: list[Callable[[], None]] = []

    def replace(owner: Any, name: str, new: Any) -> None:
        had = name in owner.__dict__
        previous = owner.__dict__.get(name)
        setattr(owner, name, new)

        def _undo() -> None:
            if had:
                setattr(owner, name, previous)
            else:
                delattr(owner, name)

        undo_steps.append(_undo)

    original_from_state_props = StateMap.from_state_props
    original_eval_input = DistributedItemProcessorWorker._eval_input
    original_eval_job = DistributedItemProcessorWorker._eval_job
    original_map_run = DistributedIterationComponent._map_run

    def from_state_props(self: Any, state_props: Any) -> None:
        original_from_state_props(self, state_props)
        # Which thresholds the ASL declares: an undeclared one is not checked (none declared = 0 tolerated).
        self.iteration_component._rekoflow_thresholds = (
            state_props.get(ToleratedFailureCountDecl) is not None,
            state_props.get(ToleratedFailurePercentageDecl) is not None,
        )

    def eval_input(self: Any, env_frame: Any) -> None:
        original_eval_input(self, env_frame)
        env_frame._rekoflow_item_input = env_frame.states.get_input()

    def eval_job(self: Any, env: Any, job: Any) -> None:
        started = _iso_now()
        original_eval_job(self, env, job)
        entry: dict[str, Any] = {"StartDate": started, "StopDate": _iso_now()}
        try:
            state = env.program_state()
        except Exception:  # noqa: BLE001 - the frame may be gone after an interpreter error
            state = None
        if isinstance(state, ProgramEnded):
            entry.update(Status="SUCCEEDED", Output=json.dumps(job.job_output, separators=(",", ":"), default=str))
        elif isinstance(state, ProgramStopped):
            entry["Status"] = "ABORTED"
        elif isinstance(state, ProgramTimedOut):
            entry.update(Status="TIMED_OUT", Error="States.Timeout")
        else:
            details = (state.error if isinstance(state, ProgramError) else None) or {}
            entry.update(Status="FAILED", Error=details.get("error") or "States.Runtime", Cause=details.get("cause") or "")
        entry["Input"] = json.dumps(getattr(env, "_rekoflow_item_input", job.job_input), separators=(",", ":"), default=str)
        entry["Index"] = job.job_index
        with _PATCH_LOCK:
            self._map_run_record.__dict__.setdefault("_rekoflow_results", []).append(entry)

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        record = eval_input.map_run_record
        counter = record.item_counter
        total = counter.total.get()
        failed = counter.failed.get() + counter.timed_out.get() + counter.aborted.get()
        count_declared, percentage_declared = getattr(self, "_rekoflow_thresholds", (False, False))
        exceeded = False
        if failed:
            if not (count_declared or percentage_declared):
                exceeded = True
            if count_declared and failed > eval_input.tolerated_failure_count:
                exceeded = True
            if percentage_declared and total and failed * 100.0 / total > eval_input.tolerated_failure_percentage:
                exceeded = True
        if exceeded:
            cause = "The specified tolerated failure threshold was exceeded"
            error = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details={"executionFailedEventDetails": ExecutionFailedEventDetails(error=error, cause=cause)},
                )
            )

    def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        env.stack.pop()  # the Map's outputs: replaced by the result files below, as on AWS
        s3 = boto_client_for(service="s3", region=resource_runtime_part.region, state_credentials=state_credentials)
        map_run_record = env.map_run_record_pool_manager.get_all().pop()
        map_run_arn = map_run_record.map_run_arn
        map_run_id = map_run_arn.split(":")[-1]
        prefix = parameters.get("Prefix", "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        bucket = parameters["Bucket"]
        entries = sorted(map_run_record.__dict__.get("_rekoflow_results", []), key=lambda e: e["Index"])
        execution_base = map_run_arn.replace(":mapRun:", ":execution:")
        files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{map_run_arn}#{entry['Index']}"))
            item = {
                "ExecutionArn": f"{execution_base}:{name}",
                "Input": entry["Input"],
                "InputDetails": {"Included": True},
                "Name": name,
                "RedriveCount": 0,
                "RedriveStatus": "NOT_REDRIVABLE",
                "StartDate": entry["StartDate"],
                "StateMachineArn": map_run_arn,
                "Status": entry["Status"],
                "StopDate": entry["StopDate"],
            }
            if "Output" in entry:
                item.update(Output=entry["Output"], OutputDetails={"Included": True})
            for key in ("Error", "Cause"):
                if key in entry:
                    item[key] = entry[key]
            group = "SUCCEEDED" if entry["Status"] == "SUCCEEDED" else "FAILED"
            grouped.setdefault(group, []).append(item)
        for group, items in grouped.items():
            key = f"{prefix}{map_run_id}/{group}_0.json"
            body = json.dumps(items, indent=2).encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[group].append({"Key": key, "Size": len(body)})
        manifest_key = f"{prefix}{map_run_id}/manifest.json"
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
        s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest, indent=2).encode())
        env.stack.append({"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}})

    def result_writer_eval_body(self: Any, env: Any) -> None:
        # AWS evaluates the ResultWriter's Parameters ("Prefix.$") against the Map state's input;
        # moto evaluated them against the Map's results.
        results = env.stack.pop()
        env.stack.append(env.states.get_input())
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()
        env.stack.append(results)
        env.stack.append(parameters)
        self.resource_eval.eval_resource(env=env)

    with _PATCH_LOCK:
        replace(ResultWriter, "_eval_body", result_writer_eval_body)
        replace(StateMap, "from_state_props", from_state_props)
        replace(DistributedItemProcessorWorker, "_eval_input", eval_input)
        replace(DistributedItemProcessorWorker, "_eval_job", eval_job)
        replace(DistributedIterationComponent, "_map_run", map_run)
        replace(ResourceEvalS3, "_handle_put_object", staticmethod(handle_put_object))

    def undo() -> None:
        with _PATCH_LOCK:
            while undo_steps:
                undo_steps.pop()()

    return undo


def install_parse_cache(max_entries: int = 256) -> Callable[[], None]:
    """Parse each ASL definition and intrinsic function once; build a fresh program per execution.

    Only the ANTLR parse tree is cached (read-only once built); the evaluation components are
    rebuilt from it by moto's own preprocessor every time, so executions share no state.
    Returns a function that undoes the patch.
    """
    check_moto_version()
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicLexer import ASLIntrinsicLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicParser import ASLIntrinsicParser
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor as IntrinsicPreprocessor
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    trees: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def cached_tree(kind: str, source: str, build: Callable[[], Any]) -> Any:
        with lock:
            tree = trees.get((kind, source))
        if tree is None:
            tree = build()
            with lock:
                if len(trees) >= max_entries:
                    trees.pop(next(iter(trees)))
                trees[(kind, source)] = tree
        return tree

    def parse_asl(definition: str) -> tuple[Any, Any]:
        def build() -> Any:
            listener = asl_parser.SyntaxErrorListener()
            parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
            parser.removeErrorListeners()
            parser.addErrorListener(listener)
            tree = parser.state_machine()
            if listener.errors:
                raise asl_parser.ASLParserException(errors=listener.errors)
            return tree

        tree = cached_tree("asl", definition, build)
        return Preprocessor().visit(tree), tree

    def parse_intrinsic(src: str) -> tuple[Any, Any]:
        tree = cached_tree("intrinsic", src, lambda: ASLIntrinsicParser(CommonTokenStream(ASLIntrinsicLexer(InputStream(src)))).func_decl())
        return IntrinsicPreprocessor().visit(tree), tree

    with _PATCH_LOCK:
        original_asl = asl_parser.AmazonStateLanguageParser.__dict__["parse"]
        original_intrinsic = intrinsic_parser.IntrinsicParser.__dict__["parse"]
        asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse_asl)  # type: ignore[method-assign]
        intrinsic_parser.IntrinsicParser.parse = staticmethod(parse_intrinsic)  # type: ignore[method-assign]

    def undo() -> None:
        with _PATCH_LOCK:
            asl_parser.AmazonStateLanguageParser.parse = original_asl  # type: ignore[method-assign]
            intrinsic_parser.IntrinsicParser.parse = original_intrinsic  # type: ignore[method-assign]

    return undo
