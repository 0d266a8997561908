"""The analysis Lambdas' logic: the Rekognition request each makes, the summary, the stored result, errors."""

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from compare_faces.compare import compare_faces
from detect_faces.faces import detect_faces
from detect_labels.labels import detect_labels
from detect_moderation_labels.moderation import detect_moderation_labels
from detect_text.text import detect_text
from rekoflow_common.config import ResultsLocation
from rekoflow_common.errors import RekognitionRequestError, RekognitionThrottlingError, RekognitionTransientError
from rekoflow_common.options import with_defaults
from support.fake_rekognition import CANNED

RESULTS = ResultsLocation(bucket="results-bucket", prefix="results/")
IMAGE = {"bucket": "images", "key": "cat.jpg", "versionId": "v1"}
S3_IMAGE = {"S3Object": {"Bucket": "images", "Name": "cat.jpg", "Version": "v1"}}


@pytest.fixture()
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=RESULTS.bucket)
        yield client


@pytest.fixture()
def rekognition():
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def item(analysis, options=None, **extra):
    return {
        "type": analysis,
        "requestId": "req-9",
        "image": IMAGE,
        "options": with_defaults(analysis, options),
        **extra,
    }


def stored(s3, key):
    return json.loads(s3.get_object(Bucket=RESULTS.bucket, Key=key)["Body"].read())


def test_labels_request_summary_and_stored_response(s3, rekognition):
    client, stubber = rekognition
    stubber.add_response(
        "detect_labels",
        CANNED["DetectLabels"],
        {
            "Image": S3_IMAGE,
            "MaxLabels": 10,
            "MinConfidence": 70,
            "Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"],
            "Settings": {
                "GeneralLabels": {"LabelExclusionFilters": ["Animal"]},
                "ImageProperties": {"MaxDominantColors": 5},
            },
        },
    )
    out = detect_labels(
        client, s3, RESULTS, item("labels", {"maxLabels": 10, "minConfidence": 70, "exclusionFilters": ["Animal"]})
    )
    assert out["type"] == "labels" and out["cached"] is False
    assert out["resultKey"] == "results/req-9/labels.json"
    summary = out["summary"]
    assert summary["count"] == 2
    cat = summary["labels"][0]
    assert cat["name"] == "Cat" and cat["parents"] == ["Animal", "Mammal", "Pet"]
    assert cat["instances"] == [
        {"confidence": 95.12, "boundingBox": {"Left": 0.4, "Top": 0.2, "Width": 0.25, "Height": 0.3}}
    ]
    assert summary["byParent"] == {"Animal": ["Cat"], "(top level)": ["Animal"]}
    assert summary["byCategory"] == {"Animals and Pets": ["Cat", "Animal"]}
    assert summary["imageProperties"]["dominantColors"][0] == {
        "hex": "#786450",
        "name": "dimgray",
        "simplified": "brown",
        "pixelPercent": 40.5,
    }
    assert summary["imageProperties"]["quality"]["brightness"] == 61.2
    body = stored(s3, out["resultKey"])
    assert body["response"]["LabelModelVersion"] == "3.0" and "ResponseMetadata" not in body["response"]
    assert body["summary"] == summary


def test_labels_without_image_properties_sends_no_settings(s3, rekognition):
    client, stubber = rekognition
    stubber.add_response(
        "detect_labels",
        {"Labels": []},
        {"Image": S3_IMAGE, "MaxLabels": 50, "MinConfidence": 60.0, "Features": ["GENERAL_LABELS"]},
    )
    out = detect_labels(client, s3, RESULTS, item("labels", {"features": ["GENERAL_LABELS"]}))
    assert out["summary"]["count"] == 0 and "imageProperties" not in out["summary"]


def test_faces_keeps_confident_faces_largest_first_and_omits_missing_attributes(s3, rekognition):
    client, stubber = rekognition
    small = {"BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0, "Top": 0}, "Confidence": 99.0}
    response = {"FaceDetails": [small] + CANNED["DetectFaces"]["FaceDetails"]}
    stubber.add_response("detect_faces", response, {"Image": S3_IMAGE, "Attributes": ["ALL"]})
    summary = detect_faces(client, s3, RESULTS, item("faces"))["summary"]
    assert summary["count"] == 2 and summary["belowConfidence"] == 1
    big, little = summary["faces"]
    assert big["ageRange"] == {"low": 30, "high": 40}
    assert big["gender"] == {"value": "Female", "confidence": 88.0}
    assert big["emotions"][0] == {"type": "HAPPY", "confidence": 80.0}
    assert big["smile"] == {"value": True, "confidence": 90.0}
    assert big["pose"] == {"roll": 1.0, "yaw": -2.0, "pitch": 3.0}
    assert "eyeglasses" not in big and "ageRange" not in little


def test_faces_max_faces_cuts_the_smallest(s3, rekognition):
    client, stubber = rekognition
    stubber.add_response("detect_faces", CANNED["DetectFaces"], {"Image": S3_IMAGE, "Attributes": ["DEFAULT"]})
    summary = detect_faces(
        client, s3, RESULTS, item("faces", {"attributes": ["DEFAULT"], "minConfidence": 0, "maxFaces": 1})
    )["summary"]
    assert summary["count"] == 1 and summary["faces"][0]["confidence"] == 99.9


def test_text_separates_lines_and_words_and_filters_words(s3, rekognition):
    client, stubber = rekognition
    box = lambda top, left: {"BoundingBox": {"Width": 0.1, "Height": 0.05, "Left": left, "Top": top}, "Polygon": []}  # noqa: E731
    response = {
        "TextDetections": [
            {"DetectedText": "second line", "Type": "LINE", "Id": 1, "Confidence": 95.0, "Geometry": box(0.5, 0.1)},
            {"DetectedText": "first line", "Type": "LINE", "Id": 0, "Confidence": 99.0, "Geometry": box(0.1, 0.1)},
            {
                "DetectedText": "first",
                "Type": "WORD",
                "Id": 2,
                "ParentId": 0,
                "Confidence": 99.0,
                "Geometry": box(0.1, 0.1),
            },
            {
                "DetectedText": "line",
                "Type": "WORD",
                "Id": 3,
                "ParentId": 0,
                "Confidence": 50.0,
                "Geometry": box(0.1, 0.3),
            },
        ]
    }
    stubber.add_response(
        "detect_text",
        response,
        {"Image": S3_IMAGE, "Filters": {"WordFilter": {"MinConfidence": 90, "MinBoundingBoxHeight": 0.01}}},
    )
    summary = detect_text(
        client, s3, RESULTS, item("text", {"wordFilter": {"minConfidence": 90, "minBoundingBoxHeight": 0.01}})
    )["summary"]
    assert summary["fullText"] == "first line\nsecond line"
    assert [l["text"] for l in summary["lines"]] == ["first line", "second line"]
    assert [w["text"] for w in summary["words"]] == ["first"] and summary["words"][0]["lineId"] == 0
    assert summary["count"] == 1 and summary["droppedWords"] == 1


def test_compare_reports_best_match_and_unmatched(s3, rekognition):
    client, stubber = rekognition
    target = {"bucket": "images", "key": "other.jpg"}
    stubber.add_response(
        "compare_faces",
        CANNED["CompareFaces"],
        {
            "SourceImage": S3_IMAGE,
            "TargetImage": {"S3Object": {"Bucket": "images", "Name": "other.jpg"}},
            "SimilarityThreshold": 90,
            "QualityFilter": "AUTO",
        },
    )
    summary = compare_faces(
        client, s3, RESULTS, item("compare", {"targetImage": target, "similarityThreshold": 90}, targetImage=target)
    )["summary"]
    assert summary["matched"] is True and summary["bestSimilarity"] == 98.7
    assert summary["unmatchedCount"] == 1 and summary["sourceFace"]["confidence"] == 99.0
    assert summary["target"] == target


def test_compare_without_matches(s3, rekognition):
    client, stubber = rekognition
    target = {"bucket": "images", "key": "other.jpg"}
    stubber.add_response(
        "compare_faces", {"FaceMatches": [], "UnmatchedFaces": [], "SourceImageFace": {"Confidence": 99.0}}, None
    )
    summary = compare_faces(client, s3, RESULTS, item("compare", {"targetImage": target}, targetImage=target))[
        "summary"
    ]
    assert summary["matched"] is False and summary["bestSimilarity"] is None and summary["count"] == 0


def test_moderation_flags_above_threshold(s3, rekognition):
    client, stubber = rekognition
    response = {
        "ModerationLabels": [
            {"Name": "Explicit", "ParentName": "", "Confidence": 91.0, "TaxonomyLevel": 1},
            {"Name": "Violence", "ParentName": "", "Confidence": 40.0, "TaxonomyLevel": 1},
        ],
        "ModerationModelVersion": "7.0",
    }
    stubber.add_response("detect_moderation_labels", response, {"Image": S3_IMAGE, "MinConfidence": 60.0})
    summary = detect_moderation_labels(client, s3, RESULTS, item("moderation"))["summary"]
    assert summary["flagged"] is True and summary["categories"] == ["Explicit"] and summary["count"] == 1


@pytest.mark.parametrize(
    "code,status,error",
    [
        ("ThrottlingException", 400, RekognitionThrottlingError),
        ("ProvisionedThroughputExceededException", 400, RekognitionThrottlingError),
        ("InternalServerError", 500, RekognitionTransientError),
        ("InvalidImageFormatException", 400, RekognitionRequestError),
        ("AccessDeniedException", 400, RekognitionRequestError),
    ],
)
def test_rekognition_errors_get_the_names_the_state_machine_retries_on(s3, rekognition, code, status, error):
    client, stubber = rekognition
    stubber.add_client_error("detect_labels", service_error_code=code, service_message="boom", http_status_code=status)
    with pytest.raises(error, match=f"DetectLabels failed: {code}: boom"):
        detect_labels(client, s3, RESULTS, item("labels"))
