"""The request schema: one file, draft-04 (API Gateway models), strict, with messages naming the field."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from rekoflow_common.errors import RequestValidationError
from rekoflow_common.schema import request_schema, validate_request_schema, validation_errors

IMAGE = {"bucket": "my-images", "key": "photos/cat.jpg"}
SCHEMA_FILE = Path(__file__).parents[2] / "functions/rekoflow_common/schemas/analysis_request.schema.json"


def test_schema_file_is_valid_draft4_and_is_the_one_loaded():
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft4Validator.check_schema(schema)
    assert request_schema() == schema


@pytest.mark.parametrize(
    "request_",
    [
        {"image": IMAGE, "analyses": ["labels"]},
        {
            "image": {**IMAGE, "versionId": "3HL4kqtJlcpXroDTDmJ"},
            "analyses": ["labels", "faces", "text", "moderation"],
            "requestId": "abc-123",
        },
        {
            "image": IMAGE,
            "analyses": ["labels", "compare"],
            "options": {
                "labels": {
                    "minConfidence": 75,
                    "maxLabels": 10,
                    "features": ["GENERAL_LABELS"],
                    "inclusionFilters": ["Cat"],
                    "categoryExclusionFilters": ["Text"],
                },
                "compare": {"targetImage": {"bucket": "other-bucket", "key": "b.png"}, "similarityThreshold": 90},
            },
            "useCache": False,
        },
        {
            "image": IMAGE,
            "analyses": ["faces", "text"],
            "options": {"faces": {"attributes": ["ALL"]}, "text": {"wordFilter": {"minConfidence": 90}}},
        },
        {
            "image": IMAGE,
            "analyses": ["custom"],
            "options": {
                "custom": {
                    "projectVersionArn": "arn:aws:rekognition:us-east-1:123456789012:"
                    "project/cats/version/cats.v1/1700000000000"
                }
            },
        },
    ],
)
def test_valid_requests_pass(request_):
    assert validation_errors(request_) == []


@pytest.mark.parametrize(
    "request_,expected",
    [
        ({"analyses": ["labels"]}, "request: 'image' is a required property"),
        ({"image": IMAGE, "analyses": []}, "analyses: [] should be non-empty"),
        ({"image": IMAGE, "analyses": ["labels", "labels"]}, "analyses: ['labels', 'labels'] has non-unique elements"),
        ({"image": IMAGE, "analyses": ["celebrities"]}, "analyses[0]: 'celebrities' is not one of: labels, faces"),
        ({"image": IMAGE, "analyses": ["labels"], "colour": "red"}, "request: unknown field(s) colour"),
        ({"image": {**IMAGE, "region": "x"}, "analyses": ["labels"]}, "image: unknown field(s) region"),
        (
            {"image": {"bucket": "My_Bucket", "key": "a"}, "analyses": ["labels"]},
            "image.bucket: 'My_Bucket' does not match",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"minConfidence": "high"}}},
            "options.labels.minConfidence: expected number, got str 'high'",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"minConfidence": 120}}},
            "options.labels.minConfidence: 120 is greater than the maximum of 100",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"maxLabel": 5}}},
            "options.labels: unknown field(s) maxLabel",
        ),
        (
            {"image": IMAGE, "analyses": ["faces"], "options": {"faces": {"attributes": ["AGE"]}}},
            "options.faces.attributes[0]: 'AGE' is not one of",
        ),
        ({"image": IMAGE, "analyses": ["labels"], "requestId": "has spaces"}, "requestId: 'has spaces' does not match"),
        (
            {"image": IMAGE, "analyses": ["compare"], "options": {"compare": {}}},
            "options.compare: 'targetImage' is a required property",
        ),
        (
            {"image": IMAGE, "analyses": ["custom"], "options": {"custom": {"projectVersionArn": "not-an-arn"}}},
            "options.custom.projectVersionArn",
        ),
        ("not an object", "request: expected object"),
    ],
)
def test_invalid_requests_name_the_field(request_, expected):
    problems = validation_errors(request_)
    assert any(expected in p for p in problems), problems
    with pytest.raises(RequestValidationError, match="invalid request"):
        validate_request_schema(request_)


def test_many_problems_are_summarised():
    with pytest.raises(RequestValidationError) as error:
        validate_request_schema({"a": 1, "b": 2, "image": 3, "analyses": 4, "options": 5})
    assert "more)" in str(error.value)


def test_one_list_of_analyses():
    """The schema's enum is the list of analysis types; everything that branches on the type follows it:
    the option defaults, the options the schema accepts, the cost table, the state machine's Choice and
    the CLI."""
    from rekoflow.asl import template_path
    from rekoflow.commands.analyze import ANALYSES
    from rekoflow_common.options import DEFAULT_OPTIONS
    from rekoflow_common.pricing import CALLS_BY_ANALYSIS

    schema = request_schema()
    analyses = schema["properties"]["analyses"]["items"]["enum"]
    assert set(DEFAULT_OPTIONS) == set(analyses)
    assert set(schema["properties"]["options"]["properties"]) == set(analyses)
    assert set(CALLS_BY_ANALYSIS) == set(analyses)
    assert list(ANALYSES) == analyses

    def choices(states):
        for state in states.values():
            if state.get("Type") == "Choice" and any(c.get("Variable") == "$.type" for c in state["Choices"]):
                yield state
            for branch in (
                state.get("Branches", [])
                + ([state["ItemProcessor"]] if "ItemProcessor" in state else [])
                + ([state["Iterator"]] if "Iterator" in state else [])
            ):
                yield from choices(branch["States"])

    (which,) = list(choices(json.loads(template_path("image_analysis").read_text())["States"]))
    assert [c["StringEquals"] for c in which["Choices"]] == analyses
