"""The S3 upload trigger: an image created under the trigger prefix starts one analysis, once."""

from __future__ import annotations

import json
import threading
import time

import pytest

from rekoflow.local.patches.eventbridge_targets import EventDelivery
from rekoflow.local.store import Store
from start_upload_analysis.uploads import (
    TriggerSettings,
    UploadEventError,
    execution_name,
    start_analysis,
    uploaded_object,
)
from support.images import image_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def wait_for_record(workflow, request_id: str, timeout_s: float = 60.0) -> dict | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = workflow.get_record(request_id)
        if record and record.get("status") in ("SUCCEEDED", "FAILED"):
            return record
        time.sleep(0.1)
    return None


def s3_event(bucket: str, key: str, version: str | None) -> dict:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "version-id": version}},
    }


def test_an_upload_under_the_prefix_is_analysed_and_its_record_names_the_object(workflow):
    put = workflow.s3.put_object(
        Bucket=workflow.images_bucket, Key="incoming/cat.png", Body=image_bytes(220, 175, color=(1, 2, 250))
    )
    image = {"bucket": workflow.images_bucket, "key": "incoming/cat.png", "versionId": put["VersionId"]}
    record = wait_for_record(workflow, execution_name(image))
    assert record is not None and record["status"] == "SUCCEEDED"
    assert record["image"]["key"] == "incoming/cat.png" and record["image"]["versionId"] == put["VersionId"]
    assert record["analyses"] == ["labels", "faces", "text"]  # the trigger's default analyses


def test_a_new_version_of_the_same_key_is_a_new_analysis_and_other_prefixes_start_nothing(workflow):
    first = workflow.s3.put_object(
        Bucket=workflow.images_bucket, Key="incoming/again.png", Body=image_bytes(200, 160, color=(9, 9, 9))
    )
    second = workflow.s3.put_object(
        Bucket=workflow.images_bucket, Key="incoming/again.png", Body=image_bytes(201, 160, color=(9, 9, 9))
    )
    names = [
        execution_name({"bucket": workflow.images_bucket, "key": "incoming/again.png", "versionId": v["VersionId"]})
        for v in (first, second)
    ]
    assert names[0] != names[1]
    assert all(wait_for_record(workflow, name)["status"] == "SUCCEEDED" for name in names)
    before = {
        e["name"]
        for e in workflow.sfn.list_executions(stateMachineArn=workflow.state_machines["image_analysis"])["executions"]
    }
    workflow.s3.put_object(Bucket=workflow.images_bucket, Key="elsewhere/dog.png", Body=image_bytes(202, 160))
    # Something the trigger would start would show up as an execution; give the deliverer a chance.
    workflow.s3.put_object(Bucket=workflow.images_bucket, Key="incoming/marker.png", Body=image_bytes(203, 160))
    marker = execution_name(
        {
            "bucket": workflow.images_bucket,
            "key": "incoming/marker.png",
            "versionId": workflow.s3.head_object(Bucket=workflow.images_bucket, Key="incoming/marker.png")["VersionId"],
        }
    )
    assert (
        wait_for_record(workflow, marker) is not None
    )  # events are delivered in order: the one before it has been too
    after = {
        e["name"]
        for e in workflow.sfn.list_executions(stateMachineArn=workflow.state_machines["image_analysis"])["executions"]
    }
    assert after - before == {marker}


def test_a_duplicate_event_analyses_nothing_twice(workflow):
    put = workflow.s3.put_object(Bucket=workflow.images_bucket, Key="incoming/dup.png", Body=image_bytes(204, 161))
    event = s3_event(workflow.images_bucket, "incoming/dup.png", put["VersionId"])
    name = execution_name(uploaded_object(event))
    assert wait_for_record(workflow, name)["status"] == "SUCCEEDED"
    again = json.loads(
        workflow.client("lambda")
        .invoke(FunctionName=workflow.stack.functions["start_upload_analysis"], Payload=json.dumps(event).encode())[
            "Payload"
        ]
        .read()
    )
    assert again["started"] is False and again["requestId"] == name
    executions = [
        e
        for e in workflow.sfn.list_executions(stateMachineArn=workflow.state_machines["image_analysis"])["executions"]
        if e["name"] == name
    ]
    assert len(executions) == 1


def test_the_trigger_refuses_what_is_not_an_s3_object_created_event():
    class NoSfn:
        def start_execution(self, **kwargs):  # pragma: no cover - must not be called
            raise AssertionError("started")

    with pytest.raises(UploadEventError, match="not an S3 Object Created event"):
        start_analysis(
            NoSfn(), {"source": "aws.ec2", "detail-type": "x", "detail": {}}, TriggerSettings("arn", ("labels",))
        )
    with pytest.raises(UploadEventError, match="no 'bucket'"):
        uploaded_object({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "k"}}})


def test_execution_names_are_valid_and_stable():
    name = execution_name({"bucket": "b", "key": "incoming/" + "x" * 900, "versionId": "v1"})
    assert name == execution_name({"bucket": "b", "key": "incoming/" + "x" * 900, "versionId": "v1"})
    assert len(name) <= 80 and name.startswith("upload-") and name.replace("-", "").isalnum()
    assert name != execution_name({"bucket": "b", "key": "incoming/" + "x" * 900, "versionId": "v2"})


# ----- the deliverer: at least once, retried, dead-lettered, kept across a restart ------------------------
def test_a_failing_target_is_retried_within_its_policy_then_dead_lettered():
    attempts, dead = [], []
    dead_lettered = threading.Event()

    def send(target, payload):
        attempts.append(payload)
        raise RuntimeError("target down")

    def dead_letter(queue, payload, attrs):
        dead.append((queue, payload, attrs))
        dead_lettered.set()

    delivery = EventDelivery(send, dead_letter, backoff_scale=0.0).start()
    try:
        delivery.enqueue(
            {
                "Arn": "arn:aws:lambda:us-east-1:1:function:f",
                "RuleArn": "arn:rule",
                "RetryPolicy": {"MaximumRetryAttempts": 3},
                "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:1:dlq"},
            },
            '{"n": 1}',
        )
        assert dead_lettered.wait(timeout=30)  # a hang guard: the event, not the time, is asserted
    finally:
        delivery.stop()
    assert len(attempts) == 4  # the first attempt and 3 retries
    queue, payload, attributes = dead[0]
    assert queue == "arn:aws:sqs:us-east-1:1:dlq" and payload == '{"n": 1}'
    assert (
        attributes["ERROR_CODE"] == "RuntimeError"
        and attributes["ERROR_MESSAGE"] == "target down"
        and attributes["RULE_ARN"] == "arn:rule"
    )
    assert delivery.pending() == 0


def test_events_not_yet_delivered_when_the_stack_stops_are_delivered_after_it_restarts(tmp_path):
    store = Store(tmp_path)
    sent: list[str] = []
    waiting = EventDelivery(
        lambda t, p: sent.append(p), lambda *a: None, store=store
    )  # never started: a stop before delivery
    waiting.enqueue({"Arn": "arn:aws:lambda:us-east-1:1:function:f"}, '{"kept": true}')
    store.close()
    reopened = Store(tmp_path)
    delivered = threading.Event()
    delivery = EventDelivery(lambda t, p: (sent.append(p), delivered.set()), lambda *a: None, store=reopened).start()
    try:
        assert delivered.wait(30)
    finally:
        delivery.stop()
        reopened.close()
    assert sent == ['{"kept": true}']
