"""The local stack's durable state: one SQLite database plus content-addressed object bodies.

What is kept (docs/architecture.md, ADR-10): S3 buckets and every version of
every object, DynamoDB tables and items, and Step Functions executions (description, history, map
runs, the definition they ran). Each change is written when it happens, inside the same lock that
applies it to the emulated service, so the order on disk is the order the service saw:

- object bodies go to ``blobs/<aa>/<sha256>``: written to a temporary file, fsynced, renamed, so
  a body is either whole or absent; the database row that names it is committed after it;
- rows are committed one transaction per change, SQLite in WAL mode with ``synchronous=FULL``:
  a ``kill -9`` at any moment loses at most the change being made, never an earlier one.

The format is versioned (``PRAGMA user_version``); a folder written by a newer rekoflow is refused
with a clear message, and the files an older rekoflow wrote (``s3/``, ``table.json``,
``executions/``) are imported once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
DATABASE = "stack.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, region TEXT NOT NULL, versioning TEXT, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, versions TEXT NOT NULL, PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY, region TEXT NOT NULL, definition TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    tbl TEXT NOT NULL, item_key TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (tbl, item_key)
);
CREATE TABLE IF NOT EXISTS definitions (sha TEXT PRIMARY KEY, definition TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date REAL NOT NULL,
    stop_date REAL,
    description TEXT NOT NULL,
    history TEXT,
    map_runs TEXT,
    definition_sha TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_date);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL,
    created REAL NOT NULL
);
"""


class StateFormatError(RuntimeError):
    """The state folder cannot be opened by this version of rekoflow."""


# ----- JSON with datetimes and bytes, both ways ---------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__datetime__": value.timestamp()}
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if hasattr(value, "value") and type(value).__module__.startswith("moto."):  # str enums of moto's API
        return value.value
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "__datetime__" in obj:
            return datetime.fromtimestamp(obj["__datetime__"], tz=UTC)
        if "__bytes__" in obj:
            return base64.b64decode(obj["__bytes__"])
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text, object_hook=_decode)


def item_key_text(hash_value: dict[str, Any], range_value: dict[str, Any] | None) -> str:
    """The store's key of a DynamoDB item: its key attributes in DynamoDB JSON, as one string."""
    return json.dumps([hash_value, range_value], sort_keys=True)


@dataclass(frozen=True)
class StoredExecution:
    arn: str
    state_machine_arn: str
    name: str
    status: str
    start_date: float
    stop_date: float | None
    description: dict[str, Any]
    interrupted: bool


class Store:
    """The state folder. Thread-safe: one connection, one lock, one transaction per change."""

    def __init__(self, state_dir: Path, fsync: bool = True) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.blob_dir = self.state_dir / "blobs"
        self.blob_dir.mkdir(exist_ok=True)
        self.fsync = fsync
        self._lock = threading.RLock()
        path = self.state_dir / DATABASE
        existed = path.exists()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if existed and version > FORMAT_VERSION:
            self._db.close()
            raise StateFormatError(
                f"{self.state_dir} was written by a newer rekoflow (state format {version}; this one reads "
                f"up to {FORMAT_VERSION}): upgrade rekoflow, or use another --state-dir / REKOFLOW_HOME"
            )
        if existed and version == 0 and self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            self._db.close()
            raise StateFormatError(f"{path} is not a rekoflow state database (no format version)")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={FORMAT_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----- transactions ---------------------------------------------------------------------------
    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ----- object bodies ----------------------------------------------------------------------------
    def blob_path(self, sha: str) -> Path:
        return self.blob_dir / sha[:2] / sha

    def put_blob(self, data: bytes) -> str:
        """Store ``data`` under its SHA-256 (whole or not at all); return the digest."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.blob_path(sha)
        if path.exists() and path.stat().st_size == len(data):
            return sha
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self.fsync:
            _fsync_dir(path.parent)
        return sha

    def collect_garbage(self) -> int:
        """Delete bodies no object version names any more (and unfinished temporary files)."""
        referenced: set[str] = set()
        for (versions,) in self._rows("SELECT versions FROM objects"):
            referenced.update(v["blob"] for v in json.loads(versions) if v.get("blob"))
        removed = 0
        for path in self.blob_dir.glob("*/*"):
            if path.name.startswith(".tmp-") or path.name not in referenced:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # ----- S3 -----------------------------------------------------------------------------------------
    def put_bucket(self, name: str, region: str, versioning: str | None, created: float) -> None:
        self._write([("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?, ?)", (name, region, versioning, created))])

    def delete_bucket(self, name: str) -> None:
        self._write(
            [("DELETE FROM objects WHERE bucket = ?", (name,)), ("DELETE FROM buckets WHERE name = ?", (name,))]
        )

    def buckets(self) -> list[tuple[str, str, str | None, float]]:
        return self._rows("SELECT name, region, versioning, created FROM buckets ORDER BY created")

    def put_object_versions(self, bucket: str, key: str, versions: list[dict[str, Any]]) -> None:
        """Every version of one key, oldest first (an empty list: the key is gone)."""
        if versions:
            self._write([("INSERT OR REPLACE INTO objects VALUES (?, ?, ?)", (bucket, key, dumps(versions)))])
        else:
            self._write([("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))])

    def objects(self, bucket: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for key, versions in self._rows("SELECT key, versions FROM objects WHERE bucket = ?", (bucket,)):
            yield key, loads(versions)

    def object_count(self) -> int:
        return self._rows("SELECT count(*) FROM objects")[0][0]

    # ----- DynamoDB -----------------------------------------------------------------------------------
    def put_table(self, name: str, region: str, definition: dict[str, Any]) -> None:
        self._write([("INSERT OR REPLACE INTO tables VALUES (?, ?, ?)", (name, region, dumps(definition)))])

    def delete_table(self, name: str) -> None:
        self._write([("DELETE FROM items WHERE tbl = ?", (name,)), ("DELETE FROM tables WHERE name = ?", (name,))])

    def tables(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(name, region, loads(definition)) for name, region, definition in self._rows("SELECT * FROM tables")]

    def put_items(self, table: str, changes: list[tuple[str, dict[str, Any] | None]]) -> None:
        """Write ``(item_key, item or None)`` changes to one table in one transaction."""
        statements: list[tuple[str, tuple[str, ...]]] = []
        for item_key, item in changes:
            if item is None:
                statements.append(("DELETE FROM items WHERE tbl = ? AND item_key = ?", (table, item_key)))
            else:
                statements.append(("INSERT OR REPLACE INTO items VALUES (?, ?, ?)", (table, item_key, dumps(item))))
        if statements:
            self._write(statements)

    def replace_items(self, table: str, items: dict[str, dict[str, Any]]) -> None:
        statements: list[tuple[str, tuple[Any, ...]]] = [("DELETE FROM items WHERE tbl = ?", (table,))]
        statements += [("INSERT INTO items VALUES (?, ?, ?)", (table, k, dumps(v))) for k, v in items.items()]
        self._write(statements)

    def items(self, table: str) -> Iterator[dict[str, Any]]:
        for (item,) in self._rows("SELECT item FROM items WHERE tbl = ?", (table,)):
            yield loads(item)

    def item_count(self) -> int:
        return self._rows("SELECT count(*) FROM items")[0][0]

    # ----- Step Functions executions -----------------------------------------------------------------
    def execution_started(
        self, arn: str, state_machine_arn: str, name: str, start_date: float, description: dict[str, Any]
    ) -> None:
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO executions (arn, state_machine_arn, name, status, start_date, description) "
                    "VALUES (?, ?, ?, 'RUNNING', ?, ?)",
                    (arn, state_machine_arn, name, start_date, dumps(description)),
                )
            ]
        )

    def execution_ended(
        self,
        arn: str,
        status: str,
        stop_date: float | None,
        description: dict[str, Any],
        history: list[dict[str, Any]],
        map_runs: list[dict[str, Any]],
        definition: str,
    ) -> None:
        sha = hashlib.sha256(definition.encode()).hexdigest()
        self._write(
            [
                ("INSERT OR IGNORE INTO definitions VALUES (?, ?)", (sha, definition)),
                (
                    "UPDATE executions SET status = ?, stop_date = ?, description = ?, history = ?, map_runs = ?, "
                    "definition_sha = ? WHERE arn = ?",
                    (status, stop_date, dumps(description), dumps(history), dumps(map_runs), sha, arn),
                ),
            ]
        )

    def mark_interrupted(self, stop_date: float, error: str, cause: str) -> list[str]:
        """Executions that were RUNNING when the stack stopped: now ABORTED, flagged, with a cause."""
        running = self._rows("SELECT arn, description FROM executions WHERE status = 'RUNNING'")
        statements = []
        for arn, text in running:
            description = loads(text)
            description.update(
                status="ABORTED", stopDate=datetime.fromtimestamp(stop_date, tz=UTC), error=error, cause=cause
            )
            statements.append(
                (
                    "UPDATE executions SET status = 'ABORTED', stop_date = ?, description = ?, interrupted = 1 "
                    "WHERE arn = ?",
                    (stop_date, dumps(description), arn),
                )
            )
        if statements:
            self._write(statements)
        return [arn for arn, _ in running]

    _EXECUTION_COLUMNS = "arn, state_machine_arn, name, status, start_date, stop_date, description, interrupted"

    def executions(self) -> list[StoredExecution]:
        rows = self._rows(f"SELECT {self._EXECUTION_COLUMNS} FROM executions ORDER BY start_date")
        return [_stored_execution(row) for row in rows]

    def execution(self, arn: str) -> StoredExecution | None:
        rows = self._rows(f"SELECT {self._EXECUTION_COLUMNS} FROM executions WHERE arn = ?", (arn,))
        return _stored_execution(rows[0]) if rows else None

    def execution_details(self, arn: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
        """``(history, map runs, definition)`` of a finished execution (loaded on demand: they are large)."""
        rows = self._rows(
            "SELECT e.history, e.map_runs, d.definition FROM executions e "
            "LEFT JOIN definitions d ON d.sha = e.definition_sha WHERE e.arn = ?",
            (arn,),
        )
        if not rows:
            return [], [], None
        history, map_runs, definition = rows[0]
        return loads(history) or [], loads(map_runs) or [], definition

    def execution_count(self) -> int:
        return self._rows("SELECT count(*) FROM executions")[0][0]

    # ----- events waiting to be delivered (EventBridge targets: at least once, across restarts) ---------
    def outbox_add(self, target: dict[str, Any], payload: str, now: float) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "INSERT INTO outbox (target, payload, attempts, not_before, created) VALUES (?, ?, 0, ?, ?)",
                (json.dumps(target), payload, now, now),
            )
            self._db.execute("COMMIT")
            assert cursor.lastrowid is not None  # an INSERT always sets it
            return cursor.lastrowid

    def outbox_due(self, now: float, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT id, target, payload, attempts, not_before, created FROM outbox "
            "WHERE not_before <= ? ORDER BY id LIMIT ?",
            (now, limit),
        )
        return [_outbox_row(row) for row in rows]

    def outbox_retry(self, entry_id: int, attempts: int, not_before: float) -> None:
        self._write([("UPDATE outbox SET attempts = ?, not_before = ? WHERE id = ?", (attempts, not_before, entry_id))])

    def outbox_done(self, entry_id: int) -> None:
        self._write([("DELETE FROM outbox WHERE id = ?", (entry_id,))])

    def outbox_count(self) -> int:
        return self._rows("SELECT count(*) FROM outbox")[0][0]

    def interrupted(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT name FROM executions WHERE interrupted = 1 ORDER BY start_date")]


def _outbox_row(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0],
        "target": json.loads(row[1]),
        "payload": row[2],
        "attempts": row[3],
        "notBefore": row[4],
        "created": row[5],
    }


def _stored_execution(row: tuple[Any, ...]) -> StoredExecution:
    return StoredExecution(row[0], row[1], row[2], row[3], row[4], row[5], loads(row[6]), bool(row[7]))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
