"""The real ASL executed locally with the real handlers; Rekognition is a scripted HTTP endpoint.

Each test asserts on the stored DynamoDB record and on the execution history, not only on the status.
"""

from __future__ import annotations

import json
import uuid

import pytest

from support.images import GIF_BYTES, image_bytes


@pytest.fixture(scope="module")
def function_environment() -> dict[str, str]:
    # One boto3 attempt inside the Lambda, so every throttle reaches the state machine's Retry.
    return {"REKOGNITION_MAX_ATTEMPTS": "1"}


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def fresh_image(workflow, width=200, height=160, fmt="PNG") -> dict:
    # A distinct colour per image: distinct content, so the cache does not answer.
    color = tuple(int(x, 16) for x in (uuid.uuid4().hex[i : i + 2] for i in (0, 2, 4)))
    return workflow.put_bytes(image_bytes(width, height, fmt, color=color), f"{unique('img')}.{fmt.lower()}")


def states_entered(workflow, arn) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in workflow.history(arn) if "stateEnteredEventDetails" in e]


def run(workflow, request):
    request.setdefault("requestId", unique("req"))
    arn = workflow.start_analysis(request)
    result = workflow.wait(arn, timeout_s=60)
    return result, workflow.get_record(request["requestId"]), arn


# What each branch's summary counts for the scripted answers (support/fake_rekognition.py): 2 labels;
# 1 face (the other is under 80 %); 1 word (WORLD is under 80 %); 1 match; 2 unsafe labels (set below).
EXPECTED_COUNTS = {"labels": 2, "faces": 1, "text": 1, "compare": 1, "moderation": 2}
UNSAFE = {
    "ModerationLabels": [
        {"Name": "Weapons", "Confidence": 91.5, "ParentName": "Violence", "TaxonomyLevel": 2},
        {"Name": "Violence", "Confidence": 91.5, "ParentName": "", "TaxonomyLevel": 1},
    ],
    "ModerationModelVersion": "7.0",
}

BRANCHES = {
    "labels": ("DetectLabels", "Detect labels"),
    "faces": ("DetectFaces", "Detect faces"),
    "text": ("DetectText", "Detect text"),
    "compare": ("CompareFaces", "Compare faces"),
    "moderation": ("DetectModerationLabels", "Detect moderation labels"),
}


@pytest.mark.parametrize("analysis", sorted(BRANCHES))
def test_each_branch_runs_its_lambda_and_stores_the_record(workflow, rekognition, analysis):
    operation, state = BRANCHES[analysis]
    if analysis == "moderation":
        rekognition.responses[operation] = UNSAFE  # an analysis that always answered "nothing" must not pass
    image = fresh_image(workflow)
    request = {"image": image, "analyses": [analysis]}
    if analysis == "compare":
        request["options"] = {"compare": {"targetImage": fresh_image(workflow, 300, 300, "JPEG")}}
    result, record, arn = run(workflow, request)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert rekognition.count(operation) == 1
    sent = rekognition.calls[-1][1]
    image_param = sent.get("Image") or sent.get("SourceImage")
    assert image_param == {
        "S3Object": {"Bucket": image["bucket"], "Name": image["key"], "Version": record["image"]["versionId"]}
    }
    assert record["status"] == "SUCCEEDED" and record["analyses"] == [analysis]
    assert record["results"][analysis]["count"] == EXPECTED_COUNTS[analysis]
    if analysis == "moderation":
        assert record["results"]["moderation"]["flagged"] is True
    assert record["executionArn"] == arn
    stored = workflow.read_result(record["resultKeys"][analysis])
    assert stored["requestId"] == record["requestId"] and stored["summary"] == record["results"][analysis]
    entered = states_entered(workflow, arn)
    assert entered[0] == "Validate request" and state in entered and entered[-1] == "Analysis succeeded"
    assert "Record failure" not in entered
    assert result.output["requestId"] == record["requestId"]


def test_several_analyses_in_one_request(workflow, rekognition):
    image = fresh_image(workflow)
    result, record, arn = run(workflow, {"image": image, "analyses": ["labels", "faces", "text", "moderation"]})
    assert result.status == "SUCCEEDED"
    assert set(record["results"]) == {"labels", "faces", "text", "moderation"}
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat"
    assert record["results"]["faces"]["faces"][0]["ageRange"] == {"low": 30, "high": 40}
    assert record["results"]["text"]["fullText"] == "HELLO WORLD"
    iterations = [e for e in workflow.history(arn) if e["type"] == "MapIterationSucceeded"]
    assert len(iterations) == 4
    assert [
        rekognition.count(op) for op in ("DetectLabels", "DetectFaces", "DetectText", "DetectModerationLabels")
    ] == [1, 1, 1, 1]


def test_same_image_content_is_served_from_the_cache(workflow, rekognition):
    data = image_bytes(210, 170, color=(9, 99, 199))
    first = workflow.put_bytes(data, f"{unique()}.png")
    second = workflow.put_bytes(data, f"{unique()}.png")  # same content, other key
    result, record, _ = run(workflow, {"image": first, "analyses": ["labels", "text"]})
    assert result.succeeded and record["cachedAnalyses"] == []
    calls = len(rekognition.calls)
    result, record, arn = run(workflow, {"image": second, "analyses": ["labels", "text"]})
    assert result.succeeded and sorted(record["cachedAnalyses"]) == ["labels", "text"] and record["cacheHits"] == 2
    assert len(rekognition.calls) == calls, "a cache hit must not call Rekognition"
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat"
    entered = states_entered(workflow, arn)
    assert entered.count("Use cached result") == 2 and "Detect labels" not in entered
    # Different options are a different question: not served from the cache.
    result, record, _ = run(
        workflow, {"image": second, "analyses": ["labels"], "options": {"labels": {"minConfidence": 90}}}
    )
    assert record["cachedAnalyses"] == [] and len(rekognition.calls) == calls + 1
    # useCache=false forces a fresh analysis.
    result, record, _ = run(workflow, {"image": second, "analyses": ["text"], "useCache": False})
    assert record["cachedAnalyses"] == [] and len(rekognition.calls) == calls + 2


def assert_failed(workflow, result, record, arn, error, cause_part):
    assert result.status == "FAILED"
    assert result.error == error and cause_part in result.cause
    assert record["status"] == "FAILED" and record["error"] == error and cause_part in record["cause"]
    assert record["executionArn"] == arn and record["request"]["requestId"] == record["requestId"]
    entered = states_entered(workflow, arn)
    assert "Record failure" in entered and entered[-1] == "Analysis failed"


@pytest.mark.parametrize(
    "mutate,cause_part",
    [
        (lambda r: r.update(analyses=["celebrities"]), "analyses[0]: 'celebrities' is not one of"),
        (lambda r: r.update(colour="red"), "unknown field(s) colour"),
        (lambda r: r["image"].pop("key"), "image: 'key' is a required property"),
        (lambda r: r.update(analyses=["compare"]), "options.compare.targetImage is required"),
    ],
)
def test_invalid_request_is_recorded_as_failed(workflow, rekognition, mutate, cause_part):
    request = {"image": fresh_image(workflow), "analyses": ["labels"]}
    mutate(request)
    result, record, arn = run(workflow, request)
    assert_failed(workflow, result, record, arn, "RequestValidationError", cause_part)
    assert rekognition.calls == []


@pytest.mark.parametrize(
    "body,cause_part",
    [
        (None, "object does not exist"),
        (GIF_BYTES, "not a PNG or JPEG image (GIF)"),
        (image_bytes(50, 400), "image is 50x400 px; each side must be at least 80 px"),
    ],
)
def test_bad_image_is_recorded_as_failed(workflow, rekognition, body, cause_part):
    key = f"{unique()}.png"
    if body is not None:
        workflow.put_bytes(body, key)
    result, record, arn = run(
        workflow, {"image": {"bucket": workflow.config.images_bucket, "key": key}, "analyses": ["labels", "faces"]}
    )
    assert_failed(workflow, result, record, arn, "ImageValidationError", cause_part)
    assert rekognition.calls == []


def test_throttling_is_retried_then_succeeds(workflow, rekognition):
    rekognition.fail("DetectLabels", "ThrottlingException", times=2)
    result, record, arn = run(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    assert result.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
    assert rekognition.count("DetectLabels") == 3
    failed = [e for e in workflow.history(arn) if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert len(failed) == 2
    assert all("RekognitionThrottlingError" in json.dumps(e, default=str) for e in failed)


def test_throttling_exhausted_records_the_failure(workflow, rekognition):
    rekognition.fail("DetectText", "ProvisionedThroughputExceededException", times=20)
    result, record, arn = run(workflow, {"image": fresh_image(workflow), "analyses": ["text"]})
    assert_failed(
        workflow,
        result,
        record,
        arn,
        "RekognitionThrottlingError",
        "DetectText failed: ProvisionedThroughputExceededException",
    )
    assert rekognition.count("DetectText") == 7  # the first call + MaxAttempts (6) retries in the ASL


def test_transient_errors_are_retried_fewer_times(workflow, rekognition):
    rekognition.fail("DetectFaces", "InternalServerError", times=20, status=500)
    result, record, arn = run(workflow, {"image": fresh_image(workflow), "analyses": ["faces"]})
    assert_failed(workflow, result, record, arn, "RekognitionTransientError", "InternalServerError")
    assert rekognition.count("DetectFaces") == 4  # the first call + MaxAttempts (3) retries


def test_rejected_call_is_not_retried(workflow, rekognition):
    rekognition.fail("DetectLabels", "InvalidImageFormatException", times=5, message="Request has invalid image format")
    result, record, arn = run(workflow, {"image": fresh_image(workflow), "analyses": ["labels", "text"]})
    assert_failed(workflow, result, record, arn, "RekognitionRequestError", "Request has invalid image format")
    assert rekognition.count("DetectLabels") == 1


def test_execution_name_is_the_request_id_and_a_repeat_does_not_analyse_twice(workflow, rekognition):
    request = {"requestId": unique("idem"), "image": fresh_image(workflow), "analyses": ["labels"]}
    arn = workflow.start_analysis(dict(request))
    assert arn.endswith(":" + request["requestId"])
    assert workflow.wait(arn).succeeded
    # Step Functions refuses the name again (the execution has ended)...
    with pytest.raises(workflow.sfn.exceptions.ExecutionAlreadyExists):
        workflow.sfn.start_execution(
            stateMachineArn=workflow.state_machines["image_analysis"],
            name=request["requestId"],
            input=json.dumps(request),
        )
    # ...and the client reads that as the same request: the same execution, nothing analysed twice.
    assert workflow.start_analysis(dict(request)) == arn
    assert rekognition.count("DetectLabels") == 1


def test_logs_carry_the_request_id_as_correlation_id(workflow, rekognition):
    request_id = unique("corr")
    run(workflow, {"requestId": request_id, "image": fresh_image(workflow), "analyses": ["labels"]})
    logs = [i.logs for i in workflow.lambda_runtime.invocations if request_id in json.dumps(i.event)]
    assert len(logs) >= 3  # validate, detect labels, aggregate
    structured = [
        json.loads(line) for text in logs for line in text.splitlines() if line.startswith("{") and '"level"' in line
    ]
    assert structured, f"Powertools should have logged structured lines: {logs}"
    assert all(entry.get("correlation_id") == request_id for entry in structured), [
        e for e in structured if e.get("correlation_id") != request_id
    ]
