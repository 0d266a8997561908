"""Faults around a valid request: each ends SUCCEEDED after bounded retries, or FAILED with a specific error
and a record; nothing broken is cached.

Rekognition faults come from the scripted endpoint at the wire (throttling, 5xx, resets, a hanging
endpoint, garbage and oversized answers); faults of S3, DynamoDB and the Lambda service come from a
WSGI layer in front of the stack's moto (reliability/faults.py). Short client timeouts are the
functions' environment (conftest.TIMEOUTS), the Lambda timeout the function's configuration.
"""

from __future__ import annotations

import json
import time

import pytest

from reliability.conftest import assert_failed_with_record, fresh_image, start_raw, states_entered, unique
from reliability.faults import dynamodb_error, inject, lambda_invoke_error, s3_get_error

# The ASL's Retry for the detect tasks: RekognitionThrottlingError 6 times, RekognitionTransientError 3.
THROTTLING_RETRIES = 6
TRANSIENT_RETRIES = 3


def analyse(workflow, request, timeout_s=120):
    name, arn = start_raw(workflow, request)
    result = workflow.wait(arn, timeout_s=timeout_s)
    return name, arn, result, workflow.get_record(name)


def cache_items(workflow, cache_key):
    return workflow.dynamodb.get_item(
        TableName=workflow.table_name, Key={"pk": {"S": cache_key}}, ConsistentRead=True
    ).get("Item")


def planned_cache_keys(workflow, arn):
    """The cache keys Validate request planned, from the execution history."""
    for event in workflow.history(arn):
        details = event.get("taskSucceededEventDetails") or event.get("lambdaFunctionSucceededEventDetails")
        if details and '"cacheKey"' in details.get("output", ""):
            return [item["cacheKey"] for item in json.loads(details["output"])["Payload"]["analyses"]]
    raise AssertionError("no plan in the history")


def test_a_throttling_burst_is_retried_and_succeeds(workflow, rekognition):
    rekognition.fail("DetectLabels", "ThrottlingException", times=4)
    name, arn, result, record = analyse(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    assert result.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
    assert rekognition.count("DetectLabels") == 5
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat"


def test_throttling_beyond_the_retries_ends_with_a_record(workflow, rekognition):
    rekognition.fail("DetectLabels", "ThrottlingException", times=50)
    name, arn = start_raw(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    assert_failed_with_record(
        workflow, name, arn, "RekognitionThrottlingError", "DetectLabels failed: ThrottlingException: Rate exceeded"
    )
    assert rekognition.count("DetectLabels") == 1 + THROTTLING_RETRIES


def test_server_errors_are_retried_and_succeed(workflow, rekognition):
    rekognition.fail("DetectFaces", "InternalServerError", times=2, status=500, message="internal")
    name, arn, result, record = analyse(workflow, {"image": fresh_image(workflow), "analyses": ["faces"]})
    assert result.status == "SUCCEEDED" and record["results"]["faces"]["count"] == 1
    assert rekognition.count("DetectFaces") == 3


def test_server_errors_beyond_the_retries_end_with_a_record(workflow, rekognition):
    rekognition.fail("DetectText", "ServiceUnavailableException", times=50, status=503, message="unavailable")
    name, arn = start_raw(workflow, {"image": fresh_image(workflow), "analyses": ["text"]})
    assert_failed_with_record(
        workflow, name, arn, "RekognitionTransientError", "DetectText failed: ServiceUnavailableException: unavailable"
    )
    assert rekognition.count("DetectText") == 1 + TRANSIENT_RETRIES


def test_connection_resets_are_retried_and_succeed(workflow, rekognition):
    rekognition.reset("DetectLabels", times=2)
    name, arn, result, record = analyse(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    assert result.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
    assert rekognition.count("DetectLabels") == 3


def test_connection_resets_beyond_the_retries_end_with_a_record(workflow, rekognition):
    rekognition.reset("DetectLabels", times=50)
    name, arn = start_raw(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    assert_failed_with_record(
        workflow, name, arn, "RekognitionTransientError", "DetectLabels failed: cannot reach Rekognition"
    )


def test_a_hanging_endpoint_ends_with_a_record_naming_the_timeout(workflow, rekognition):
    """An endpoint that accepts and never answers: the client's read timeout (1 s here) ends each attempt."""
    rekognition.pause_after("DetectLabels", 0)
    name, arn = start_raw(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    result, record = assert_failed_with_record(
        workflow,
        name,
        arn,
        "RekognitionTransientError",
        "DetectLabels failed: Rekognition timed out (read timeout, 1 s read and 1 s connect timeout, 1 attempt(s))",
    )
    assert rekognition.count("DetectLabels") == 1 + TRANSIENT_RETRIES
    assert "Record failure" in states_entered(workflow, arn)


def test_a_handler_that_outlives_its_lambda_timeout_is_cut_off_and_recorded(workflow, rekognition):
    """When the client would wait longer than the function may run, Lambda ends it (Sandbox.Timedout)."""
    lam = workflow.client("lambda")
    function = workflow.status["resources"]["functions"]["detect_labels"]
    before = lam.get_function_configuration(FunctionName=function)
    environment = {**before["Environment"]["Variables"], "REKOGNITION_READ_TIMEOUT_S": "30"}
    lam.update_function_configuration(FunctionName=function, Timeout=2, Environment={"Variables": environment})
    rekognition.pause_after("DetectLabels", 0)
    try:
        name, arn = start_raw(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
        assert_failed_with_record(workflow, name, arn, "Sandbox.Timedout", "Task timed out after 2.00 seconds")
        assert rekognition.count("DetectLabels") == 1, "a Lambda timeout is not retried: the work may have been done"
    finally:
        rekognition.resume()
        lam.update_function_configuration(
            FunctionName=function, Timeout=before["Timeout"], Environment=before["Environment"]
        )


@pytest.mark.parametrize(
    "body,cause_part",
    [
        (b"<html><body>502 Bad Gateway</body></html>", "the answer is not a DetectLabels response: Labels is missing"),
        (b"", "the answer is not a DetectLabels response: Labels is missing"),
        (b'[{"Name": "Cat"}]', "Rekognition's answer could not be read"),
        (b'{"Labels": [{"Name": "Cat", "Confidence": NaN}]}', "Labels[0].Confidence is not a finite number"),
        (b'{"Labels": [{"Name": "Cat", "Confidence": "very"}]}', "the answer is not a DetectLabels response"),
    ],
    ids=["html", "empty", "json-list", "nan", "wrong-type"],
)
def test_a_broken_answer_fails_is_recorded_and_is_never_cached(workflow, rekognition, body, cause_part):
    image = fresh_image(workflow)
    rekognition.answer_raw("DetectLabels", body, times=50)
    name, arn = start_raw(workflow, {"image": image, "analyses": ["labels"]})
    assert_failed_with_record(workflow, name, arn, "RekognitionTransientError", cause_part)
    (cache_key,) = planned_cache_keys(workflow, arn)
    assert cache_items(workflow, cache_key) is None, "a broken answer must never be cached"
    # The endpoint recovers: the same image is analysed again (nothing was cached), and correctly.
    rekognition.clear_faults()
    calls = rekognition.count("DetectLabels")
    name, arn, result, record = analyse(workflow, {"image": image, "analyses": ["labels"]})
    assert result.status == "SUCCEEDED" and record["cachedAnalyses"] == []
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat"
    assert rekognition.count("DetectLabels") == calls + 1


def test_an_oversized_answer_succeeds_with_a_pointer_to_the_full_result(workflow, rekognition):
    """1,000 labels x 50 instances: the state carries a bounded summary, S3 the whole answer."""
    box = {"Width": 0.1, "Height": 0.1, "Left": 0.2, "Top": 0.3}
    labels = [
        {
            "Name": f"Label {i}",
            "Confidence": 90.0,
            "Instances": [{"BoundingBox": box, "Confidence": 88.0}] * 50,
            "Parents": [{"Name": f"Parent {i % 7}"}],
            "Categories": [{"Name": "Things"}],
        }
        for i in range(1000)
    ]
    rekognition.responses["DetectLabels"] = {"Labels": labels, "LabelModelVersion": "3.0"}
    name, arn, result, record = analyse(
        workflow, {"image": fresh_image(workflow), "analyses": ["labels"], "options": {"labels": {"maxLabels": 1000}}}
    )
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    summary = record["results"]["labels"]
    assert (
        summary["truncated"] is True
        and summary["count"] == 1000
        and summary["resultKey"] == record["resultKeys"]["labels"]
    )
    stored = workflow.read_result(summary["resultKey"])
    assert len(stored["response"]["Labels"]) == 1000 and len(stored["response"]["Labels"][0]["Instances"]) == 50


def test_lambda_service_errors_are_retried(workflow, rekognition):
    function = workflow.status["resources"]["functions"]["validate_request"]
    with inject(workflow, lambda_invoke_error(function, "ServiceException", times=2)) as rules:
        name, arn, result, record = analyse(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
    assert rules[0].hits == 2
    assert result.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
    failures = [e for e in workflow.history(arn) if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert [f.get("taskFailedEventDetails", f.get("lambdaFunctionFailedEventDetails"))["error"] for f in failures] == [
        "Lambda.ServiceException"
    ] * 2


def test_lambda_service_errors_beyond_the_retries_end_with_a_record(workflow, rekognition):
    function = workflow.status["resources"]["functions"]["aggregate_results"]
    with inject(workflow, lambda_invoke_error(function, "TooManyRequestsException", times=50)) as rules:
        name, arn = start_raw(workflow, {"image": fresh_image(workflow), "analyses": ["labels"]})
        assert_failed_with_record(
            workflow, name, arn, "Lambda.TooManyRequestsException", "injected TooManyRequestsException"
        )
    assert rules[0].hits == 5  # the first call and MaxAttempts (4) retries


def test_s3_server_errors_are_retried_by_the_client_then_by_the_state_machine(workflow, rekognition):
    image = fresh_image(workflow)
    # 3 failed HEADs use up the client's attempts: TransientServiceError, which the ASL retries once here.
    with inject(workflow, s3_get_error(image["key"], "InternalError", times=3)) as rules:
        name, arn, result, record = analyse(workflow, {"image": image, "analyses": ["labels"]})
    assert rules[0].hits == 3
    assert result.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
    errors = [
        json.dumps(e, default=str) for e in workflow.history(arn) if e["type"] in ("TaskFailed", "LambdaFunctionFailed")
    ]
    assert len(errors) == 1 and "TransientServiceError" in errors[0] and "S3 failed: HTTP 500" in errors[0]


def test_a_failed_cache_write_continues_without_caching(workflow, rekognition):
    image = fresh_image(workflow)
    with inject(workflow, dynamodb_error("PutItem", "ValidationException", contains='"CACHE"', times=5)) as rules:
        name, arn, result, record = analyse(workflow, {"image": image, "analyses": ["labels"]})
    assert rules[0].hits == 1, "a permanent DynamoDB error is not retried"
    assert result.status == "SUCCEEDED" and record["status"] == "SUCCEEDED"
    assert "Continue without caching" in states_entered(workflow, arn)
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat"
    (cache_key,) = planned_cache_keys(workflow, arn)
    assert cache_items(workflow, cache_key) is None


def test_when_recording_the_failure_fails_too_the_execution_says_so(workflow, rekognition):
    """The one path without a record: the history and the failed-executions alarm keep the original error."""
    key = f"{unique('gone')}.png"
    with inject(workflow, dynamodb_error("PutItem", "AccessDeniedException", contains='"FAILED"', times=5)) as rules:
        name, arn = start_raw(
            workflow, {"image": {"bucket": workflow.config.images_bucket, "key": key}, "analyses": ["labels"]}
        )
        result = workflow.wait(arn, timeout_s=120)
    assert rules[0].hits == 1
    assert result.status == "FAILED" and result.error == "FailureNotRecorded"
    assert "object does not exist" in result.cause
    assert states_entered(workflow, arn)[-2:] == ["Record failure", "Analysis failed (not recorded)"]
    assert workflow.get_record(name) is None


def test_an_expired_cache_entry_is_not_served(workflow, rekognition):
    """DynamoDB's TTL sweep may lag by days: "Cached result fresh?" compares expiresAt itself."""
    image = fresh_image(workflow)
    name, arn, result, record = analyse(workflow, {"image": image, "analyses": ["labels"]})
    assert result.succeeded
    (cache_key,) = planned_cache_keys(workflow, arn)
    assert int(cache_items(workflow, cache_key)["expiresAt"]["N"]) > time.time()
    # Served while fresh...
    calls = rekognition.count("DetectLabels")
    _, arn, result, record = analyse(workflow, {"image": image, "analyses": ["labels"]})
    assert record["cachedAnalyses"] == ["labels"] and rekognition.count("DetectLabels") == calls
    # ...not once expired (still in the table, as it is until the sweep).
    workflow.dynamodb.update_item(
        TableName=workflow.table_name,
        Key={"pk": {"S": cache_key}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 60)}},
    )
    _, arn, result, record = analyse(workflow, {"image": image, "analyses": ["labels"]})
    assert result.succeeded and record["cachedAnalyses"] == []
    assert rekognition.count("DetectLabels") == calls + 1
    entered = states_entered(workflow, arn)
    assert "Cached result fresh?" in entered and "Use cached result" not in entered and "Detect labels" in entered
    # The fresh answer replaced the expired entry.
    assert int(cache_items(workflow, cache_key)["expiresAt"]["N"]) > time.time()


def test_an_answer_with_image_properties_only_is_not_mistaken_for_a_broken_one(workflow, rekognition):
    """Asked only for IMAGE_PROPERTIES, DetectLabels answers no Labels: that is a whole answer."""
    rekognition.responses["DetectLabels"] = {
        "ImageProperties": {"Quality": {"Brightness": 61.2, "Sharpness": 70.1, "Contrast": 55.0}, "DominantColors": []},
        "LabelModelVersion": "3.0",
    }
    request = {
        "image": fresh_image(workflow),
        "analyses": ["labels"],
        "options": {"labels": {"features": ["IMAGE_PROPERTIES"]}},
    }
    name, arn, result, record = analyse(workflow, request)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert record["results"]["labels"]["count"] == 0 and rekognition.count("DetectLabels") == 1
