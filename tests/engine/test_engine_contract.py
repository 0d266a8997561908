"""Every operation, through boto3 against a real EngineServer, answers with botocore's output shapes."""

from __future__ import annotations

import pytest

from .engine_shapes import validate

pytestmark = pytest.mark.engine

CASES = [
    ("detect_labels", "DetectLabels", lambda p: {"Image": {"Bytes": p["coffee"]}}),
    (
        "detect_labels",
        "DetectLabels",
        lambda p: {
            "Image": {"Bytes": p["astronaut"]},
            "Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"],
            "Settings": {"ImageProperties": {"MaxDominantColors": 5}},
        },
    ),
    ("detect_labels", "DetectLabels", lambda p: {"Image": {"Bytes": p["chelsea"]}, "Features": ["IMAGE_PROPERTIES"]}),
    ("detect_faces", "DetectFaces", lambda p: {"Image": {"Bytes": p["astronaut"]}}),
    ("detect_faces", "DetectFaces", lambda p: {"Image": {"Bytes": p["grace_hopper"]}, "Attributes": ["ALL"]}),
    ("detect_faces", "DetectFaces", lambda p: {"Image": {"Bytes": p["coffee"]}, "Attributes": ["GENDER"]}),
    (
        "compare_faces",
        "CompareFaces",
        lambda p: {"SourceImage": {"Bytes": p["astronaut"]}, "TargetImage": {"Bytes": p["grace_hopper"]}},
    ),
    (
        "compare_faces",
        "CompareFaces",
        lambda p: {
            "SourceImage": {"Bytes": p["astronaut"]},
            "TargetImage": {"Bytes": p["astronaut"]},
            "QualityFilter": "HIGH",
        },
    ),
    ("detect_text", "DetectText", lambda p: {"Image": {"Bytes": p["text"]}}),
    (
        "detect_moderation_labels",
        "DetectModerationLabels",
        lambda p: {"Image": {"Bytes": p["chelsea"]}, "MinConfidence": 0},
    ),
]


@pytest.mark.parametrize(
    ("method", "operation", "make_params"), CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)]
)
def test_response_matches_botocore_output_shape(
    rekognition, raw_capture, service_model, photos, text_image, method, operation, make_params
):
    parsed = getattr(rekognition, method)(**make_params({**photos, "text": text_image}))
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 200
    output_shape = service_model.operation_model(operation).output_shape
    problems = validate(raw_capture.body, output_shape)
    assert problems == [], "\n".join(problems)


def test_validator_catches_what_it_should(service_model):
    shape = service_model.operation_model("DetectFaces").output_shape
    bad = {"FaceDetails": [{"Confidence": 120, "Gender": {"Value": "Robot"}, "Invented": 1}], "Extra": True}
    problems = "\n".join(validate(bad, shape))
    for expected in ("unknown member 'Extra'", "unknown member 'Invented'", "'Robot' not in enum", "above maximum 100"):
        assert expected in problems
