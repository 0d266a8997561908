"""A crash (kill -9) of the stack process mid-batch: no request is silently lost.

Every image execution the batch started either ended before the kill, with its record, or comes back
after the restart as ABORTED (Local.StackStopped) and is listed as cut off; running the batch again
gives every image a record. Uses the stack-as-a-process fixtures of tests/stack.
"""

from __future__ import annotations

import json
import os
import signal
import time

from rekoflow.local.client import StackClient
from stack.conftest import cli, stack_process  # noqa: F401 - the fixture, reused
from support.images import image_bytes

HANG_GUARD_S = 600


def test_kill_9_mid_batch_leaves_every_request_recorded_or_reported_aborted(stack_process, fake_rekognition):  # noqa: F811
    stack = StackClient(stack_process())
    for index in range(6):
        stack.put_bytes(image_bytes(190 + index, 150, color=(40 * index, 90, 20)), f"crash/{index}.png")
    fake_rekognition.calls.clear()
    fake_rekognition.pause_after("DetectLabels", 2)  # two images finish, the others hang mid-call
    follow = stack.ended_executions(prefix="crashed-", after=stack.event_sequence(), timeout_s=2.0)
    stack.start_execution(
        "batch_analysis",
        {
            "bucket": stack.images_bucket,
            "prefix": "crash/",
            "analyses": ["labels"],
            "batchId": "crashed",
            "maxConcurrency": 6,
        },
        "crashed",
    )
    finished: dict[str, str] = {}
    deadline = time.monotonic() + HANG_GUARD_S
    while len(finished) < 2 and time.monotonic() < deadline:
        finished.update({e["name"]: e["status"] for e in next(follow)})
    assert set(finished.values()) == {"SUCCEEDED"} and len(finished) == 2

    os.kill(stack.status["pid"], signal.SIGKILL)
    fake_rekognition.resume()
    restarted = stack_process()
    stack = StackClient(restarted)
    child_prefix = stack.state_machines["image_analysis"].replace(":stateMachine:", ":execution:")
    children = [
        e
        for e in stack.sfn.list_executions(stateMachineArn=stack.state_machines["image_analysis"])["executions"]
        if e["name"].startswith("crashed-")
    ]
    assert len(children) == 6, [c["name"] for c in children]
    interrupted = set(restarted["restored"]["interrupted"])
    for child in children:
        record = stack.get_record(child["name"])
        described = stack.describe(f"{child_prefix}:{child['name']}")
        if child["name"] in finished:
            assert described.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
        else:
            # Cut off mid-call: reported, not silently missing.
            assert described.status == "ABORTED" and described.error == "Local.StackStopped", described
            assert described.arn in interrupted and record is None
    # The batch runs again to completion: every image then has a record of the new run.
    rerun = cli(
        "batch",
        f"s3://{stack.images_bucket}/crash/",
        "--analyses",
        "labels",
        "--batch-id",
        "recovered",
        "--json",
        "--state-dir",
        str(stack_process.state_dir),
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["total"], summary["succeeded"], summary["failed"], summary["cached"]) == (6, 6, 0, 2)
    records = [r for r in stack.query_batch("recovered") if r.get("recordType") == "ANALYSIS"]
    assert len(records) == 6 and {r["status"] for r in records} == {"SUCCEEDED"}
