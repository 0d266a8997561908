"""The stack's store: atomic bodies, versioned format, state folders of older versions, atomic conditional writes."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from botocore.exceptions import ClientError

from rekoflow.local.store import FORMAT_VERSION, StateFormatError, Store
from support.stack import running_stack


def test_bodies_are_stored_once_by_content_and_unreferenced_ones_are_collected(tmp_path):
    store = Store(tmp_path)
    first = store.put_blob(b"same bytes")
    assert store.put_blob(b"same bytes") == first
    assert store.blob_path(first).read_bytes() == b"same bytes"
    store.put_object_versions("b", "k", [{"versionId": "1", "blob": first, "size": 10}])
    orphan = store.put_blob(b"written, then its row never committed (a kill)")
    (store.blob_path(first).parent / ".tmp-half-written").write_bytes(b"partial")
    assert store.collect_garbage() == 2
    assert store.blob_path(first).exists() and not store.blob_path(orphan).exists()
    assert not (store.blob_path(first).parent / ".tmp-half-written").exists()


def test_a_folder_written_by_a_newer_version_is_refused_with_a_clear_message(tmp_path):
    Store(tmp_path).close()
    with sqlite3.connect(tmp_path / "stack.db") as db:
        db.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    with pytest.raises(StateFormatError, match="written by a newer rekoflow"):
        Store(tmp_path)


def test_a_foreign_database_is_refused(tmp_path):
    with sqlite3.connect(tmp_path / "stack.db") as db:
        db.execute("CREATE TABLE unrelated (x)")
    with pytest.raises(StateFormatError, match="not a rekoflow state database"):
        Store(tmp_path)


def test_a_state_folder_of_rekoflow_0_1_is_imported_once(tmp_path, fake_rekognition):
    """0.1 kept s3/<bucket>/<key>, table.json and executions/<name>.json; the first stack imports them."""
    state = tmp_path / "state"
    (state / "s3" / "rekoflow-local-images" / "uploads").mkdir(parents=True)
    (state / "s3" / "rekoflow-local-images" / "uploads" / "old.png").write_bytes(b"\x89PNG old photo")
    item = {"pk": {"S": "old-request"}, "status": {"S": "SUCCEEDED"}, "recordType": {"S": "ANALYSIS"}}
    (state / "table.json").write_text(json.dumps([item]))
    (state / "executions").mkdir()
    arn = "arn:aws:states:us-east-1:123456789012:execution:rekoflow-local-image-analysis:old-request"
    (state / "executions" / "old-request.json").write_text(
        json.dumps(
            {
                "stateMachine": "image_analysis",
                "definition": {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}},
                "execution": {
                    "executionArn": arn,
                    "name": "old-request",
                    "status": "SUCCEEDED",
                    "input": "{}",
                    "output": "{}",
                    "stateMachineArn": "arn:aws:states:us-east-1:123456789012:"
                    "stateMachine:rekoflow-local-image-analysis",
                    "startDate": "2026-11-01T10:00:00+00:00",
                    "stopDate": "2026-11-01T10:00:02+00:00",
                },
                "events": [
                    {
                        "id": 1,
                        "previousEventId": 0,
                        "type": "ExecutionStarted",
                        "timestamp": "2026-11-01T10:00:00+00:00",
                        "executionStartedEventDetails": {"input": "{}"},
                    }
                ],
            }
        )
    )
    with running_stack(state_dir=state, rekognition_endpoint=fake_rekognition.url) as workflow:
        assert (
            workflow.s3.get_object(Bucket="rekoflow-local-images", Key="uploads/old.png")["Body"].read()
            == b"\x89PNG old photo"
        )
        assert workflow.get_record("old-request")["status"] == "SUCCEEDED"
        assert workflow.describe(arn).status == "SUCCEEDED"
        assert [e["type"] for e in workflow.history(arn)] == ["ExecutionStarted"]
    aside = [p for p in state.iterdir() if p.name.startswith("legacy-")]
    assert len(aside) == 1 and (aside[0] / "table.json").is_file()  # kept, moved out of the way
    assert not (state / "table.json").exists()
    with running_stack(state_dir=state, rekognition_endpoint=fake_rekognition.url) as workflow:  # not imported twice
        assert workflow.get_record("old-request")["status"] == "SUCCEEDED"
        assert workflow.status["restored"]["items"] >= 1


def test_conditional_writes_are_atomic_under_concurrency(fake_rekognition, monkeypatch):
    """moto checks a condition and writes without a lock: the stack serialises writes so exactly one wins."""
    from moto.dynamodb.models.table import Table

    original_get_item = Table.get_item

    def slow_get_item(self, *args, **kwargs):
        # Widen moto's window between reading the current item and writing the new one.
        found = original_get_item(self, *args, **kwargs)
        threading.Event().wait(0.02)
        return found

    monkeypatch.setattr(Table, "get_item", slow_get_item)
    with running_stack(rekognition_endpoint=fake_rekognition.url) as workflow:
        table = workflow.table_name
        winners, losers = [], []
        barrier = threading.Barrier(12)

        def claim(worker: int) -> None:
            client = workflow.stack.client("dynamodb")
            barrier.wait(timeout=30)
            try:
                client.put_item(
                    TableName=table,
                    Item={"pk": {"S": "lease#model"}, "holder": {"S": str(worker)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                winners.append(worker)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                losers.append(worker)

        threads = [threading.Thread(target=claim, args=(worker,)) for worker in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(winners) == 1 and len(losers) == 11
        assert workflow.get_record("lease#model")["holder"] == str(winners[0])
