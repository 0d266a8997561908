"""Unmodified AWS clients drive the running stack: the AWS CLI and plain boto3, with only the endpoint set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from rekoflow.local.client import StackClient, decode_record
from stack.conftest import aws_cli, cli
from support.images import image_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def client_environment(status: dict) -> dict[str, str]:
    """What a user exports to point any AWS client at the stack (as `rekoflow up` prints it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=status["endpoint"],
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=status["region"],
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    return env


def aws(status: dict, *args: str) -> dict:
    result = subprocess.run(
        [str(aws_cli()), *args, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=client_environment(status),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith("{") else {"printed": result.stdout}


def comparable(record: dict) -> dict:
    image = record["image"]
    return {
        "status": record["status"],
        "analyses": record["analyses"],
        "results": record["results"],
        "image": {k: image[k] for k in ("format", "width", "height", "sizeBytes")},
    }


def test_the_aws_cli_runs_the_workflow_and_reads_the_record(stack_process, tmp_path):
    status = stack_process()
    resources = status["resources"]
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes(260, 190, color=(12, 140, 220)))
    copied = aws(status, "s3", "cp", str(photo), f"s3://{resources['imagesBucket']}/awscli/photo.png")
    assert "upload:" in copied["printed"]
    request = {
        "requestId": "awscli-1",
        "image": {"bucket": resources["imagesBucket"], "key": "awscli/photo.png"},
        "analyses": ["labels", "faces"],
        "useCache": False,
    }
    started = aws(
        status,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        resources["stateMachines"]["image_analysis"],
        "--name",
        "awscli-1",
        "--input",
        json.dumps(request),
    )
    deadline = time.monotonic() + 120
    while True:
        described = aws(status, "stepfunctions", "describe-execution", "--execution-arn", started["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert described["status"] == "SUCCEEDED", described
    events = aws(status, "stepfunctions", "get-execution-history", "--execution-arn", started["executionArn"])["events"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
    item = aws(
        status,
        "dynamodb",
        "get-item",
        "--table-name",
        resources["table"],
        "--key",
        json.dumps({"pk": {"S": "awscli-1"}}),
    )["Item"]
    from_cli = decode_record(item)

    # The same photo through `rekoflow analyze` gives the same record.
    ours = cli(
        "analyze",
        str(photo),
        "--analyses",
        "labels,faces",
        "--no-cache",
        "--json",
        "--request-id",
        "rekoflow-1",
        "--out",
        str(tmp_path / "out"),
        "--state-dir",
        str(stack_process.state_dir),
    )
    assert ours.returncode == 0, ours.stderr
    from_rekoflow = StackClient(status).get_record("rekoflow-1")
    assert comparable(from_cli) == comparable(from_rekoflow)
    assert from_cli["executionArn"] == started["executionArn"]


BOTO3_SCRIPT = """
import json, sys, time
import boto3  # nothing but the environment says where AWS is
images, table, machine = sys.argv[1:4]
s3, sfn, dynamodb = boto3.client("s3"), boto3.client("stepfunctions"), boto3.client("dynamodb")
s3.put_object(Bucket=images, Key="boto3/photo.png", Body=open(sys.argv[4], "rb").read())
request = {"requestId": "boto3-1", "image": {"bucket": images, "key": "boto3/photo.png"}, "analyses": ["labels"]}
arn = sfn.start_execution(stateMachineArn=machine, name="boto3-1", input=json.dumps(request))["executionArn"]
for _ in range(600):
    status = sfn.describe_execution(executionArn=arn)["status"]
    if status != "RUNNING":
        break
    time.sleep(0.2)
item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "boto3-1"}})["Item"]
print(json.dumps({"status": status, "record": item["status"]["S"], "endpoint": sfn.meta.endpoint_url}))
"""


def test_plain_boto3_with_only_the_endpoint_in_the_environment(stack_process, tmp_path):
    status = stack_process()
    resources = status["resources"]
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes(240, 180, color=(200, 30, 90)))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BOTO3_SCRIPT,
            resources["imagesBucket"],
            resources["table"],
            resources["stateMachines"]["image_analysis"],
            str(photo),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=client_environment(status),
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer == {"status": "SUCCEEDED", "record": "SUCCEEDED", "endpoint": status["endpoint"]}


def test_aws_s3_cp_under_the_trigger_prefix_gives_a_record(stack_process, tmp_path):
    """The S3 upload trigger, driven by nothing but the AWS CLI."""
    status = stack_process()
    bucket = status["resources"]["imagesBucket"]
    photo = tmp_path / "upload.jpg"
    photo.write_bytes(image_bytes(250, 200, "JPEG", color=(80, 160, 240)))
    aws(status, "s3", "cp", str(photo), f"s3://{bucket}/{status['triggerPrefix']}upload.jpg")
    version = aws(status, "s3api", "head-object", "--bucket", bucket, "--key", f"{status['triggerPrefix']}upload.jpg")[
        "VersionId"
    ]
    from start_upload_analysis.uploads import execution_name

    name = execution_name({"bucket": bucket, "key": f"{status['triggerPrefix']}upload.jpg", "versionId": version})
    deadline = time.monotonic() + 120
    item = {}
    while time.monotonic() < deadline:
        item = aws(
            status,
            "dynamodb",
            "get-item",
            "--table-name",
            status["resources"]["table"],
            "--key",
            json.dumps({"pk": {"S": name}}),
        )
        if item.get("Item", {}).get("status", {}).get("S") in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.5)
    assert item["Item"]["status"]["S"] == "SUCCEEDED"
    assert json.loads(item["Item"]["image"]["S"])["key"] == f"{status['triggerPrefix']}upload.jpg"


def test_the_aws_smoke_script_passes_against_the_local_stack(stack_process):
    """`make aws-smoke` runs this same script against a deployment: only the endpoint and credentials differ."""
    status = stack_process()
    result = cli_module("rekoflow.smoke", "--local", "--state-dir", str(stack_process.state_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in (
        "upload, analyse and read through the API: OK",
        "gives a record: OK",
        "a batch of two images: OK",
        "a bad request ends in a FAILED record: OK",
        "smoke: OK",
    ):
        assert step in out, out
    assert "cost of this run: Rekognition:" in out and "cleaned up" in out
    # What it created is gone again: records, uploads, results.
    from stack.conftest import boto3_client

    items = boto3_client(status, "dynamodb").scan(TableName=status["resources"]["table"])["Items"]
    assert not [i for i in items if "smoke-" in i["pk"]["S"]]
    s3 = boto3_client(status, "s3")
    for bucket in (status["resources"]["imagesBucket"], status["resources"]["resultsBucket"]):
        keys = [v["Key"] for v in s3.list_object_versions(Bucket=bucket).get("Versions", [])]
        assert not [k for k in keys if "smoke-" in k], keys


def cli_module(module: str, *args: str):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
