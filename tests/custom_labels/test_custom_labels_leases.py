"""Many requests on one model (docs/architecture.md, ADR-19): leases through the real ASL, the real
handlers and the real engine. Each test has a model version of its own and counts the engine's
StartProjectVersion/StopProjectVersion calls for it; every wait is for an outcome."""

from __future__ import annotations

import threading
import uuid

import pytest

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.conftest import (
    DEADLINE_S,
    child_executions,
    custom_request,
    entered_states,
    lease_item,
    model_status,
    wait_for_status,
    wait_for_watchers_to_end,
    wait_until,
    watchers,
)
from rekoflow_common import model_leases

pytestmark = pytest.mark.engine

BURST = 8


def participants(runtime, arn: str) -> set[str]:
    item = lease_item(runtime, arn) or {}
    return set(item.get("holders") or {}) | set(item.get("waiters") or {})


def test_a_burst_on_a_stopped_model_starts_it_once_and_it_stops_once_idle(
    cl_runtime, engine_client, datasets, new_model, engine_calls
):
    arn = new_model()
    engine_calls.reset()
    # Detections wait at a gate until every request holds a lease or waits for one (3 may hold it at
    # once: 3 per inference unit), so the burst overlaps however slowly the machine runs it.
    engine_calls.gate.clear()
    labels = ["cat", "cup", "rocket"]
    started = []
    for i in range(BURST):
        label = labels[i % 3]
        request = custom_request(datasets["held_out"][label][i % 2], arn, maxRequestsPerInferenceUnit=3)
        started.append((label, cl_runtime.start_analysis(request)))
    wait_until(lambda: len(participants(cl_runtime, arn)) == BURST, f"all {BURST} requests to hold or wait for a lease")
    engine_calls.gate.set()
    results = [(label, cl_runtime.wait(execution, timeout_s=DEADLINE_S)) for label, execution in started]
    for label, result in results:
        assert result.succeeded, (result.error, result.cause)
        assert cl_runtime.get_record(result.name)["results"]["custom"]["labels"][0]["name"] == label
    assert engine_calls.starts(arn) == 1
    item = lease_item(cl_runtime, arn)
    assert item["starts"] == 1 and item["holders"] == {} and item["waiters"] == {}
    assert item["peakHolders"] <= 3
    # Then it idles, and one watcher stops it, once.
    wait_for_status(engine_client, arn, "STOPPED")
    ended = wait_for_watchers_to_end(cl_runtime, arn)
    assert engine_calls.stops(arn) == 1 and lease_item(cl_runtime, arn)["stops"] == 1
    assert [w["status"] for w in ended] == ["SUCCEEDED"]
    lease_runs = [
        run for _, result in results for run in child_executions(cl_runtime, "custom_labels_lease", result.arn)
    ]
    assert sum("Start the model" in entered_states(cl_runtime, run) for run in lease_runs) >= 1
    assert sum("Start the idle watcher" in entered_states(cl_runtime, run) for run in lease_runs) == 1


def test_a_request_killed_while_holding_the_lease_does_not_keep_the_model_running(
    cl_runtime, engine_client, datasets, new_model, engine_calls
):
    arn = new_model()
    engine_calls.reset()
    engine_calls.gate.clear()
    execution = cl_runtime.start_analysis(custom_request(datasets["held_out"]["cup"][0], arn, leaseSeconds=1))
    assert engine_calls.waiting.wait(DEADLINE_S), "the detection never reached the model"
    cl_runtime.sfn.stop_execution(executionArn=execution)
    engine_calls.gate.set()  # the hanging call returns; the stopped execution goes no further
    killed = cl_runtime.wait(execution, timeout_s=DEADLINE_S)
    assert killed.status == "ABORTED", (killed.error, killed.cause)
    assert not {"Release the lease", "Release the lease after failure"} & set(entered_states(cl_runtime, execution))
    name = execution.rsplit(":", 1)[-1]
    # The lease was never released: it expires (leaseSeconds after its last renewal), then the model idles.
    wait_for_status(engine_client, arn, "STOPPED")
    wait_for_watchers_to_end(cl_runtime, arn)
    item = lease_item(cl_runtime, arn)
    assert name not in item["holders"] and item["stops"] == 1
    assert engine_calls.starts(arn) == 1 and engine_calls.stops(arn) == 1


def test_keep_running_pins_the_model_until_a_request_unpins_it(
    cl_runtime, engine_client, datasets, new_model, engine_calls
):
    arn = new_model()
    engine_calls.reset()
    pinned = cl_runtime.analyze(
        custom_request(datasets["held_out"]["cat"][0], arn, keepRunning=True), timeout_s=DEADLINE_S
    )
    assert pinned.succeeded, (pinned.error, pinned.cause)
    # A pinned model gets no idle watcher at all (decided when the lease was granted).
    [lease_run] = child_executions(cl_runtime, "custom_labels_lease", pinned.arn)
    assert "Start an idle watcher?" in entered_states(
        cl_runtime, lease_run
    ) and "Start the idle watcher" not in entered_states(cl_runtime, lease_run)
    assert watchers(cl_runtime, arn) == [] and "leaseState" not in lease_item(cl_runtime, arn)
    assert model_status(engine_client, arn) == "RUNNING"
    # A request that does not say keeps the pin; one that says false lifts it.
    kept = cl_runtime.analyze(custom_request(datasets["held_out"]["cup"][0], arn), timeout_s=DEADLINE_S)
    assert kept.succeeded and lease_item(cl_runtime, arn)["keepRunning"] is True and watchers(cl_runtime, arn) == []
    unpinned = cl_runtime.analyze(
        custom_request(datasets["held_out"]["rocket"][0], arn, keepRunning=False), timeout_s=DEADLINE_S
    )
    assert unpinned.succeeded, (unpinned.error, unpinned.cause)
    [lease_run] = child_executions(cl_runtime, "custom_labels_lease", unpinned.arn)
    assert "Start the model" not in entered_states(cl_runtime, lease_run)  # it was RUNNING: used as it is
    wait_for_status(engine_client, arn, "STOPPED")
    wait_for_watchers_to_end(cl_runtime, arn)
    assert engine_calls.starts(arn) == 1 and engine_calls.stops(arn) == 1


def test_a_request_that_gets_no_lease_in_time_fails_as_busy(
    cl_runtime, engine_client, datasets, new_model, engine_calls
):
    arn = new_model()
    engine_calls.gate.clear()
    holder = cl_runtime.start_analysis(
        custom_request(datasets["held_out"]["cat"][0], arn, maxRequestsPerInferenceUnit=1)
    )
    assert engine_calls.waiting.wait(DEADLINE_S)
    busy = cl_runtime.analyze(
        custom_request(datasets["held_out"]["cup"][0], arn, maxRequestsPerInferenceUnit=1, maxPolls=2),
        timeout_s=DEADLINE_S,
    )
    record = cl_runtime.get_record(busy.name)
    assert busy.status == "FAILED" and record["error"] == "ModelBusyError"
    assert "its limit is 1" in record["cause"]
    assert busy.name not in participants(cl_runtime, arn)
    engine_calls.gate.set()
    assert cl_runtime.wait(holder, timeout_s=DEADLINE_S).succeeded


def test_the_sweep_starts_a_watcher_for_a_model_whose_watcher_is_gone(
    cl_runtime, engine_client, datasets, new_model, engine_calls
):
    arn = new_model()
    engine_calls.reset()
    result = cl_runtime.analyze(
        custom_request(datasets["held_out"]["cat"][0], arn, idleStopSeconds=3600), timeout_s=DEADLINE_S
    )
    assert result.succeeded, (result.error, result.cause)
    [watcher] = wait_until(
        lambda: [w for w in watchers(cl_runtime, arn) if w["status"] == "RUNNING"] or None, "the model's watcher"
    )
    cl_runtime.sfn.stop_execution(executionArn=watcher["executionArn"], error="Killed", cause="the watcher died")
    # An hour later: the watcher's announced check is long past and the model has idled its hour.
    key = {"pk": {"S": f"model#{arn}"}}
    cl_runtime.dynamodb.update_item(
        TableName=cl_runtime.table_name,
        Key=key,
        UpdateExpression="SET watcherUntil = :zero, lastUsedAt = :zero, version = version + :one",
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
    )
    sweep = cl_runtime.wait(
        cl_runtime.start_execution("custom_labels_idle_stop", {"sweep": True}, f"sweep-{uuid.uuid4().hex[:8]}"),
        DEADLINE_S,
    )
    assert sweep.succeeded, (sweep.error, sweep.cause)
    assert arn in sweep.output["models"]
    wait_for_status(engine_client, arn, "STOPPED")
    assert engine_calls.stops(arn) == 1 and lease_item(cl_runtime, arn)["stops"] == 1
    # A second sweep finds nothing to do for it.
    again = cl_runtime.wait(
        cl_runtime.start_execution("custom_labels_idle_stop", {"sweep": True}, f"sweep-{uuid.uuid4().hex[:8]}"),
        DEADLINE_S,
    )
    assert again.succeeded and arn not in again.output["models"]


def test_a_batch_with_custom_leases_the_model_once_for_all_its_images(
    cl_runtime, engine_client, datasets, new_model, engine_calls
):
    arn = new_model()
    engine_calls.reset()
    prefix = f"batch-custom-{uuid.uuid4().hex[:8]}/"
    for label in ("cat", "cup", "rocket"):
        for i, image in enumerate(datasets["held_out"][label]):
            body = cl_runtime.s3.get_object(Bucket=image["bucket"], Key=image["key"])["Body"].read()
            cl_runtime.put_bytes(body, f"{prefix}{label}-{i}.jpg")
    batch_id = f"cl-{uuid.uuid4().hex[:10]}"
    batch = {
        "bucket": cl_runtime.images_bucket,
        "prefix": prefix,
        "analyses": ["custom"],
        "batchId": batch_id,
        "maxConcurrency": 3,
        "useCache": False,
        "options": {
            "custom": {
                "projectVersionArn": arn,
                "pollIntervalSeconds": 1,
                "maxPolls": 60,
                "idleStopSeconds": 1,
                "leaseSeconds": 300,
            }
        },
    }
    result = cl_runtime.wait(cl_runtime.start_execution("batch_analysis", batch, batch_id), timeout_s=300)
    assert result.succeeded, (result.error, result.cause)
    assert result.output["succeeded"] == 6 and result.output["failed"] == 0
    records = [r for r in cl_runtime.query_batch(batch_id) if r.get("recordType") == "ANALYSIS"]
    for record in records:
        assert (
            record["results"]["custom"]["labels"][0]["name"] == record["image"]["key"].rsplit("/", 1)[-1].split("-")[0]
        )
    states = entered_states(cl_runtime, result.arn)
    assert (
        states.index("Lease the model for the batch")
        < states.index("Analyse images")
        < states.index("Release the batch's model lease")
    )
    assert engine_calls.starts(arn) == 1
    item = lease_item(cl_runtime, arn)
    assert item["starts"] == 1 and item["holders"] == {}
    wait_for_status(engine_client, arn, "STOPPED")
    wait_for_watchers_to_end(cl_runtime, arn)
    assert engine_calls.stops(arn) == 1


def test_a_batch_with_custom_needs_a_model(cl_runtime):
    batch_id = f"cl-{uuid.uuid4().hex[:10]}"
    result = cl_runtime.wait(
        cl_runtime.start_execution(
            "batch_analysis",
            {"bucket": cl_runtime.images_bucket, "prefix": "none/", "analyses": ["custom"], "batchId": batch_id},
            batch_id,
        ),
        DEADLINE_S,
    )
    assert result.status == "FAILED" and "options.custom.projectVersionArn" in (result.cause or "")


def test_concurrent_acquirers_on_the_local_stack_are_all_granted_once(cl_runtime):
    """16 threads, one item, the stack's DynamoDB (conditional writes are atomic there, ADR-10)."""
    table = model_leases.LeaseTable(cl_runtime.dynamodb, cl_runtime.table_name)
    arn = "arn:aws:rekognition:us-east-1:123456789012:project/pets/version/threads/1700000000001"
    results = []

    def acquire(holder: str) -> None:
        results.append(
            table.change(
                arn,
                lambda lease, now: model_leases.acquire(
                    lease, model_leases.LeaseSettings(holder, 60, 1, 60, 100, 1), now
                ),
            )
        )

    threads = [threading.Thread(target=acquire, args=(f"h{i}",)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = table.read(arn)
    assert len(stored.holders) == 16 and stored.version == 16
    assert all(r["granted"] for r in results) and sum(r["startWatcher"] for r in results) == 1
