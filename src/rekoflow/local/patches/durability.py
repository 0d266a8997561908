"""Every change to S3, DynamoDB and Step Functions executions is written to the store as it happens.

moto keeps its services in memory (docs/architecture.md, ADR-10). These hooks
wrap the backend methods that change what the stack must not lose, apply the change and write it
to :class:`rekoflow.local.store.Store` under one lock per service, so a client's request is answered
only after its change is on disk, and the order on disk is the order moto applied them:

- S3 (``moto.s3.models.S3Backend``): bucket create/delete/versioning, ``put_object`` (which copies
  and multipart completions go through) and ``delete_object``; the key's whole version list is
  written. Object bodies are then served from the store's files, so memory does not grow with the
  number of objects.
- DynamoDB (``moto.dynamodb.models.DynamoDBBackend``): table create/update/delete, put/update/
  delete item, transactions, PartiQL writes. The lock also makes conditional writes atomic under
  concurrency (moto checks the condition and writes without one: two conditional puts could both win).
- Step Functions (``moto.stepfunctions.parser``): an execution is written when it starts and when it
  ends (description, history, map runs, definition); the finished execution then replaces moto's
  live one (which holds the interpreter's whole environment) with a light record read from the
  store, and waiters are told (:class:`ExecutionEvents`).

:func:`restore` loads the store into fresh backends at start-up; executions the store still has as
RUNNING were cut off by a stop or crash and come back ABORTED with a cause saying so.
"""

from __future__ import annotations

import collections
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeGuard

from rekoflow.local.patches._base import Patcher, Undo, install
from rekoflow.local.store import Store, item_key_text

INTERRUPTED_ERROR = "Local.StackStopped"
INTERRUPTED_CAUSE = (
    "The local stack stopped (killed, crashed or shut down) while this execution was running; it did not finish. "
    "Start it again under a new name."
)

_restoring = threading.local()


@contextlib.contextmanager
def restoring() -> Iterator[None]:
    """Changes made inside are the store's own contents coming back: do not write them again."""
    _restoring.active = True
    try:
        yield
    finally:
        _restoring.active = False


def _is_restoring() -> bool:
    return getattr(_restoring, "active", False)


def _writing(store: Store | None) -> TypeGuard[Store]:
    """Whether a change is written: there is a store, and the change is not the store coming back."""
    return store is not None and not _is_restoring()


# ----- execution events (waiting and progress without polling) ----------------------------------------
class ExecutionEvents:
    """Executions that ended, in order, for clients that wait on one or follow a batch."""

    def __init__(self, keep: int = 10000) -> None:
        self._condition = threading.Condition()
        self._events: collections.deque[dict[str, Any]] = collections.deque(maxlen=keep)
        self._sequence = 0

    def publish(self, event: dict[str, Any]) -> None:
        with self._condition:
            self._sequence += 1
            self._events.append({**event, "sequence": self._sequence})
            self._condition.notify_all()

    @property
    def sequence(self) -> int:
        return self._sequence

    def since(self, sequence: int, timeout_s: float, prefix: str = "") -> list[dict[str, Any]]:
        """Events after ``sequence`` (names starting with ``prefix``), waiting up to ``timeout_s`` for one."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._condition:
            while True:
                found = [e for e in self._events if e["sequence"] > sequence and e["name"].startswith(prefix)]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._condition.wait(remaining)

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._condition:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True


# ----- S3 --------------------------------------------------------------------------------------------
class _BlobBuffer:
    """The file-like buffer moto's ``FakeKey`` reads its body from, backed by a stored body file."""

    def __init__(self, path: Any) -> None:
        self._path = path
        self._position = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = offset if whence == 0 else self._position + offset
        return self._position

    def read(self, size: int = -1) -> bytes:
        with open(self._path, "rb") as handle:
            handle.seek(self._position)
            data = handle.read() if size is None or size < 0 else handle.read(size)
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def truncate(self, size: int | None = None) -> None:
        raise OSError("a stored object body is immutable")

    def write(self, data: bytes) -> int:
        raise OSError("a stored object body is immutable")

    def close(self) -> None:
        return None

    @property
    def closed(self) -> bool:
        return False


def _version_record(store: Store, version: Any) -> dict[str, Any]:
    from moto.s3.models import FakeDeleteMarker

    if isinstance(version, FakeDeleteMarker):
        return {"versionId": version.version_id, "deleteMarker": True, "lastModified": version.last_modified}
    buffer = version._value_buffer
    if isinstance(buffer, _BlobBuffer):
        blob = buffer._path.name
    else:
        blob = store.put_blob(version.value)
        # The body now lives in the store's file: moto's copy in memory is let go.
        version._value_buffer = _BlobBuffer(store.blob_path(blob))
        with contextlib.suppress(Exception):
            buffer.close()
    return {
        "versionId": version._version_id,
        "blob": blob,
        "size": version.size,
        "etag": version.etag.strip('"'),
        "lastModified": version.last_modified,
        "metadata": dict(version.metadata),
        "storageClass": version.storage_class,
        "encryption": version.encryption,
        "kmsKeyId": version.kms_key_id,
        "bucketKeyEnabled": version.bucket_key_enabled,
        "checksumAlgorithm": version.checksum_algorithm,
        "checksumValue": version.checksum_value,
        "checksumType": getattr(version, "checksum_type", None),
        "websiteRedirectLocation": version.website_redirect_location,
    }


def _persist_key(store: Store, backend: Any, bucket_name: str, key_name: str) -> None:
    bucket = backend.get_bucket(bucket_name)
    versions = [_version_record(store, v) for v in bucket.keys.getlist(key_name, [])]
    store.put_object_versions(bucket_name, key_name, versions)


def _persist_bucket(store: Store, bucket: Any) -> None:
    created = bucket.creation_date.timestamp() if isinstance(bucket.creation_date, datetime) else time.time()
    store.put_bucket(bucket.name, bucket.region_name, bucket.versioning_status, created)


_S3_LOCK = threading.RLock()
_S3_STORE: list[Store] = []  # the store S3 changes go to while installed


def key_changed(backend: Any, bucket_name: str, key_name: str) -> None:
    """Write a key again after another patch changed it in place (e.g. a checksum S3 keeps with a POST)."""
    with _S3_LOCK:
        if _S3_STORE and not _is_restoring():
            _persist_key(_S3_STORE[-1], backend, bucket_name, key_name)


def _apply_s3(patcher: Patcher, store: Store | None) -> None:
    from moto.s3.models import S3Backend

    lock = _S3_LOCK
    if store is not None:
        _S3_STORE.append(store)
        patcher.on_undo(lambda: _S3_STORE.remove(store))
    original_put = S3Backend.put_object
    original_delete = S3Backend.delete_object
    original_create = S3Backend.create_bucket
    original_delete_bucket = S3Backend.delete_bucket
    original_versioning = S3Backend.put_bucket_versioning

    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            key = original_put(self, bucket_name, key_name, *args, **kwargs)
            if _writing(store):
                _persist_key(store, self, bucket_name, key_name)
            return key

    def delete_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            result = original_delete(self, bucket_name, key_name, *args, **kwargs)
            if _writing(store):
                _persist_key(store, self, bucket_name, key_name)
            return result

    def create_bucket(self: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            bucket = original_create(self, bucket_name, *args, **kwargs)
            if _writing(store):
                _persist_bucket(store, bucket)
            return bucket

    def delete_bucket(self: Any, bucket_name: str) -> Any:
        with lock:
            bucket = original_delete_bucket(self, bucket_name)
            if bucket is not None and _writing(store):
                store.delete_bucket(bucket_name)
            return bucket

    def put_bucket_versioning(self: Any, bucket_name: str, status: str) -> None:
        with lock:
            original_versioning(self, bucket_name, status)
            if _writing(store):
                _persist_bucket(store, self.get_bucket(bucket_name))

    patcher.set(S3Backend, "put_object", put_object)
    patcher.set(S3Backend, "delete_object", delete_object)
    patcher.set(S3Backend, "create_bucket", create_bucket)
    patcher.set(S3Backend, "delete_bucket", delete_bucket)
    patcher.set(S3Backend, "put_bucket_versioning", put_bucket_versioning)


# ----- DynamoDB ----------------------------------------------------------------------------------------
def _item_key(table: Any, attributes: dict[str, Any]) -> tuple[str, Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = attributes[table.hash_key_attr]
    range_value = attributes.get(table.range_key_attr) if table.range_key_attr else None
    text = item_key_text(hash_value, range_value)
    return text, DynamoType(hash_value), DynamoType(range_value) if range_value is not None else None


def _persist_items(store: Store, backend: Any, table_name: str, keys: list[dict[str, Any]]) -> None:
    table = backend.get_table(table_name)
    changes = []
    for attributes in keys:
        text, hash_value, range_value = _item_key(table, attributes)
        item = table.get_item(hash_value, range_value)
        changes.append((text, item.to_json()["Attributes"] if item is not None else None))
    store.put_items(table_name, changes)


def _persist_whole_table(store: Store, backend: Any, table_name: str) -> None:
    table = backend.get_table(table_name)
    items = {}
    for item in table.all_items():
        attributes = item.to_json()["Attributes"]
        items[_item_key(table, attributes)[0]] = attributes
    store.replace_items(table_name, items)


def _table_definition(table: Any) -> dict[str, Any]:
    """The ``DynamoDBBackend.create_table`` arguments that recreate ``table`` (a moto ``Table``), plus its TTL."""
    description = table.describe()["TableDescription"]

    def indexes(kind: str) -> list[dict[str, Any]]:
        keep = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
        return [{k: index[k] for k in keep if k in index} for index in description.get(kind, [])]

    return {
        "schema": table.schema,
        "throughput": table.throughput,
        "attr": table.attr,
        "global_indexes": indexes("GlobalSecondaryIndexes"),
        "indexes": indexes("LocalSecondaryIndexes"),
        "streams": None,
        "billing_mode": table.billing_mode,
        "sse_specification": None,
        "tags": list(table.tags or []),
        "deletion_protection_enabled": bool(table.deletion_protection_enabled),
        "warm_throughput": None,
        "ttl": table.ttl,
    }


def _apply_dynamodb(patcher: Patcher, store: Store | None) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {
        name: getattr(DynamoDBBackend, name)
        for name in (
            "put_item",
            "update_item",
            "delete_item",
            "transact_write_items",
            "create_table",
            "delete_table",
            "update_table",
            "update_time_to_live",
            "execute_statement",
            "execute_transaction",
            "batch_execute_statement",
        )
    }

    def writes_item(name: str, keys_of: Callable[..., tuple[str, list[dict[str, Any]]]]) -> Callable[..., Any]:
        original = originals[name]

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                result = original(self, *args, **kwargs)
                if _writing(store):
                    table_name, keys = keys_of(self, *args, **kwargs)
                    _persist_items(store, self, table_name, keys)
                return result

        return method

    def put_keys(
        self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        return table_name, [item_attrs]

    def key_keys(
        self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        return table_name, [key]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with lock:
            result = originals["transact_write_items"](self, transact_items)
            if _writing(store):
                by_table: dict[str, list[dict[str, Any]]] = {}
                for entry in transact_items:
                    for kind in ("Put", "Update", "Delete"):
                        if kind in entry:
                            body = entry[kind]
                            by_table.setdefault(body["TableName"], []).append(body.get("Item") or body["Key"])
                for table_name, keys in by_table.items():
                    _persist_items(store, self, table_name, keys)
            return result

    def table_change(name: str) -> Callable[..., Any]:
        original = originals[name]

        def method(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            with lock:
                result = original(self, table_name, *args, **kwargs)
                if _writing(store):
                    table = self.tables.get(table_name)
                    if table is None:
                        store.delete_table(table_name)
                    else:
                        store.put_table(table_name, self.region_name, _table_definition(table))
                return result

        return method

    def partiql(name: str) -> Callable[..., Any]:
        original = originals[name]

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                result = original(self, *args, **kwargs)
                if _writing(store):
                    # PartiQL names its tables inside the statement text: resynchronise the tables it names.
                    text = json.dumps([args, kwargs], default=str)
                    for table_name in list(self.tables):
                        if table_name in text:
                            _persist_whole_table(store, self, table_name)
                return result

        return method

    patcher.set(DynamoDBBackend, "put_item", writes_item("put_item", put_keys))
    patcher.set(DynamoDBBackend, "update_item", writes_item("update_item", key_keys))
    patcher.set(DynamoDBBackend, "delete_item", writes_item("delete_item", key_keys))
    patcher.set(DynamoDBBackend, "transact_write_items", transact_write_items)
    for name in ("create_table", "delete_table", "update_table", "update_time_to_live"):
        patcher.set(DynamoDBBackend, name, table_change(name))
    for name in ("execute_statement", "execute_transaction", "batch_execute_statement"):
        patcher.set(DynamoDBBackend, name, partiql(name))


# ----- Step Functions executions -----------------------------------------------------------------------
class _StoredMapRun:
    def __init__(self, record: dict[str, Any]) -> None:
        self.map_run_arn = record["describe"]["mapRunArn"]
        self._record = record

    def describe(self) -> dict[str, Any]:
        return self._record["describe"]

    def list_item(self) -> dict[str, Any]:
        return self._record["list_item"]


class _StoredMapRuns:
    def __init__(self, loader: Callable[[], list[dict[str, Any]]]) -> None:
        self._loader = loader

    def get(self, map_run_arn: str) -> _StoredMapRun | None:
        return next((run for run in self.get_all() if run.map_run_arn == map_run_arn), None)

    def get_all(self) -> list[_StoredMapRun]:
        return [_StoredMapRun(record) for record in self._loader()]


class _StoredWorker:
    """Stands in for an execution's worker once it has ended: answers map-run lookups from the store."""

    def __init__(self, loader: Callable[[], list[dict[str, Any]]]) -> None:
        self.env = type("StoredEnvironment", (), {})()
        self.env.map_run_record_pool_manager = _StoredMapRuns(loader)

    def stop(self, stop_date: Any, error: Any, cause: Any) -> None:
        return None  # it has already ended


class PersistedExecution:
    """A finished execution as moto's Step Functions responses read it, backed by the store."""

    def __init__(self, store: Store, stored: Any, state_machine: Any) -> None:
        from moto.stepfunctions.parser.api import ExecutionStatus

        description = stored.description
        self._store = store
        self.name = stored.name
        self.exec_arn = self.execution_arn = stored.arn
        self.state_machine_arn = stored.state_machine_arn
        self.state_machine = state_machine
        self.sm_type = getattr(state_machine, "sm_type", "STANDARD")
        self.start_date = description["startDate"]
        self.stop_date = description.get("stopDate")
        self.exec_status = ExecutionStatus(stored.status)
        self.execution_input = description.get("input") or "{}"
        self.input_data = json.loads(self.execution_input)
        self.output = description.get("output")
        self.output_details = description.get("outputDetails") or {"included": True}
        self.input_details = description.get("inputDetails") or {"included": True}
        self.error = description.get("error")
        self.cause = description.get("cause")
        self.trace_header = description.get("traceHeader")
        self.interrupted = stored.interrupted
        self.exec_worker = _StoredWorker(lambda: self._details()[1])

    @property
    def status(self) -> str:
        return self.exec_status.value

    def _details(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
        return self._store.execution_details(self.exec_arn)

    def to_history_output(self) -> dict[str, Any]:
        events = self._details()[0]
        if not events:  # cut off by a stop: what is known of it
            events = _interrupted_history(self)
        return {"events": events}

    def stop(self, stop_date: Any, error: Any, cause: Any) -> None:
        return None


def _interrupted_history(execution: PersistedExecution) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": execution.start_date,
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
            "executionStartedEventDetails": {"input": execution.execution_input, "inputDetails": {"truncated": False}},
        },
        {
            "timestamp": execution.stop_date or execution.start_date,
            "type": "ExecutionAborted",
            "id": 2,
            "previousEventId": 1,
            "executionAbortedEventDetails": {
                "error": execution.error or INTERRUPTED_ERROR,
                "cause": execution.cause or INTERRUPTED_CAUSE,
            },
        },
    ]


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def _sfn_backend(execution: Any) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[execution.account_id][execution.region_name]


def _replace_in_machine(execution: Any, replacement: Any) -> None:
    backend = _sfn_backend(execution)
    for machine in backend.state_machines:
        executions = machine.executions
        for index, candidate in enumerate(executions):
            if candidate is execution:
                executions[index] = replacement
                return


def _apply_executions(patcher: Patcher, store: Store | None, events: ExecutionEvents) -> None:
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

    original_start = Execution.start
    original_terminated = BaseExecutionWorkerCommunication.terminated

    def standard(execution: Any) -> bool:
        return str(getattr(execution.sm_type, "value", execution.sm_type)) == "STANDARD"

    def start(self: Any) -> None:
        if store is not None and standard(self):
            description = {
                "executionArn": self.exec_arn,
                "stateMachineArn": self.state_machine.arn,
                "name": self.name,
                "status": "RUNNING",
                "startDate": self.start_date,
                "input": self.execution_input,
            }
            store.execution_started(
                self.exec_arn, self.state_machine_arn, self.name, self.start_date.timestamp(), description
            )
        original_start(self)

    def terminated(self: Any) -> None:
        original_terminated(self)
        execution = self.execution
        if not standard(execution):
            return
        if store is not None:
            _store_ended(store, execution)
        events.publish(
            {
                "executionArn": execution.exec_arn,
                "name": execution.name,
                "stateMachineArn": execution.state_machine_arn,
                "status": execution.status,
                "output": execution.output
                if isinstance(execution.output, str)
                else (json.dumps(execution.output, separators=(",", ":")) if execution.output is not None else None),
            }
        )

    patcher.set(Execution, "start", start)
    patcher.set(BaseExecutionWorkerCommunication, "terminated", terminated)


def _store_ended(store: Store, execution: Any) -> None:
    """Write the finished execution, then let moto's live one (and its interpreter state) go."""
    env = execution.exec_worker.env
    description = dict(execution.to_describe_output())
    description["status"] = execution.status
    history = list(env.event_manager.get_event_history()) if env is not None else []
    map_runs = []
    if env is not None:
        for record in env.map_run_record_pool_manager.get_all():
            map_runs.append({"describe": dict(record.describe()), "list_item": dict(record.list_item())})
    store.execution_ended(
        execution.exec_arn,
        execution.status,
        _epoch(execution.stop_date),
        description,
        history,
        map_runs,
        execution.state_machine.definition,
    )
    stored = store.execution(execution.exec_arn)
    _replace_in_machine(execution, PersistedExecution(store, stored, execution.state_machine))


# ----- install and restore -------------------------------------------------------------------------------
def install_durability(store: Store | None, events: ExecutionEvents) -> Undo:
    """Write every change of S3, DynamoDB and Step Functions executions to ``store`` (None: write nothing).

    Either way, DynamoDB writes are serialised (atomic conditional writes) and ended executions are
    published to ``events``.
    """

    def apply(patcher: Patcher) -> None:
        _apply_s3(patcher, store)
        _apply_dynamodb(patcher, store)
        _apply_executions(patcher, store, events)

    return install(apply)


def restore(store: Store, account_id: str, region: str) -> dict[str, Any]:
    """Load the store into moto's (fresh) backends; returns what came back and what was cut off."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import FakeDeleteMarker, FakeKey, s3_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    report: dict[str, Any] = {"buckets": 0, "objects": 0, "tables": 0, "items": 0, "executions": 0, "interrupted": []}
    with restoring():
        s3 = s3_backends[account_id]["aws"]
        for name, bucket_region, versioning, _created in store.buckets():
            if name not in s3.buckets:
                s3.create_bucket(name, bucket_region)
            if versioning:
                s3.put_bucket_versioning(name, versioning)
            report["buckets"] += 1
        for name in list(s3.buckets):
            bucket = s3.buckets[name]
            for key_name, versions in store.objects(name):
                restored: list[Any] = []  # FakeKey and FakeDeleteMarker versions, oldest first
                for version in versions:
                    if version.get("deleteMarker"):
                        marker = FakeDeleteMarker(
                            key=restored[-1] if restored else FakeKey(key_name, b"", account_id, bucket.region_name)
                        )
                        marker._version_id = version["versionId"]
                        marker.last_modified = _naive(version["lastModified"])
                        restored.append(marker)
                        continue
                    key = FakeKey(
                        name=key_name,
                        value=b"",
                        account_id=account_id,
                        region_name=bucket.region_name,
                        storage=version.get("storageClass"),
                        etag=version["etag"],
                        is_versioned=bucket.is_versioned,
                        version_id=version["versionId"],
                        bucket_name=name,
                        encryption=version.get("encryption"),
                        kms_key_id=version.get("kmsKeyId"),
                        bucket_key_enabled=version.get("bucketKeyEnabled"),
                        checksum_value=version.get("checksumValue"),
                        checksum_type=version.get("checksumType"),
                    )
                    key._value_buffer.close()
                    # Read from the blob file when asked: moto reads the buffer like a file.
                    key._value_buffer = _BlobBuffer(store.blob_path(version["blob"]))  # type: ignore[assignment]
                    key.contentsize = version["size"]
                    key.last_modified = _naive(version["lastModified"])
                    key.checksum_algorithm = version.get("checksumAlgorithm")
                    key.website_redirect_location = version.get("websiteRedirectLocation")
                    key.set_metadata(dict(version.get("metadata") or {}), replace=True)
                    restored.append(key)
                if restored:
                    bucket.keys.setlist(key_name, restored)
                    report["objects"] += 1

        dynamodb = dynamodb_backends[account_id][region]
        for name, table_region, definition in store.tables():
            if name not in dynamodb.tables and table_region == region:
                ttl = definition.pop("ttl", None)
                dynamodb.create_table(name, **definition)
                if ttl:
                    dynamodb.tables[name].ttl = ttl
            report["tables"] += 1
        for name, table in dynamodb.tables.items():
            for attributes in store.items(name):
                table.put_item(attributes, overwrite=True)
                report["items"] += 1

        report["interrupted"] = store.mark_interrupted(time.time(), INTERRUPTED_ERROR, INTERRUPTED_CAUSE)
        sfn = stepfunctions_parser_backends[account_id][region]
        machines = {machine.arn: machine for machine in sfn.state_machines}
        for stored in store.executions():
            machine = machines.get(stored.state_machine_arn)
            if machine is None:
                continue  # its state machine is not in this stack any more
            # Answers what moto asks of an ended Execution (describe, history) from the store.
            machine.executions.append(PersistedExecution(store, stored, machine))  # type: ignore[arg-type]
            report["executions"] += 1
    return report


def _naive(value: Any) -> Any:
    """moto keeps S3 times as naive UTC datetimes."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
