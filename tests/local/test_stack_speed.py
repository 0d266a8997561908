"""What made each execution slow must not come back: counters of the work an execution repeats.

Each test runs the real workflow on the in-process stack twice and asserts that the second run
repeats none of the one-off work (parsing, building, creating clients, listing modules), that the
stack's own calls stay in-process, and that moto's thread registry does not grow. No timings.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest

from support.images import image_bytes

ANALYSES = ["labels", "faces", "text"]


def analyse(workflow, key: str, use_cache: bool = False):
    image = workflow.put_bytes(image_bytes(320, 240, color=(30, 60, 90)), key)
    result = workflow.analyze(
        {"requestId": f"speed-{uuid.uuid4().hex[:10]}", "image": image, "analyses": ANALYSES, "useCache": use_cache}
    )
    assert result.succeeded, (result.error, result.cause)
    return result


def snapshot() -> dict:
    from rekoflow.local.patches import in_process_transport, interpreter_clients, parse_cache, request_dispatch

    return {
        "asl_parse": parse_cache.COUNTS["asl_parse"],
        "asl_program": parse_cache.COUNTS["asl_program"],
        "intrinsic_parse": parse_cache.COUNTS["intrinsic_parse"],
        "jsonpath_parse": parse_cache.COUNTS["jsonpath_parse"],
        "interpreter_clients": sum(interpreter_clients.CREATED.values()),
        "method_names": request_dispatch.COMPUTED["method_names"],
        "moto_modules": request_dispatch.COMPUTED["moto_modules"],
        "in_process_requests": sum(in_process_transport.DISPATCHED.values()),
    }


def test_a_second_execution_parses_builds_and_creates_nothing(workflow):
    analyse(workflow, "speed/first.png")  # cold starts, first parses, first clients
    before = snapshot()
    analyse(workflow, "speed/second.png")
    after = snapshot()
    for counter in (
        "asl_parse",
        "asl_program",
        "intrinsic_parse",
        "jsonpath_parse",
        "interpreter_clients",
        "method_names",
        "moto_modules",
    ):
        assert after[counter] == before[counter], (
            f"{counter} grew by {after[counter] - before[counter]} in one execution"
        )
    # The interpreter's Lambda, DynamoDB and Step Functions calls and the stack's wait went in-process.
    assert after["in_process_requests"] - before["in_process_requests"] >= 2 + 3 + 2


def test_a_cached_batch_adds_no_per_child_parsing(workflow):
    prefix = f"speed-batch-{uuid.uuid4().hex[:6]}/"
    for index in range(3):
        workflow.put_bytes(image_bytes(200, 160, color=(index * 40, 20, 200)), f"{prefix}{index}.png")

    def batch(use_cache: bool) -> None:
        batch_id = f"sb{uuid.uuid4().hex[:8]}"
        arn = workflow.start_execution(
            "batch_analysis",
            {
                "bucket": workflow.images_bucket,
                "prefix": prefix,
                "analyses": ["labels"],
                "batchId": batch_id,
                "maxConcurrency": 2,
                "toleratedFailurePercentage": 0,
                "useCache": use_cache,
            },
            batch_id,
        )
        result = workflow.wait(arn, 300)
        assert result.succeeded, (result.error, result.cause)

    batch(False)
    batch(True)  # the cached paths' JSONPaths are parsed now, once
    before = snapshot()
    batch(True)
    after = snapshot()
    for counter in ("asl_program", "jsonpath_parse", "interpreter_clients", "method_names"):
        assert after[counter] == before[counter], (
            f"{counter} grew by {after[counter] - before[counter]} in a cached batch"
        )


def test_moto_keeps_no_finished_interpreter_threads(workflow):
    from moto.stepfunctions.parser import utils

    analyse(workflow, "speed/threads-a.png")
    for index in range(3):
        analyse(workflow, f"speed/threads-{index}.png", use_cache=True)
    # Finished threads are let go at the next append; only threads still running (none now, but
    # a few just ending) stay: not one per state of every execution so far (dozens each).
    assert len(utils.TMP_THREADS) < 10


def test_method_names_are_recomputed_when_a_response_class_gains_a_method():
    from moto.core import responses
    from moto.stepfunctions.responses import StepFunctionResponse

    from rekoflow.local import patches as moto_patches

    undo = moto_patches.install_request_dispatch_caches()
    try:
        names = responses.method_names_from_class(StepFunctionResponse)
        assert responses.method_names_from_class(StepFunctionResponse) is names  # cached
        assert "rekoflow_probe" not in names
        StepFunctionResponse.rekoflow_probe = lambda self: None
        try:
            assert "rekoflow_probe" in responses.method_names_from_class(StepFunctionResponse)
        finally:
            del StepFunctionResponse.rekoflow_probe
        assert "rekoflow_probe" not in responses.method_names_from_class(StepFunctionResponse)
    finally:
        undo()


def test_the_engine_reads_images_from_the_backend_with_s3s_errors(workflow):
    from botocore.exceptions import ClientError

    from rekoflow.local import backend_s3
    from rekoflow.local.stack import ACCOUNT_ID

    fallback = []
    s3 = backend_s3.BackendS3(ACCOUNT_ID, lambda: fallback.append(1) or workflow.stack.client("s3"))
    data = image_bytes(100, 90, color=(1, 2, 3))
    put = workflow.s3.put_object(Bucket=workflow.images_bucket, Key="speed/engine.png", Body=data)
    before = backend_s3.READS["backend"]
    got = s3.get_object(Bucket=workflow.images_bucket, Key="speed/engine.png")
    assert got["Body"].read() == data and got["ContentLength"] == len(data)
    assert (
        s3.get_object(Bucket=workflow.images_bucket, Key="speed/engine.png", VersionId=put["VersionId"])["Body"].read()
        == data
    )
    assert backend_s3.READS["backend"] == before + 2 and not fallback, "reads must not go through a client"
    for kwargs, code in (
        ({"Bucket": workflow.images_bucket, "Key": "speed/missing.png"}, "NoSuchKey"),
        (
            {"Bucket": workflow.images_bucket, "Key": "speed/engine.png", "VersionId": "no-such-version"},
            "NoSuchVersion",
        ),
        ({"Bucket": "no-such-bucket-here", "Key": "x"}, "NoSuchBucket"),
    ):
        with pytest.raises(ClientError) as raised:
            s3.get_object(**kwargs)
        assert raised.value.response["Error"]["Code"] == code
    # Writes (a training evaluation) go to one real client of the stack, made once.
    s3.put_object(Bucket=workflow.results_bucket, Key="speed/written.json", Body=b"{}")
    s3.put_object(Bucket=workflow.results_bucket, Key="speed/written-2.json", Body=b"{}")
    assert len(fallback) == 1
    assert workflow.s3.get_object(Bucket=workflow.results_bucket, Key="speed/written.json")["Body"].read() == b"{}"


def test_the_functions_clients_for_the_stack_go_in_process_and_others_do_not(workflow, fake_rekognition, monkeypatch):
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from rekoflow.local.patches import in_process_transport

    before = dict(in_process_transport.DISPATCHED)
    analyse(workflow, "speed/functions.png")
    # validate_request reads the image's header from S3; the detect functions write their results.
    assert in_process_transport.DISPATCHED["s3"] - before.get("s3", 0) >= 2 + 3

    def in_process(client, call) -> bool:
        count = in_process_transport.DISPATCHED["s3"]
        with contextlib.suppress(BotoCoreError, ClientError):
            call(client)
        return in_process_transport.DISPATCHED["s3"] > count

    kwargs = {
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": __import__("botocore.config").config.Config(retries={"total_max_attempts": 1}),
    }
    list_buckets = lambda client: client.list_buckets()  # noqa: E731
    outside = boto3.session.Session().client("s3", endpoint_url=workflow.endpoint, **kwargs)
    assert not in_process(outside, list_buckets), (
        "a client made outside an invocation (a test, a user's script) keeps its socket"
    )
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "a-function")  # as inside an in-process invocation
    inside = boto3.session.Session().client("s3", endpoint_url=workflow.endpoint, **kwargs)
    elsewhere = boto3.session.Session().client("s3", endpoint_url=fake_rekognition.url, **kwargs)
    assert in_process(inside, list_buckets)
    assert not in_process(elsewhere, list_buckets)


def test_the_interpreter_copies_state_data_with_the_json_copier(workflow):
    import datetime

    from moto.stepfunctions.parser.asl.eval import states

    from rekoflow.local.patches import state_copies

    assert states.copy.deepcopy is state_copies.json_deepcopy, (
        "moto's interpreter is back on copy.deepcopy for every state"
    )
    shared = {"k": [1, 2.5, "x", None, True]}
    value = {"a": shared, "b": shared, "when": datetime.datetime(2024, 1, 2), "pair": (1, [2])}
    copied = state_copies.json_deepcopy(value)
    assert copied == value
    assert copied["a"] is not shared and copied["a"]["k"] is not shared["k"]  # a deep copy
    assert copied["pair"][1] is not value["pair"][1]  # other types: copy.deepcopy's copy


def test_the_stack_caps_malloc_arenas_unless_the_environment_chose(monkeypatch):
    import platform

    from rekoflow.local import malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert malloc_arenas.limit_malloc_arenas() is False  # the operator's choice stands
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("arenas are glibc's")
    assert malloc_arenas.limit_malloc_arenas() is True


def test_in_process_requests_behave_like_the_socket_for_s3_keys_bodies_and_errors(workflow):
    """The stack's own client goes in-process; a plain client over the socket must see the same objects."""
    import io

    from botocore.exceptions import ClientError

    in_process = workflow.stack.client("s3")
    key = "speed/odd key+with%20chars/ünï.bin"
    body = bytes(range(256)) * 40
    in_process.put_object(Bucket=workflow.images_bucket, Key=key, Body=body)
    assert workflow.s3.get_object(Bucket=workflow.images_bucket, Key=key)["Body"].read() == body  # over the socket
    streamed = in_process.upload_fileobj(io.BytesIO(body), workflow.images_bucket, f"{key}.2")  # a file-like body
    assert (
        streamed is None and in_process.get_object(Bucket=workflow.images_bucket, Key=f"{key}.2")["Body"].read() == body
    )
    head = in_process.head_object(Bucket=workflow.images_bucket, Key=key)
    assert head["ContentLength"] == len(body)
    with pytest.raises(ClientError) as raised:
        in_process.get_object(Bucket=workflow.images_bucket, Key="speed/absent")
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"
    listed = in_process.list_objects_v2(Bucket=workflow.images_bucket, Prefix="speed/odd key")["Contents"]
    assert {o["Key"] for o in listed} == {key, f"{key}.2"}
