"""Limits AWS enforces and the emulator does not, checked before a deployment meets them.

- State payload (256 KiB per state input/output): a schema-maximal request with worst-case
  Rekognition answers for all six analyses runs through the real workflow (real ASL, real
  handlers, real summarisers); every state's input and output in the execution history is measured.
- Name lengths (function 64, role 64, state machine 80, ...), with the longest ``name_prefix``.
- Reserved concurrency: Lambda keeps 100 executions of the account's quota unreserved.
- The layer's runtime: a layer built for one CPython cannot serve another runtime.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from rekoflow_common.records import STATE_LIMIT_BYTES
from support.images import image_bytes

from .tfrender import Renderer, RenderError

ACCOUNT = "123456789012"
LONG = 255  # Custom Labels project/version names and label names go up to here


def _box(i: int) -> dict[str, float]:
    return {
        "Width": 0.123456789,
        "Height": 0.234567891,
        "Left": (i % 97) / 100.0 + 0.001234567,
        "Top": (i % 89) / 100.0 + 0.00987654,
    }


def _polygon(i: int) -> list[dict[str, float]]:
    return [{"X": 0.1 + k * 0.0123456789, "Y": 0.2 + k * 0.0234567891} for k in range(4)]


def worst_case_responses(project_version_arn: str, project_arn: str) -> dict[str, dict[str, Any]]:
    """Rekognition answers at the size the request's maxima allow (1000 labels, 100 faces, ...)."""
    labels = [
        {
            "Name": f"Label-{i:04d}-" + "x" * 40,
            "Confidence": 99.123456789,
            "Instances": [{"BoundingBox": _box(i * 3 + k), "Confidence": 98.7654321} for k in range(3)],
            "Parents": [{"Name": f"Parent-{i % 50:02d}-{k}-" + "p" * 30} for k in range(5)],
            "Aliases": [{"Name": f"Alias-{i}-{k}"} for k in range(2)],
            "Categories": [{"Name": f"Category-{i % 40:02d}-" + "c" * 30} for _ in range(2)],
        }
        for i in range(1000)
    ]
    colors = [
        {
            "Red": 1,
            "Green": 2,
            "Blue": 3,
            "HexCode": "#010203",
            "CSSColor": "darkslategrey",
            "SimplifiedColor": "grey",
            "PixelPercent": 8.3333,
        }
        for _ in range(12)
    ]
    emotions = [
        {"Type": t, "Confidence": 12.3456789}
        for t in ("HAPPY", "SAD", "ANGRY", "CONFUSED", "DISGUSTED", "SURPRISED", "CALM", "FEAR")
    ]
    flag = {"Value": True, "Confidence": 99.87654321}
    faces = [
        {
            "BoundingBox": _box(i),
            "AgeRange": {"Low": 25, "High": 35},
            "Smile": flag,
            "Eyeglasses": flag,
            "Sunglasses": flag,
            "Gender": {"Value": "Female", "Confidence": 99.87654321},
            "Beard": flag,
            "Mustache": flag,
            "EyesOpen": flag,
            "MouthOpen": flag,
            "Emotions": emotions,
            "Landmarks": [{"Type": f"landmark{k}", "X": 0.1234567, "Y": 0.7654321} for k in range(30)],
            "Pose": {"Roll": -12.3456789, "Yaw": 23.456789, "Pitch": -34.56789},
            "Quality": {"Brightness": 87.654321, "Sharpness": 92.345678},
            "Confidence": 99.9999,
            "FaceOccluded": flag,
            "EyeDirection": {"Yaw": 1.23456, "Pitch": -2.34567, "Confidence": 99.123},
        }
        for i in range(100)
    ]
    lines = [
        {
            "DetectedText": "W" * 20 + f" line {i}" + " word" * 10,
            "Type": "LINE",
            "Id": i,
            "Confidence": 99.1234567,
            "Geometry": {"BoundingBox": _box(i), "Polygon": _polygon(i)},
        }
        for i in range(100)
    ]
    words = [
        {
            "DetectedText": "W" * 30 + str(i),
            "Type": "WORD",
            "Id": 100 + i,
            "ParentId": i,
            "Confidence": 99.1234567,
            "Geometry": {"BoundingBox": _box(i), "Polygon": _polygon(i)},
        }
        for i in range(100)
    ]
    face = {
        "BoundingBox": _box(1),
        "Confidence": 99.9,
        "Landmarks": [{"Type": "eyeLeft", "X": 0.1, "Y": 0.2}] * 5,
        "Pose": {"Roll": 1.0, "Yaw": 2.0, "Pitch": 3.0},
        "Quality": {"Brightness": 50.0, "Sharpness": 60.0},
    }
    moderation = [
        {
            "Name": f"Moderation-{i:03d}-" + "m" * 40,
            "ParentName": f"Parent-{i % 20}-" + "m" * 30,
            "Confidence": 88.87654321,
            "TaxonomyLevel": 3,
        }
        for i in range(200)
    ]
    custom = [
        {
            "Name": "C" * 200 + f"-{i:04d}",
            "Confidence": 97.123456789,
            "Geometry": {"BoundingBox": _box(i), "Polygon": _polygon(i)},
        }
        for i in range(1000)
    ]
    return {
        "DetectLabels": {
            "Labels": labels,
            "ImageProperties": {
                "Quality": {"Brightness": 1.0, "Sharpness": 2.0, "Contrast": 3.0},
                "DominantColors": colors,
            },
            "LabelModelVersion": "3.0",
        },
        "DetectFaces": {"FaceDetails": faces},
        "DetectText": {"TextDetections": lines + words, "TextModelVersion": "3.0"},
        "CompareFaces": {
            "SourceImageFace": {"BoundingBox": _box(0), "Confidence": 99.9},
            "FaceMatches": [{"Similarity": 99.123456, "Face": face} for _ in range(100)],
            "UnmatchedFaces": [face for _ in range(100)],
        },
        "DetectModerationLabels": {"ModerationLabels": moderation, "ModerationModelVersion": "7.0"},
        "DetectCustomLabels": {"CustomLabels": custom},
        "DescribeProjects": {"ProjectDescriptions": [{"ProjectArn": project_arn, "Status": "CREATED"}]},
        "DescribeProjectVersions": {
            "ProjectVersionDescriptions": [
                {
                    "ProjectVersionArn": project_version_arn,
                    "Status": "RUNNING",
                    "StatusMessage": "s" * 1000,
                    "MinInferenceUnits": 10,
                    "EvaluationResult": {
                        "F1Score": 0.9,
                        "Summary": {"S3Object": {"Bucket": "b" * 63, "Name": "k" * 1024}},
                    },
                    "BillableTrainingTimeInSeconds": 3600,
                }
            ]
        },
        "StopProjectVersion": {"Status": "STOPPING"},
    }


def maximal_request(workflow, project_version_arn: str) -> dict[str, Any]:
    """Every analysis, every option at its schema maximum, S3 keys of 1024 characters."""

    def put(prefix: str) -> dict[str, str]:
        key = (prefix + "-" + uuid.uuid4().hex + "/").ljust(1020, "k") + ".png"
        return workflow.put_bytes(image_bytes(400, 300), key)

    names = lambda tag: [f"{tag}{i:03d}-".ljust(100, "n") for i in range(100)]  # noqa: E731
    return {
        "requestId": ("worst-" + uuid.uuid4().hex).ljust(80, "r"),
        "image": put("source"),
        "analyses": ["labels", "faces", "text", "compare", "moderation", "custom"],
        "options": {
            "labels": {
                "minConfidence": 0,
                "maxLabels": 1000,
                "features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"],
                "inclusionFilters": names("in"),
                "exclusionFilters": names("ex"),
                "categoryInclusionFilters": names("ci"),
                "categoryExclusionFilters": names("ce"),
                "maxDominantColors": 12,
            },
            "faces": {"attributes": ["ALL"], "minConfidence": 0, "maxFaces": 100},
            "text": {"wordFilter": {"minConfidence": 0, "minBoundingBoxHeight": 0, "minBoundingBoxWidth": 0}},
            "compare": {"targetImage": put("target"), "similarityThreshold": 0, "qualityFilter": "NONE"},
            "moderation": {"minConfidence": 0},
            "custom": {
                "projectVersionArn": project_version_arn,
                "minConfidence": 0,
                "maxResults": 1000,
                "keepRunning": False,
                "minInferenceUnits": 10,
                "pollIntervalSeconds": 0,
                "maxPolls": 1000,
            },
        },
        "useCache": False,
    }


def payloads(history: list[dict[str, Any]]) -> Iterator[tuple[str, str, int]]:
    """(state, which payload, bytes) for every state input/output and task parameters in the history."""
    state = "(execution)"
    for event in history:
        for key, details in event.items():
            if not key.endswith("EventDetails") or not isinstance(details, dict):
                continue
            state = details.get("name", state)
            for field in ("input", "output", "parameters"):
                if isinstance(details.get(field), str):
                    yield state, f"{event['type']}.{field}", len(details[field].encode())


@pytest.fixture()
def worst_case(workflow, fake_rekognition):
    project = "p" * LONG
    version = "v" * LONG
    project_arn = f"arn:aws:rekognition:us-east-1:{ACCOUNT}:project/{project}/1234567890123"
    arn = f"arn:aws:rekognition:us-east-1:{ACCOUNT}:project/{project}/version/{version}/1234567890123"
    saved = dict(fake_rekognition.responses)
    fake_rekognition.responses.update(worst_case_responses(arn, project_arn))
    try:
        yield maximal_request(workflow, arn)
    finally:
        fake_rekognition.responses.clear()
        fake_rekognition.responses.update(saved)


def test_worst_case_state_payloads_stay_under_256_kib(workflow, worst_case):
    arn = workflow.start_analysis(worst_case)
    result = workflow.wait(arn, timeout_s=240)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    record = workflow.get_record(worst_case["requestId"])
    assert record["status"] == "SUCCEEDED" and sorted(record["analyses"]) == sorted(worst_case["analyses"])
    sizes = list(payloads(workflow.history(arn)))
    largest = max(sizes, key=lambda s: s[2])
    per_state: dict[str, int] = {}
    for state, _, size in sizes:
        per_state[state] = max(per_state.get(state, 0), size)
    report = "\n".join(
        f"  {state:<32} {size:>8,} bytes" for state, size in sorted(per_state.items(), key=lambda kv: -kv[1])
    )
    print(f"\nworst-case payload per state (limit {STATE_LIMIT_BYTES:,}):\n{report}")
    assert largest[2] < STATE_LIMIT_BYTES * 0.9, (
        f"{largest[0]} {largest[1]}: {largest[2]:,} bytes of {STATE_LIMIT_BYTES:,}\n{report}"
    )
    # The summaries that did not fit their budget are pointers to the full results in S3.
    results = record["results"]
    for analysis, summary in results.items():
        if summary.get("truncated"):
            full = workflow.read_result(summary["resultKey"])
            assert full["summary"]["count"] == summary["count"], analysis
    assert results["labels"].get("truncated") and results["labels"]["count"] == 1000
    assert results["faces"]["count"] == 100


def test_a_summary_within_budget_is_carried_whole(workflow, fake_rekognition):
    """The budget cuts only what does not fit: the default answers come back in full."""
    data = image_bytes(210, 170, color=(1, 2, 3))
    image = workflow.put_bytes(data, f"limits/{uuid.uuid4().hex}.png")
    result = workflow.analyze({"image": image, "analyses": ["labels", "faces"], "useCache": False}, timeout_s=60)
    assert result.succeeded
    record = workflow.get_record(result.name)
    assert (
        not record["results"]["labels"].get("truncated") and record["results"]["labels"]["labels"][0]["name"] == "Cat"
    )


# --- names, reserved concurrency, runtime: what Terraform renders -----------------------------------
NAME_LIMITS = {
    "aws_lambda_function": ("function_name", 64),
    "aws_iam_role": ("name", 64),
    "aws_iam_role_policy": ("name", 128),
    "aws_sfn_state_machine": ("name", 80),
    "aws_s3_bucket": ("bucket", 63),
    "aws_dynamodb_table": ("name", 255),
    "aws_cloudwatch_log_group": ("name", 512),
    "aws_cloudwatch_metric_alarm": ("alarm_name", 255),
    "aws_sns_topic": ("name", 256),
    "aws_sqs_queue": ("name", 80),
    "aws_scheduler_schedule": ("name", 64),
    "aws_lambda_layer_version": ("layer_name", 140),
    "aws_api_gateway_rest_api": ("name", 1024),
    "aws_kms_alias": ("name", 256),
}


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    try:
        return Renderer(tmp_path_factory.mktemp("tflimits"))
    except RenderError as error:
        pytest.fail(str(error))


@pytest.mark.terraform
def test_names_fit_their_services_limits_with_the_longest_prefix(renderer):
    longest = "r" + "e" * 18 + "x"  # name_prefix allows 20 characters
    rendered = renderer.render({"name_prefix": longest})
    checked = 0
    for rtype, (attribute, limit) in NAME_LIMITS.items():
        for address, values in rendered.of_type(rtype).items():
            name = values[attribute]
            if rtype in ("aws_lambda_function", "aws_iam_role", "aws_sfn_state_machine", "aws_s3_bucket"):
                assert longest in name, (address, name)
            assert len(name) <= limit, (
                f"{address}: {attribute} {name!r} is {len(name)} characters, {rtype} allows {limit}"
            )
            checked += 1
    assert checked > 50
    # The longest execution names: the API's requestId and the batch children (<batchId>-<32 hex>).
    from validate_batch.batch_input import MAX_BATCH_ID_CHARS

    schema = json.loads(
        (renderer.source.parent / "functions/rekoflow_common/schemas/analysis_request.schema.json").read_text()
    )
    assert schema["properties"]["requestId"]["pattern"].endswith("{0,79}$")
    assert MAX_BATCH_ID_CHARS + 33 == 80


@pytest.mark.terraform
def test_reserved_concurrency_must_leave_lambdas_unreserved_minimum(renderer):
    with pytest.raises(RenderError, match=r"reserve 1100 concurrent executions in total.*at most 900"):
        renderer.render({"rekognition_reserved_concurrency": 100})
    rendered = renderer.render({"reserved_concurrency": {"detect_labels": 850, "detect_faces": 50}})
    reserved = {
        v["function_name"].removeprefix("rekoflow-"): v["reserved_concurrent_executions"]
        for v in rendered.of_type("aws_lambda_function").values()
    }
    assert reserved["detect-labels"] == 850 and reserved["detect-faces"] == 50 and reserved["detect-text"] == -1
    with pytest.raises(RenderError, match=r"not in functions/manifest.json: detect_lables"):
        renderer.render({"reserved_concurrency": {"detect_lables": 5}})
    with pytest.raises(RenderError, match=r"at most 0 can be reserved"):
        renderer.render({"lambda_account_concurrency": 100, "reserved_concurrency": {"detect_labels": 1}})


@pytest.mark.terraform
def test_the_runtime_must_be_the_one_the_layer_was_built_for(renderer):
    with pytest.raises(RenderError, match=r"lambda_runtime is python3.12 but the layer .* was built for python3.11"):
        renderer.render({"lambda_runtime": "python3.12"})
