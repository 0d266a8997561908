"""State folders written by rekoflow before the local stack (0.1: ``s3/``, ``table.json``, ``executions/``).

They are imported into the store once, the first time a stack opens the folder, then moved aside
to ``legacy-<time>/`` (kept, so nothing is deleted; remove it when the import looks right).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rekoflow.local.store import StateFormatError, Store, item_key_text

REGION = "us-east-1"
LEGACY_TABLE = "rekoflow-local-results"
LEGACY_PARTS = ("s3", "table.json", "executions")


def _time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def import_if_present(state_dir: Path, store: Store) -> dict[str, int]:
    """Import a 0.1 state folder's files into ``store``; returns how many objects, items, executions."""
    present = [state_dir / part for part in LEGACY_PARTS if (state_dir / part).exists()]
    if not present:
        return {}
    counts = {"objects": 0, "items": 0, "executions": 0}
    try:
        counts["objects"] = _import_objects(state_dir / "s3", store)
        counts["items"] = _import_items(state_dir / "table.json", store)
        counts["executions"] = _import_executions(state_dir / "executions", store)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StateFormatError(
            f"{state_dir} holds state from rekoflow 0.1 that cannot be imported ({type(error).__name__}: {error}); "
            "move s3/, table.json and executions/ away, or use another --state-dir"
        ) from error
    aside = state_dir / time.strftime("legacy-%Y%m%d-%H%M%S")
    aside.mkdir()
    for path in present:
        shutil.move(str(path), str(aside / path.name))
    return counts


def _import_objects(root: Path, store: Store) -> int:
    if not root.is_dir():
        return 0
    count = 0
    for bucket_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        store.put_bucket(bucket_dir.name, REGION, "Enabled", time.time())
        for path in sorted(p for p in bucket_dir.rglob("*") if p.is_file()):
            data = path.read_bytes()
            key = path.relative_to(bucket_dir).as_posix()
            version = {
                "versionId": str(uuid.uuid4()),
                "blob": store.put_blob(data),
                "size": len(data),
                "etag": hashlib.md5(data).hexdigest(),  # noqa: S324 - S3's ETag of a single-part upload
                "lastModified": datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
                "metadata": {"Content-Type": mimetypes.guess_type(path.name)[0] or "binary/octet-stream"},
                "storageClass": "STANDARD",
            }
            store.put_object_versions(bucket_dir.name, key, [version])
            count += 1
    return count


def _import_items(path: Path, store: Store) -> int:
    if not path.is_file():
        return 0
    items = json.loads(path.read_text())
    store.put_items(LEGACY_TABLE, [(item_key_text(item["pk"], None), item) for item in items])
    return len(items)


def _import_executions(directory: Path, store: Store) -> int:
    if not directory.is_dir():
        return 0
    count = 0
    for path in sorted(directory.glob("*.json")):
        record = json.loads(path.read_text())
        described = {
            key: _time(value) if key in ("startDate", "stopDate") else value
            for key, value in record["execution"].items()
        }
        events = [{**event, "timestamp": _time(event.get("timestamp"))} for event in record.get("events") or []]
        arn = described["executionArn"]
        start = described["startDate"]
        store.execution_started(arn, described["stateMachineArn"], described["name"], start.timestamp(), described)
        stop = described.get("stopDate")
        store.execution_ended(
            arn,
            described["status"],
            stop.timestamp() if isinstance(stop, datetime) else None,
            described,
            events,
            [],
            json.dumps(record.get("definition") or {}),
        )
        count += 1
    return count
