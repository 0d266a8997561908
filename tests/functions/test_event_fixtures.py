"""The functions that AWS services invoke directly, given the events those services send (tests/events/):
API Gateway's REST proxy event to create_upload_url, S3's EventBridge event to start_upload_analysis."""

from __future__ import annotations

import importlib
import json
import sys

import boto3
import pytest
from moto import mock_aws

from support.events import load_event

BUCKET = "rekoflow-images-123456789012"


class FakeContext:
    function_name = "rekoflow-create-upload-url"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rekoflow-create-upload-url"
    aws_request_id = "6f8f0a0e-0000-4000-8000-000000000001"


@pytest.fixture()
def upload_handler(monkeypatch):
    for name, value in {
        "IMAGES_BUCKET": BUCKET,
        "POWERTOOLS_METRICS_NAMESPACE": "rekoflow-tests",
        "POWERTOOLS_SERVICE_NAME": "create_upload_url",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        # The handler reads its settings and makes its client at import: import it with this environment.
        yield importlib.reload(importlib.import_module("create_upload_url.handler"))
    sys.modules.pop("create_upload_url.handler", None)  # its clients belong to this test's mock


def test_api_gateways_proxy_event_gets_a_presigned_post_for_the_uploads_prefix(upload_handler):
    answer = upload_handler.lambda_handler(load_event("apigateway_rest_post_uploads"), FakeContext())
    # A REST API (v1) proxy answer: Powertools writes multiValueHeaders.
    assert answer["statusCode"] == 200 and answer["multiValueHeaders"]["Cache-Control"] == ["no-store"]
    upload = json.loads(answer["body"])
    assert upload["fields"]["key"].startswith("uploads/") and upload["fields"]["key"].endswith("/beach.png")
    assert upload["fields"]["Content-Type"] == "image/png"
    # The logs of this invocation carry API Gateway's request id (correlation_paths.API_GATEWAY_REST).
    assert upload_handler.logger.get_correlation_id() == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_a_bad_body_in_the_proxy_event_is_a_400_that_names_the_field(upload_handler):
    event = load_event("apigateway_rest_post_uploads", body=json.dumps({"contentType": "image/gif"}))
    answer = upload_handler.lambda_handler(event, FakeContext())
    assert answer["statusCode"] == 400
    body = json.loads(answer["body"])
    assert body["error"] == "UploadRequestError" and "contentType must be one of" in body["message"]


def test_another_route_in_the_proxy_event_is_a_404_not_a_presigned_post(upload_handler):
    event = load_event("apigateway_rest_post_uploads", path="/uploads/other", resource="/uploads/other")
    assert upload_handler.lambda_handler(event, FakeContext())["statusCode"] == 404


def test_s3s_eventbridge_event_starts_one_analysis_of_that_object_version():
    from start_upload_analysis.uploads import TriggerSettings, execution_name, start_analysis

    started = []

    class RecordingStepFunctions:
        def start_execution(self, **call):
            started.append(call)
            return {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:" + call["name"]}

    event = load_event("eventbridge_s3_object_created")
    start_analysis(
        RecordingStepFunctions(),
        event,
        TriggerSettings("arn:aws:states:us-east-1:123456789012:stateMachine:m", ("labels",)),
    )
    assert len(started) == 1
    request = json.loads(started[0]["input"])
    image = {
        "bucket": BUCKET,
        "key": "incoming/holiday photos/beach sunset.jpg",
        "versionId": "IYV3p45BhZA4b0uYJLDrMQwN3xHvN9ls",
    }
    assert request["image"] == image and request["analyses"] == ["labels"]
    assert started[0]["name"] == execution_name(image) == request["requestId"]
