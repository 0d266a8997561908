"""POST /uploads: presigned PUT URLs that sign the content type and the image's SHA-256 checksum."""

import base64
import hashlib
import json
import urllib.parse

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from create_upload_url.uploads import UploadSettings, handle

SETTINGS = UploadSettings(bucket="images-bucket", prefix="uploads/", expiry_s=300)
DIGEST = base64.b64encode(hashlib.sha256(b"png bytes").digest()).decode()


@pytest.fixture()
def s3():
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


def post(s3, body):
    response = handle(s3, {"body": json.dumps(body)}, SETTINGS)
    return response["statusCode"], json.loads(response["body"])


def test_the_url_signs_content_type_and_checksum(s3):
    status, body = post(s3, {"contentType": "image/png", "checksumSHA256": DIGEST, "filename": "cat.png"})
    assert status == 200
    assert body["headers"] == {"Content-Type": "image/png", "x-amz-checksum-sha256": DIGEST}
    query = urllib.parse.parse_qs(urllib.parse.urlparse(body["uploadUrl"]).query)
    assert query["X-Amz-SignedHeaders"] == ["content-type;host;x-amz-checksum-sha256"]
    assert body["image"]["key"].startswith("uploads/") and body["image"]["key"].endswith("/cat.png")


@pytest.mark.parametrize("checksum, message", [
    (None, "checksumSHA256 is required"),
    ("not base64!", "not valid base64"),
    (base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
])
def test_a_missing_or_malformed_checksum_is_a_400_naming_the_field(s3, checksum, message):
    body = {"contentType": "image/jpeg"}
    if checksum is not None:
        body["checksumSHA256"] = checksum
    status, answer = post(s3, body)
    assert status == 400 and answer["error"] == "UploadRequestError" and message in answer["message"]
