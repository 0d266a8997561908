"""``make aws-smoke``: prove a fresh deployment works end to end, then clean up what the proof created.

    python -m rekoflow.smoke --terraform-dir terraform          # after `terraform apply` (AWS credentials from boto3)
    python -m rekoflow.smoke --local [--state-dir .rekoflow]    # against the local stack (what `make test` runs)

Only the endpoint and the credentials differ between the two. Steps, each checked:

1. a signed ``POST /uploads`` and its presigned S3 POST, a signed ``POST /analyses``, then
   ``GET /analyses/{id}`` until the record is SUCCEEDED;
2. an image put under the upload trigger's prefix gives its record (when the trigger is on);
3. a tiny batch (two images) through the batch state machine ends SUCCEEDED with both counted;
4. a deliberate bad request (an image key that does not exist) ends in a FAILED record naming it;
5. every object and record the run created is deleted, and what the run cost is printed.

Exit status 0 only when every step passed.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rekoflow.records import BATCH_KEY_PREFIX, batch_record_key


@dataclass
class Target:
    api_url: str
    images_bucket: str
    results_bucket: str
    table: str
    batch_state_machine_arn: str | None
    trigger_prefix: str | None
    region: str
    credentials: Any = None
    endpoint_url: str | None = None  # the local stack's single endpoint; None: AWS


@dataclass
class Run:
    tag: str = field(default_factory=lambda: time.strftime("smoke-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    objects: list[tuple[str, str]] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    billings: list[dict[str, Any]] = field(default_factory=list)


class SmokeFailure(RuntimeError):
    pass


def _png(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 180), (20 + seed * 40 % 200, 110, 200))
    ImageDraw.Draw(image).ellipse((60, 40, 180, 150), fill=(240, 200, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def from_terraform(terraform_dir: Path) -> Target:
    import boto3

    outputs = {
        k: v["value"]
        for k, v in json.loads(
            subprocess.run(
                ["terraform", f"-chdir={terraform_dir}", "output", "-json"], check=True, capture_output=True, text=True
            ).stdout
        ).items()
    }
    session = boto3.session.Session()
    return Target(
        api_url=outputs["api_url"],
        images_bucket=outputs["images_bucket"],
        results_bucket=outputs["results_bucket"],
        table=outputs["results_table"],
        batch_state_machine_arn=outputs.get("batch_analysis_state_machine_arn"),
        trigger_prefix=outputs.get("upload_trigger_prefix"),
        region=session.region_name or "us-east-1",
        credentials=session.get_credentials(),
    )


def from_local(state_dir: Path | None) -> Target:
    from botocore.credentials import Credentials

    from rekoflow.local import process

    status = process.ensure_stack(
        state_dir or process.default_state_dir(), announce=lambda line: print(f"smoke: {line}")
    )
    resources = status["resources"]
    credentials = status["credentials"]
    return Target(
        api_url=status["apiUrl"],
        images_bucket=resources["imagesBucket"],
        results_bucket=resources["resultsBucket"],
        table=resources["table"],
        batch_state_machine_arn=resources["stateMachines"].get("batch_analysis"),
        trigger_prefix=status.get("triggerPrefix"),
        region=status["region"],
        credentials=Credentials(credentials["accessKeyId"], credentials["secretAccessKey"]),
        endpoint_url=status["endpoint"],
    )


def _client(target: Target, service: str) -> Any:
    import boto3

    frozen = (
        target.credentials.get_frozen_credentials()
        if hasattr(target.credentials, "get_frozen_credentials")
        else target.credentials
    )
    return boto3.session.Session().client(
        service,
        region_name=target.region,
        endpoint_url=target.endpoint_url,
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=getattr(frozen, "token", None),
    )


def step(name: str, function: Any, *args: Any) -> Any:
    started = time.monotonic()
    print(f"smoke: {name} ...", flush=True)
    result = function(*args)
    print(f"smoke: {name}: OK ({time.monotonic() - started:.1f} s)", flush=True)
    return result


def analyse_through_the_api(target: Target, run: Run) -> None:
    import tempfile

    from rekoflow.api_client import ApiClient

    api = ApiClient(target.api_url, region=target.region, credentials=target.credentials)
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "smoke.png"
        photo.write_bytes(_png(1))
        image = api.upload(photo)
    run.objects.append((image["bucket"], image["key"]))
    request_id = f"{run.tag}-api"
    started = api.start_analysis({"requestId": request_id, "image": image, "analyses": ["labels", "faces", "text"]})
    if started.status != 202:
        raise SmokeFailure(f"POST /analyses answered {started.status}: {started.body}")
    run.records.append(request_id)
    record = api.wait(request_id, timeout_s=300, interval_s=1)
    if record["status"] != "SUCCEEDED":
        raise SmokeFailure(f"{request_id} ended {record['status']}: {record.get('error')}: {record.get('cause')}")
    run.billings.append(record.get("billing") or {})


def upload_under_the_trigger(target: Target, run: Run) -> None:
    import hashlib

    from rekoflow.api_client import ApiClient

    key = f"{target.trigger_prefix}{run.tag}.png"
    data = _png(2)
    put = _client(target, "s3").put_object(
        Bucket=target.images_bucket,
        Key=key,
        Body=data,
        ContentType="image/png",
        ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
    )
    run.objects.append((target.images_bucket, key))
    # The trigger's own naming of the execution (functions/start_upload_analysis).
    identity = json.dumps([target.images_bucket, key, put.get("VersionId", "")])
    request_id = "upload-" + hashlib.sha256(identity.encode()).hexdigest()[:40]
    run.records.append(request_id)
    record = ApiClient(target.api_url, region=target.region, credentials=target.credentials).wait(
        request_id, timeout_s=300, interval_s=1
    )
    if record["status"] != "SUCCEEDED":
        raise SmokeFailure(f"the trigger's analysis {request_id} ended {record['status']}: {record.get('cause')}")
    run.billings.append(record.get("billing") or {})


def tiny_batch(target: Target, run: Run) -> None:
    s3, sfn = _client(target, "s3"), _client(target, "stepfunctions")
    prefix = f"smoke/{run.tag}/"
    for index in range(2):
        s3.put_object(
            Bucket=target.images_bucket, Key=f"{prefix}{index}.png", Body=_png(10 + index), ContentType="image/png"
        )
        run.objects.append((target.images_bucket, f"{prefix}{index}.png"))
    batch_id = f"{run.tag}-batch"
    arn = sfn.start_execution(
        stateMachineArn=target.batch_state_machine_arn,
        name=batch_id,
        input=json.dumps(
            {
                "bucket": target.images_bucket,
                "prefix": prefix,
                "analyses": ["labels"],
                "batchId": batch_id,
                "maxConcurrency": 2,
            }
        ),
    )["executionArn"]
    run.records.append(batch_record_key(batch_id))
    deadline = time.monotonic() + 600
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise SmokeFailure(f"batch {batch_id} still running after 600 s")
        time.sleep(2)
    summary = json.loads(described.get("output") or "{}")
    if described["status"] != "SUCCEEDED" or summary.get("succeeded") != 2:
        raise SmokeFailure(f"batch {batch_id} ended {described['status']}: {summary or described.get('cause')}")
    # Its images' records, named by the batch.
    run.records.extend(
        r["pk"]["S"] for r in _batch_records(target, batch_id) if r.get("recordType", {}).get("S") == "ANALYSIS"
    )
    run.billings.append(summary.get("billing") or {})


def _batch_records(target: Target, batch_id: str) -> list[dict[str, Any]]:
    answer = _client(target, "dynamodb").query(
        TableName=target.table,
        IndexName="batch-index",
        KeyConditionExpression="batchId = :b",
        ExpressionAttributeValues={":b": {"S": batch_id}},
    )
    return answer.get("Items", [])


def bad_request(target: Target, run: Run) -> None:
    from rekoflow.api_client import ApiClient

    api = ApiClient(target.api_url, region=target.region, credentials=target.credentials)
    request_id = f"{run.tag}-bad"
    missing = f"smoke/{run.tag}/does-not-exist.png"
    started = api.start_analysis(
        {"requestId": request_id, "image": {"bucket": target.images_bucket, "key": missing}, "analyses": ["labels"]}
    )
    if started.status != 202:
        raise SmokeFailure(f"POST /analyses answered {started.status}: {started.body}")
    run.records.append(request_id)
    record = api.wait(request_id, timeout_s=300, interval_s=1)
    if (
        record["status"] != "FAILED"
        or record.get("error") != "ImageValidationError"
        or missing not in (record.get("cause") or "")
    ):
        raise SmokeFailure(
            f"the bad request's record is {record.get('status')} {record.get('error')}: {record.get('cause')}"
        )


def clean_up(target: Target, run: Run) -> int:
    s3, dynamodb = _client(target, "s3"), _client(target, "dynamodb")
    removed = 0
    for bucket, key in run.objects:
        for version in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []):
            if version["Key"] == key:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
                removed += 1
    for request_id in dict.fromkeys(run.records):
        if request_id.startswith(BATCH_KEY_PREFIX):  # the batch's ResultWriter files
            prefix = f"batches/{request_id.removeprefix('batch#')}/"
            for version in s3.list_object_versions(Bucket=target.results_bucket, Prefix=prefix).get("Versions", []):
                s3.delete_object(Bucket=target.results_bucket, Key=version["Key"], VersionId=version["VersionId"])
                removed += 1
        item = dynamodb.get_item(TableName=target.table, Key={"pk": {"S": request_id}}).get("Item")
        if not item:
            continue
        for key in json.loads(item.get("resultKeys", {}).get("S", "{}")).values():
            for version in s3.list_object_versions(Bucket=target.results_bucket, Prefix=key).get("Versions", []):
                s3.delete_object(Bucket=target.results_bucket, Key=version["Key"], VersionId=version["VersionId"])
                removed += 1
        dynamodb.delete_item(TableName=target.table, Key={"pk": {"S": request_id}})
        removed += 1
    return removed


def describe_total(billings: list[dict[str, Any]]) -> str:
    from rekoflow.report import describe_cost

    pricing = next((b.get("pricing") for b in billings if b.get("pricing")), None)
    return (
        describe_cost(
            {
                "billableCallCount": sum(int(b.get("billableCallCount") or 0) for b in billings),
                "estimatedCostUSD": sum(float(b.get("estimatedCostUSD") or 0) for b in billings),
                "savedByCacheUSD": sum(float(b.get("savedByCacheUSD") or 0) for b in billings),
                **({"pricing": pricing} if pricing else {}),
            }
        )
        or "nothing billed"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rekoflow.smoke", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--terraform-dir", type=Path, help="the applied root module (reads `terraform output -json`)")
    where.add_argument("--local", action="store_true", help="the local stack of --state-dir (started if none runs)")
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="leave what the run created (to look at it)")
    args = parser.parse_args(argv)
    target = from_local(args.state_dir) if args.local else from_terraform(args.terraform_dir)
    run = Run()
    print(f"smoke: {run.tag} against {target.api_url}")
    failed = None
    try:
        step("upload, analyse and read through the API", analyse_through_the_api, target, run)
        if target.trigger_prefix:
            step(f"an upload under {target.trigger_prefix} gives a record", upload_under_the_trigger, target, run)
        else:
            print("smoke: the upload trigger is off (upload_trigger_enabled = false): skipped")
        if target.batch_state_machine_arn:
            step("a batch of two images", tiny_batch, target, run)
        step("a bad request ends in a FAILED record", bad_request, target, run)
    except Exception as error:  # noqa: BLE001 - reported in one line; cleanup still runs
        failed = error
        print(f"smoke: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        print(f"smoke: cost of this run: {describe_total(run.billings)}")
        if not args.keep:
            print(f"smoke: cleaned up {clean_up(target, run)} objects and records")
    if failed:
        return 1
    print("smoke: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
