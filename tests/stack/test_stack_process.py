"""The local stack as its own long-running process: up / status / down, concurrent commands, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from rekoflow.local import process
from rekoflow.local.client import StackClient
from rekoflow.paths import statemachines_dir
from stack.conftest import boto3_client, cli
from support.images import image_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_up_status_down(stack_process):
    status = stack_process()
    state = stack_process.state_dir
    assert status["endpoint"].startswith("http://127.0.0.1:") and status["stateDir"] == str(state)
    # Every template of statemachines/ (image analysis, batch, the Custom Labels machines).
    assert (
        set(status["resources"]["stateMachines"])
        == {p.name.removesuffix(".asl.json") for p in statemachines_dir().glob("*.asl.json")}
        >= {
            "image_analysis",
            "batch_analysis",
            "custom_labels_training",
            "custom_labels_lease",
            "custom_labels_idle_stop",
        }
    )
    shown = cli("status", "--json", "--state-dir", str(state))
    assert shown.returncode == 0 and json.loads(shown.stdout)["pid"] == status["pid"]
    again = cli("up", "--detach", "--state-dir", str(state))
    assert again.returncode == 0 and "already running" in again.stdout
    down = cli("down", "--state-dir", str(state))
    assert down.returncode == 0 and f"pid {status['pid']}" in down.stdout
    stopped = cli("status", "--state-dir", str(state))
    assert stopped.returncode == 1 and "no local stack runs" in stopped.stdout
    assert not (state / "stack.json").exists()


def test_a_second_stack_on_the_same_folder_is_refused(stack_process, fake_rekognition):
    stack_process()
    # Started directly (not through `up`, which would find the first one): it must not open the folder.
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "rekoflow.local.serve",
            "--state-dir",
            str(stack_process.state_dir),
            "--port",
            "0",
            "--rekognition-endpoint",
            fake_rekognition.url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 1 and "another local stack already uses" in second.stderr


def test_two_analyze_commands_at_once_start_one_stack_and_lose_nothing(tmp_path, fake_rekognition):
    """The old per-command state rewrite lost one of two concurrent records; the stack keeps both."""
    state = tmp_path / "state"
    env = {"REKOFLOW_HOME": str(state), "REKOFLOW_PORT": "0", "REKOFLOW_REKOGNITION_ENDPOINT": fake_rekognition.url}
    photos = []
    for index in range(2):
        photo = tmp_path / f"photo{index}.png"
        photo.write_bytes(image_bytes(200 + index, 150, color=(index * 90, 40, 200)))
        photos.append(photo)
    commands = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rekoflow.cli",
                "analyze",
                str(photo),
                "--analyses",
                "labels,faces",
                "--json",
                "--request-id",
                f"twin-{i}",
                "--out",
                str(tmp_path / "out"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        for i, photo in enumerate(photos)
    ]
    try:
        outputs = [command.communicate(timeout=300) for command in commands]
        assert [c.returncode for c in commands] == [0, 0], [err for _, err in outputs]
        announcements = sum(err.count("started the local stack") for _, err in outputs)
        assert announcements == 1  # one stack, started by whichever command came first
        stack = StackClient(process.running_stack(state))
        for index in range(2):
            record = stack.get_record(f"twin-{index}")
            assert record["status"] == "SUCCEEDED" and json.loads(outputs[index][0])["requestId"] == f"twin-{index}"
            for key in record["resultKeys"].values():
                assert stack.read_result(key)["requestId"] == f"twin-{index}"
    finally:
        process.stop_stack(state)


def _objects(s3, bucket):
    found = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            found[(version["Key"], version["VersionId"])] = body
    return found


def _items(dynamodb, table):
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return {item["pk"]["S"]: item for item in items}


def test_kill_9_during_a_batch_loses_nothing_saved_and_the_batch_can_be_rerun(stack_process, fake_rekognition):
    status = stack_process()
    stack = StackClient(status)
    for index in range(8):
        stack.put_bytes(image_bytes(180 + index, 160, color=(30 * index, 100, 50)), f"kill/{index}.png")
    fake_rekognition.calls.clear()
    fake_rekognition.pause_after("DetectLabels", 3)  # three images finish, the other five hang mid-call
    follow = stack.ended_executions(prefix="doomed-", after=stack.event_sequence(), timeout_s=2.0)
    stack.start_execution(
        "batch_analysis",
        {
            "bucket": stack.images_bucket,
            "prefix": "kill/",
            "analyses": ["labels"],
            "batchId": "doomed",
            "maxConcurrency": 8,
        },
        "doomed",
    )
    finished: dict[str, str] = {}
    deadline = time.monotonic() + 120
    while len(finished) < 3 and time.monotonic() < deadline:
        finished.update({e["name"]: e["status"] for e in next(follow)})
    assert len(finished) == 3 and set(finished.values()) == {"SUCCEEDED"}
    s3, dynamodb = boto3_client(status, "s3"), boto3_client(status, "dynamodb")
    objects_before = {**_objects(s3, stack.images_bucket), **_objects(s3, stack.results_bucket)}
    items_before = _items(dynamodb, stack.table_name)
    histories = {
        name: len(
            stack.history(f"{stack.state_machines['image_analysis'].replace(':stateMachine:', ':execution:')}:{name}")
        )
        for name in finished
    }

    os.kill(status["pid"], signal.SIGKILL)
    fake_rekognition.resume()
    restarted = stack_process()
    stack = StackClient(restarted)
    s3, dynamodb = boto3_client(restarted, "s3"), boto3_client(restarted, "dynamodb")
    # Nothing saved before the kill is missing or changed.
    objects_after = {**_objects(s3, stack.images_bucket), **_objects(s3, stack.results_bucket)}
    assert {k: v for k, v in objects_after.items() if k in objects_before} == objects_before
    items_after = _items(dynamodb, stack.table_name)
    assert {k: v for k, v in items_after.items() if k in items_before} == items_before
    child_prefix = stack.state_machines["image_analysis"].replace(":stateMachine:", ":execution:")
    for name, count in histories.items():
        assert stack.describe(f"{child_prefix}:{name}").status == "SUCCEEDED"
        assert len(stack.history(f"{child_prefix}:{name}")) == count
    # What was running is reported as cut off, not silently missing.
    interrupted = restarted["restored"]["interrupted"]
    batch_arn = stack.state_machines["batch_analysis"].replace(":stateMachine:", ":execution:") + ":doomed"
    assert batch_arn in interrupted and len(interrupted) == 1 + 5
    batch = stack.describe(batch_arn)
    assert batch.status == "ABORTED" and batch.error == "Local.StackStopped" and "stopped" in batch.cause
    shown = cli("status", "--state-dir", str(stack_process.state_dir))
    assert "cut off when the stack last stopped" in shown.stdout
    # The batch can be run again to completion: the three finished images come from the cache.
    fake_rekognition.calls.clear()
    rerun = cli(
        "batch",
        f"s3://{stack.images_bucket}/kill/",
        "--analyses",
        "labels",
        "--batch-id",
        "again",
        "--json",
        "--state-dir",
        str(stack_process.state_dir),
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["succeeded"], summary["failed"], summary["cached"]) == (8, 0, 3)
    assert fake_rekognition.count("DetectLabels") == 5


def test_concurrent_clients_lose_no_object_or_item_across_a_kill(stack_process):
    status = stack_process()
    s3, dynamodb = boto3_client(status, "s3"), boto3_client(status, "dynamodb")
    bucket, table = status["resources"]["imagesBucket"], status["resources"]["table"]
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(20):
                s3.put_object(Bucket=bucket, Key=f"many/{worker}/{n}", Body=f"{worker}:{n}".encode())
                dynamodb.put_item(TableName=table, Item={"pk": {"S": f"many#{worker}#{n}"}, "n": {"N": str(n)}})
                dynamodb.update_item(
                    TableName=table,
                    Key={"pk": {"S": "many#counter"}},
                    UpdateExpression="ADD hits :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    os.kill(status["pid"], signal.SIGKILL)
    restarted = stack_process()
    s3, dynamodb = boto3_client(restarted, "s3"), boto3_client(restarted, "dynamodb")
    keys = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/")
        for o in page.get("Contents", [])
    }
    assert keys == {f"many/{w}/{n}" for w in range(8) for n in range(20)}
    assert s3.get_object(Bucket=bucket, Key="many/7/19")["Body"].read() == b"7:19"
    items = _items(dynamodb, table)
    assert {k for k in items if k.startswith("many#") and k != "many#counter"} == {
        f"many#{w}#{n}" for w in range(8) for n in range(20)
    }
    assert items["many#counter"]["hits"]["N"] == str(8 * 20)  # no update lost to a concurrent one
