"""Every patch the local stack applies to moto, one module per concern (docs/architecture.md, ADR-9).

moto is pinned (``MOTO_VERSION``) because these reach into its internals; each module names the moto
code or gap it works around, and each has a test under ``tests/local/`` that fails when an upgrade
changes what it relies on. Every ``install_*`` returns its undo.

- ``botocore_regions``: region lists computed once per process (start-up);
- ``interpreter_imports``: the interpreter's Batch enum without importing moto's EC2 (start-up);
- ``in_process_lambda``: Lambda code runs in this process (no Docker here);
- ``powertools_metrics``: Powertools' metric sets per invocation thread (concurrent invocations);
- ``interpreter_clients``: one shared boto3 client per service for the Step Functions interpreter;
- ``in_process_transport``: the stack's own clients (and its functions') reach it without a socket;
- ``nested_executions``: ``states:startExecution[.sync[:2]]`` Task states;
- ``distributed_map``: tolerated-failure thresholds and ResultWriter files;
- ``parse_cache``: each ASL definition compiled once, each JSONPath parsed once;
- ``request_dispatch``: moto's per-request module listing and method-name lookup, done once;
- ``interpreter_threads``: the interpreter's thread registry keeps running threads only;
- ``state_copies``: the interpreter's copies of state data made by a copier for JSON values;
- ``retry_waits``: Retry waits compressed (tests, demos);
- ``stopped_map``: StopExecution while a Map iterates ends ABORTED;
- ``terraform_compat``: what the Terraform AWS provider calls that moto lacks;
- ``s3_post_policy``: browser uploads (S3 POST policies) checked as S3 checks them;
- ``eventbridge_targets``: rules deliver to Lambda, Step Functions and SQS, at least once;
- ``bucket_cors``: buckets answer browsers with their own CORS rules, not moto's blanket ``*``;
- ``durability``: every change written to the stack's store, and restored from it.

The stack installs them all with :func:`install_stack_patches`.
"""

from __future__ import annotations

from rekoflow.local.patches._base import MOTO_VERSION, PATCH_LOCK, Patcher, Undo, check_moto_version
from rekoflow.local.patches.botocore_regions import install_region_memo
from rekoflow.local.patches.bucket_cors import install_bucket_cors
from rekoflow.local.patches.distributed_map import install_distributed_map_fidelity
from rekoflow.local.patches.durability import ExecutionEvents, install_durability, restore
from rekoflow.local.patches.eventbridge_targets import EventDelivery, install_eventbridge_targets
from rekoflow.local.patches.in_process_lambda import (
    IMPORT_LOCK,
    INVOCATION_STREAM,
    InProcessLambdaRuntime,
    InvocationRecord,
    LambdaContext,
    ThreadEnviron,
    install_in_process_lambda,
)
from rekoflow.local.patches.in_process_transport import WSGIApp, install_in_process_function_clients, route_in_process
from rekoflow.local.patches.interpreter_clients import install_shared_interpreter_clients
from rekoflow.local.patches.interpreter_imports import install_batch_enum_without_ec2
from rekoflow.local.patches.interpreter_threads import install_live_thread_registry
from rekoflow.local.patches.nested_executions import install_nested_executions
from rekoflow.local.patches.parse_cache import install_parse_cache, trusted_definitions
from rekoflow.local.patches.powertools_metrics import install_thread_local_metrics
from rekoflow.local.patches.request_dispatch import install_request_dispatch_caches
from rekoflow.local.patches.retry_waits import scale_retry_waits
from rekoflow.local.patches.s3_post_policy import install_post_policy_checks
from rekoflow.local.patches.state_copies import install_json_state_copies
from rekoflow.local.patches.stopped_map import install_stopped_map
from rekoflow.local.patches.terraform_compat import REPLAYED_CREATES, install_terraform_compat

__all__ = [
    "INVOCATION_STREAM",
    "IMPORT_LOCK",
    "MOTO_VERSION",
    "PATCH_LOCK",
    "REPLAYED_CREATES",
    "EventDelivery",
    "ExecutionEvents",
    "InProcessLambdaRuntime",
    "InvocationRecord",
    "LambdaContext",
    "ThreadEnviron",
    "Patcher",
    "Undo",
    "check_moto_version",
    "install_bucket_cors",
    "install_distributed_map_fidelity",
    "install_batch_enum_without_ec2",
    "install_durability",
    "install_eventbridge_targets",
    "install_in_process_function_clients",
    "install_json_state_copies",
    "install_in_process_lambda",
    "install_live_thread_registry",
    "install_nested_executions",
    "install_parse_cache",
    "install_post_policy_checks",
    "install_request_dispatch_caches",
    "install_region_memo",
    "install_shared_interpreter_clients",
    "install_stopped_map",
    "install_thread_local_metrics",
    "install_stack_patches",
    "install_terraform_compat",
    "restore",
    "route_in_process",
    "scale_retry_waits",
    "trusted_definitions",
]


def install_stack_patches(
    runtime: InProcessLambdaRuntime,
    endpoint_url: str,
    store: object | None = None,
    events: ExecutionEvents | None = None,
    retry_time_scale: float = 1.0,
    credentials: dict[str, str] | None = None,
    delivery: EventDelivery | None = None,
    wsgi_app: WSGIApp | None = None,
) -> Undo:
    """Install every patch the stack uses, in order; return one undo for all of them.

    ``wsgi_app`` (the stack's own application) lets the interpreter's clients reach it in-process.
    """
    undo: list[Undo] = []
    events = events or ExecutionEvents()

    def undo_all() -> None:
        while undo:
            undo.pop()()

    try:
        # First: the patches below import moto's interpreter (which imported all of EC2).
        undo.append(install_region_memo())
        undo.append(install_batch_enum_without_ec2())
        undo.append(install_terraform_compat())
        undo.append(install_bucket_cors())
        undo.append(install_in_process_lambda(runtime))
        undo.append(install_thread_local_metrics())
        undo.append(install_shared_interpreter_clients(endpoint_url, wsgi_app))
        if wsgi_app is not None:
            undo.append(install_in_process_function_clients(endpoint_url, wsgi_app))
        undo.append(install_nested_executions(events))
        undo.append(install_distributed_map_fidelity())
        undo.append(install_parse_cache())
        undo.append(install_post_policy_checks(credentials or {}))
        if delivery is not None:
            undo.append(install_eventbridge_targets(delivery))
        undo.append(install_stopped_map())
        undo.append(install_request_dispatch_caches())
        undo.append(install_live_thread_registry())
        undo.append(install_json_state_copies())
        if retry_time_scale != 1.0:
            undo.append(scale_retry_waits(retry_time_scale))
        undo.append(install_durability(store, events))  # type: ignore[arg-type]
    except BaseException:
        undo_all()
        raise
    return undo_all
