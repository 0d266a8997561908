"""The REST API as terraform/api declares it, executed by the local stack: IAM auth, validation, routes, uploads."""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest
from botocore.credentials import Credentials

from rekoflow.api_client import ApiClient, post_form
from rekoflow_common.images import MAX_IMAGE_BYTES
from support.images import image_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def api(workflow):
    return ApiClient(workflow.status["apiUrl"], region="us-east-1", credentials=Credentials("testing", "testing"))


def signed_with(workflow, secret: str = "testing", key: str = "testing") -> ApiClient:
    return ApiClient(workflow.status["apiUrl"], region="us-east-1", credentials=Credentials(key, secret))


def fresh_image(workflow, name: str, width: int = 210) -> dict:
    return workflow.put_bytes(image_bytes(width, 170, color=(width % 256, 30, 99)), f"api/{name}.png")


def test_an_unsigned_request_is_refused_as_api_gateway_refuses_it(workflow, api):
    answer = api.request(
        "POST", "/analyses", {"image": fresh_image(workflow, "u"), "analyses": ["labels"]}, signed=False
    )
    assert answer.status == 403 and answer.body == {"message": "Missing Authentication Token"}
    assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    "key, secret, message",
    [
        ("testing", "wrong-secret", "The request signature we calculated does not match the signature you provided"),
        ("AKIAUNKNOWN", "testing", "The security token included in the request is invalid."),
    ],
)
def test_a_bad_signature_or_unknown_key_is_refused(workflow, key, secret, message):
    answer = signed_with(workflow, secret, key).get_analysis("anything")
    assert answer.status == 403 and message in answer.body["message"]


def test_a_signature_from_long_ago_has_expired_and_a_tampered_body_does_not_match():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    from rekoflow.local.apigateway import sigv4

    url = "http://127.0.0.1:4599/restapis/x/v1/_user_request_/analyses"
    request = AWSRequest(method="POST", url=url, data=b'{"a": 1}', headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("testing", "testing"), "execute-api", "us-east-1").add_auth(request)
    headers = dict(request.headers)
    keys = {"testing": "testing"}
    assert isinstance(sigv4.verify("POST", url, headers, b'{"a": 1}', keys, "us-east-1"), sigv4.Caller)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=20)
    expired = sigv4.verify("POST", url, headers, b'{"a": 1}', keys, "us-east-1", now=later)
    assert isinstance(expired, sigv4.AuthFailure) and expired.message.startswith("Signature expired:")
    tampered = sigv4.verify("POST", url, headers, b'{"a": 2}', keys, "us-east-1")
    assert isinstance(tampered, sigv4.AuthFailure) and tampered.response_type == "INVALID_SIGNATURE"
    elsewhere = sigv4.verify("POST", url, headers, b'{"a": 1}', keys, "eu-west-1")
    assert isinstance(elsewhere, sigv4.AuthFailure) and "valid region" in elsewhere.message


def test_a_signed_request_starts_an_analysis_and_its_status_url_gives_the_record(workflow, api):
    image = fresh_image(workflow, "ok")
    started = api.start_analysis({"requestId": "api-ok-1", "image": image, "analyses": ["labels", "faces"]})
    assert started.status == 202, started.body
    assert started.body["requestId"] == "api-ok-1" and started.body["executionArn"].endswith(":api-ok-1")
    assert started.body["statusUrl"] == f"{workflow.status['apiUrl']}/analyses/api-ok-1"
    record = api.wait("api-ok-1", interval_s=0.2)
    assert record["status"] == "SUCCEEDED" and record["analyses"] == ["labels", "faces"]
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat" and record["image"]["key"] == image["key"]
    stored = workflow.get_record("api-ok-1")
    assert record["results"] == stored["results"] and record["executionArn"] == stored["executionArn"]
    # What it cost: labels (DetectLabels with its image properties) and faces, none from the cache.
    assert record["billing"]["billableCallCount"] == 3 and record["billing"]["estimatedCostUSD"] > 0
    assert record["billing"] == stored["billing"]


def test_without_a_request_id_api_gateways_request_id_names_the_execution(workflow, api):
    started = api.start_analysis({"image": fresh_image(workflow, "noid"), "analyses": ["text"]})
    assert started.status == 202
    request_id = started.body["requestId"]
    assert len(request_id) == 36 and api.wait(request_id, interval_s=0.2)["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"analyses": ["labels"]}, 'object has missing required properties (["image"])'),
        (
            {"image": {"bucket": "b", "key": "k"}, "analyses": ["colours"]},
            'instance value ("colours") not found in enum',
        ),
        (
            {"image": {"bucket": "b", "key": "k"}, "analyses": ["labels"], "extra": 1},
            'properties which are not allowed by the schema: ["extra"]',
        ),
        (
            {"image": {"bucket": "b", "key": "k"}, "analyses": "labels"},
            "instance type (string) does not match any allowed primitive type",
        ),
        (
            '{"image": {"bucket": "b", "key": "k"}, "analyses": ["labels"], '
            '"options": {"labels": {"minConfidence": NaN}}}',
            "Invalid JSON",
        ),
        ("not json at all", "Invalid JSON"),
    ],
)
def test_the_request_validator_answers_400_naming_the_problem(api, body, problem):
    answer = api.start_analysis(body) if isinstance(body, dict) else api.request("POST", "/analyses", body)
    assert answer.status == 400 and answer.body["message"] == "Invalid request body"
    assert problem in answer.body["validationErrors"]


def test_the_same_request_id_again_is_a_409(workflow, api):
    image = fresh_image(workflow, "dup")
    assert api.start_analysis({"requestId": "api-dup-1", "image": image, "analyses": ["labels"]}).status == 202
    api.wait("api-dup-1", interval_s=0.2)
    again = api.start_analysis({"requestId": "api-dup-1", "image": image, "analyses": ["labels", "text"]})
    assert again.status == 409 and again.body["error"] == "ExecutionAlreadyExists"
    assert "api-dup-1" in again.body["message"]


def test_an_unknown_analysis_is_404_and_an_unknown_route_403(api):
    missing = api.get_analysis("no-such-request")
    assert missing.status == 404 and missing.body == {
        "error": "NotFound",
        "message": "no analysis with requestId no-such-request",
    }
    assert api.request("GET", "/nothing-here").status == 403


def _checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_an_upload_through_the_api_and_the_presigned_post_then_an_analysis(workflow, api, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes(230, 180, color=(5, 200, 60)))
    image = api.upload(photo)
    assert (
        image["bucket"] == workflow.images_bucket
        and image["key"].startswith("uploads/")
        and image["key"].endswith("/photo.png")
    )
    head = workflow.s3.head_object(Bucket=image["bucket"], Key=image["key"], ChecksumMode="ENABLED")
    assert head["ContentType"] == "image/png" and head["ChecksumSHA256"] == _checksum(photo.read_bytes())
    started = api.start_analysis({"image": image, "analyses": ["labels"]})
    assert api.wait(started.body["requestId"], interval_s=0.2)["status"] == "SUCCEEDED"


def test_the_presigned_post_caps_the_size_and_fixes_the_type_and_checksum(api):
    data = image_bytes(200, 160)
    form = api.create_upload("image/png", _checksum(data), "x.png").body
    assert form["maxBytes"] == MAX_IMAGE_BYTES
    too_big = post_form(form["url"], form["fields"], "x.png", data + b"\0" * MAX_IMAGE_BYTES, "image/png")
    assert too_big.status == 400 and "EntityTooLarge" in str(too_big.body)
    other_type = post_form(form["url"], {**form["fields"], "Content-Type": "text/html"}, "x.png", data, "text/html")
    assert other_type.status == 403 and "Policy Condition failed" in str(other_type.body)
    other_bytes = post_form(form["url"], form["fields"], "x.png", data + b"changed", "image/png")
    assert other_bytes.status == 400 and "BadDigest" in str(other_bytes.body)
    assert post_form(form["url"], form["fields"], "x.png", data, "image/png").status == 204


def test_post_uploads_names_a_bad_field(api):
    answer = api.create_upload("image/gif", _checksum(b"x"))
    assert (
        answer.status == 400
        and answer.body["error"] == "UploadRequestError"
        and "contentType" in answer.body["message"]
    )
