"""Error paths answer with Rekognition's error codes, so boto3 raises its modelled exceptions."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import boto3
import numpy as np
import pytest

from .conftest import REGION, png_bytes


def _raw_post(url: str, target: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_unknown_operation(engine_server):
    status, body = _raw_post(engine_server.url, "RekognitionService.DetectUnicorns", b"{}")
    assert status == 400 and body["__type"] == "UnknownOperationException"


def test_malformed_json(engine_server):
    status, body = _raw_post(engine_server.url, "RekognitionService.DetectFaces", b"{not json")
    assert status == 400 and body["__type"] == "SerializationException"


def test_not_png_or_jpeg(rekognition):
    gif = b"GIF89a" + b"\x00" * 200
    with pytest.raises(rekognition.exceptions.InvalidImageFormatException):
        rekognition.detect_labels(Image={"Bytes": gif})


def test_corrupt_jpeg(rekognition):
    with pytest.raises(rekognition.exceptions.InvalidImageFormatException):
        rekognition.detect_text(Image={"Bytes": b"\xff\xd8\xff\xe0" + b"garbage" * 50})


def test_image_smaller_than_80px(rekognition):
    tiny = png_bytes(np.full((60, 200, 3), 128, dtype=np.uint8))
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.detect_faces(Image={"Bytes": tiny})


def test_bytes_over_5_mb(unvalidated_rekognition):
    # botocore refuses this client-side; a client with validation off reaches the server's own check.
    big = b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024)
    with pytest.raises(unvalidated_rekognition.exceptions.ImageTooLargeException):
        unvalidated_rekognition.detect_labels(Image={"Bytes": big})


def test_out_of_range_parameter(unvalidated_rekognition, photos):
    with pytest.raises(unvalidated_rekognition.exceptions.InvalidParameterException) as info:
        unvalidated_rekognition.detect_labels(Image={"Bytes": photos["chelsea"]}, MinConfidence=150)
    assert "MinConfidence" in str(info.value)


def test_missing_image(engine_server):
    status, body = _raw_post(engine_server.url, "RekognitionService.DetectFaces", b"{}")
    assert status == 400 and body["__type"] == "InvalidParameterException"


def test_invalid_base64(engine_server):
    status, body = _raw_post(engine_server.url, "RekognitionService.DetectFaces", b'{"Image": {"Bytes": "@@@"}}')
    assert status == 400 and body["__type"] in {"SerializationException", "InvalidParameterException"}


@pytest.mark.engine
def test_compare_faces_without_a_source_face(rekognition, photos):
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.compare_faces(SourceImage={"Bytes": photos["chelsea"]}, TargetImage={"Bytes": photos["astronaut"]})


@pytest.fixture
def mocked_s3():
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="photos")
        yield s3


def test_missing_s3_object(rekognition, mocked_s3):
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
        rekognition.detect_labels(Image={"S3Object": {"Bucket": "photos", "Name": "nope.jpg"}})
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
        rekognition.detect_labels(Image={"S3Object": {"Bucket": "no-such-bucket", "Name": "a.jpg"}})


def test_s3_object_over_15_mb(rekognition, mocked_s3):
    mocked_s3.put_object(Bucket="photos", Key="huge.jpg", Body=b"\xff\xd8\xff" + b"\x00" * (15 * 1024 * 1024))
    with pytest.raises(rekognition.exceptions.ImageTooLargeException):
        rekognition.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "huge.jpg"}})


@pytest.mark.engine
def test_s3_object_is_analysed(rekognition, mocked_s3, photos):
    mocked_s3.put_object(Bucket="photos", Key="astronaut.png", Body=photos["astronaut"])
    response = rekognition.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "astronaut.png"}})
    assert len(response["FaceDetails"]) == 1


def test_bytes_travel_as_base64(engine_server):
    # The wire format is base64 text inside JSON; a raw client gets the same answer as boto3.
    body = json.dumps({"Image": {"Bytes": base64.b64encode(b"GIF89a" + b"\x00" * 100).decode()}}).encode()
    status, answer = _raw_post(engine_server.url, "RekognitionService.DetectText", body)
    assert status == 400 and answer == {"__type": "InvalidImageFormatException", "message": answer["message"]}
