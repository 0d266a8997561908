"""POST /uploads: a presigned S3 POST whose policy fixes key, content type and checksum and caps the size."""

import base64
import datetime
import hashlib
import json

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from create_upload_url.uploads import UploadRequestError, UploadSettings, build_key, create_upload, parse_body
from rekoflow.local.patches.s3_post_policy import check_post
from rekoflow_common.images import MAX_IMAGE_BYTES

SETTINGS = UploadSettings(bucket="images-bucket", prefix="uploads/", expiry_s=300)
DIGEST = base64.b64encode(hashlib.sha256(b"png bytes").digest()).decode()
CREDENTIALS = {"testing": "testing"}


@pytest.fixture()
def s3():
    with mock_aws():
        yield boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(signature_version="s3v4"),
        )


def policy_of(upload: dict) -> dict:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


def test_the_post_policy_fixes_key_type_checksum_and_caps_the_size(s3):
    upload = create_upload(s3, {"contentType": "image/png", "checksumSHA256": DIGEST, "filename": "cat.png"}, SETTINGS)
    key = upload["image"]["key"]
    assert upload["method"] == "POST" and upload["maxBytes"] == MAX_IMAGE_BYTES == 15 * 1024 * 1024
    assert key.startswith("uploads/") and key.endswith("/cat.png") and upload["fields"]["key"] == key
    assert upload["fields"]["Content-Type"] == "image/png" and upload["fields"]["x-amz-checksum-sha256"] == DIGEST
    conditions = policy_of(upload)["conditions"]
    assert ["content-length-range", 1, MAX_IMAGE_BYTES] in conditions
    assert {"Content-Type": "image/png"} in conditions and {"x-amz-checksum-sha256": DIGEST} in conditions
    assert {"key": key} in conditions and {"bucket": "images-bucket"} in conditions


def test_every_upload_gets_its_own_key(s3):
    keys = {
        create_upload(s3, {"contentType": "image/jpeg", "checksumSHA256": DIGEST}, SETTINGS)["image"]["key"]
        for _ in range(5)
    }
    assert len(keys) == 5 and all(k.endswith("/image.jpg") for k in keys)


@pytest.mark.parametrize(
    "request_body, message",
    [
        (
            {"contentType": "image/gif", "checksumSHA256": DIGEST},
            "contentType must be one of image/jpeg, image/png, got 'image/gif'",
        ),
        (
            {"contentType": "image/png", "checksumSHA256": DIGEST, "filename": "../../etc/passwd.png"},
            "filename must be 1-128 characters",
        ),
        (
            {"contentType": "image/png", "checksumSHA256": DIGEST, "filename": "a/b.png"},
            "filename must be 1-128 characters",
        ),
        (
            {"contentType": "image/png", "checksumSHA256": DIGEST, "filename": "cat.jpg"},
            "filename extension must match contentType image/png",
        ),
        ({"contentType": "image/jpeg"}, "checksumSHA256 is required"),
        ({"contentType": "image/jpeg", "checksumSHA256": "not base64!"}, "not valid base64"),
        ({"contentType": "image/jpeg", "checksumSHA256": base64.b64encode(b"short").decode()}, "decodes to 5 bytes"),
    ],
)
def test_bad_requests_name_the_field(s3, request_body, message):
    with pytest.raises(UploadRequestError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        create_upload(s3, request_body, SETTINGS)


@pytest.mark.parametrize(
    "body, message", [("not json", "body is not valid JSON"), ("[1, 2]", "body must be a JSON object")]
)
def test_the_body_must_be_a_json_object(body, message):
    with pytest.raises(UploadRequestError, match=message):
        parse_body(body)


def test_a_key_never_leaves_the_uploads_prefix():
    content_type, key = build_key(
        {"contentType": "image/png", "filename": "x.png"}, UploadSettings(bucket="b", prefix="in")
    )
    assert content_type == "image/png" and key.startswith("in/") and key.count("/") == 2


# ----- what the policy enforces, as the local S3 checks it (and S3 does) ---------------------------------
def form(upload: dict) -> dict:
    return {**upload["fields"]}


def test_the_local_s3_stores_an_upload_that_meets_the_policy(s3):
    upload = create_upload(s3, {"contentType": "image/png", "checksumSHA256": DIGEST}, SETTINGS)
    assert check_post(form(upload), "images-bucket", 9, CREDENTIALS) is None


def test_an_upload_over_the_size_limit_is_refused_as_too_large(s3):
    upload = create_upload(s3, {"contentType": "image/png", "checksumSHA256": DIGEST}, SETTINGS)
    status, _, body = check_post(form(upload), "images-bucket", MAX_IMAGE_BYTES + 1, CREDENTIALS)
    assert (
        status == 400
        and "<Code>EntityTooLarge</Code>" in body
        and f"<MaxSizeAllowed>{MAX_IMAGE_BYTES}</MaxSizeAllowed>" in body
    )


def test_another_content_type_or_key_or_bucket_is_refused(s3):
    upload = create_upload(s3, {"contentType": "image/png", "checksumSHA256": DIGEST}, SETTINGS)
    status, _, body = check_post({**form(upload), "Content-Type": "text/html"}, "images-bucket", 9, CREDENTIALS)
    assert status == 403 and 'Policy Condition failed: ["eq", "$Content-Type", "image/png"]' in body
    status, _, body = check_post({**form(upload), "key": "elsewhere/x.png"}, "images-bucket", 9, CREDENTIALS)
    assert status == 403 and '"$key"' in body
    status, _, body = check_post(form(upload), "other-bucket", 9, CREDENTIALS)
    assert status == 403 and '"$bucket"' in body


def test_a_tampered_policy_or_an_extra_field_or_an_expired_one_is_refused(s3):
    upload = create_upload(s3, {"contentType": "image/png", "checksumSHA256": DIGEST}, SETTINGS)
    policy = policy_of(upload)
    policy["conditions"] = [
        c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    tampered = {**form(upload), "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    status, _, body = check_post(tampered, "images-bucket", 9, CREDENTIALS)
    assert status == 403 and "SignatureDoesNotMatch" in body
    status, _, body = check_post({**form(upload), "x-amz-meta-owner": "me"}, "images-bucket", 9, CREDENTIALS)
    assert status == 403 and "Extra input fields: x-amz-meta-owner" in body
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=SETTINGS.expiry_s + 60)
    status, _, body = check_post(form(upload), "images-bucket", 9, CREDENTIALS, now=later)
    assert status == 403 and "Policy expired" in body
    status, _, body = check_post(form(upload), "images-bucket", 9, {"someone-else": "secret"})
    assert status == 403 and "InvalidAccessKeyId" in body
