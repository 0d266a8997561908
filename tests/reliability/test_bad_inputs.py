"""Bad input that reaches the state machine: every case ends FAILED with a specific error and a FAILED record.

Inputs are sent as a direct StartExecution caller may send them (not only request objects), each
case names the error and the words of its cause it must carry; ``assert_failed_with_record`` checks
the execution, the record (same error, a bounded cause without stack traces) and the final state.
"""

from __future__ import annotations

import json

import pytest

from reliability.conftest import assert_failed_with_record, fresh_image, start_raw, unique
from support.images import GIF_BYTES, TEXT_BYTES, image_bytes

REQUEST_ERROR = "RequestValidationError"
IMAGE_ERROR = "ImageValidationError"


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


# (case id, a change to a valid {"image", "analyses": ["labels"]} request, error, words of the cause)
REQUEST_CASES = [
    ("missing-image", lambda r: r.pop("image"), "request: 'image' is a required property"),
    ("missing-analyses", lambda r: r.pop("analyses"), "request: 'analyses' is a required property"),
    ("empty-analyses", lambda r: r.update(analyses=[]), "analyses: [] should be non-empty"),
    ("duplicate-analyses", lambda r: r.update(analyses=["labels", "labels"]), "has non-unique elements"),
    ("unknown-analysis", lambda r: r.update(analyses=["celebrities"]), "analyses[0]: 'celebrities' is not one of"),
    (
        "too-many-analyses",
        lambda r: r.update(analyses=["labels", "faces", "text", "compare", "moderation", "custom", "labels"]),
        "analyses: 7 items; at most 6 allowed",
    ),
    ("unknown-field", lambda r: r.update(colour="red"), "request: unknown field(s) colour"),
    ("image-not-object", lambda r: r.update(image="s3://bucket/key.png"), "image: expected object, got str"),
    ("bucket-pattern", lambda r: r["image"].update(bucket="My_Bucket"), "image.bucket: 'My_Bucket' does not match"),
    ("key-empty", lambda r: r["image"].update(key=""), "image.key: 0 characters; at least 1 allowed"),
    ("key-too-long", lambda r: r["image"].update(key="k" * 1025), "image.key: 1,025 characters; at most 1024 allowed"),
    ("version-empty", lambda r: r["image"].update(versionId=""), "image.versionId: 0 characters; at least 1 allowed"),
    ("options-not-object", lambda r: r.update(options=[]), "options: expected object, got list"),
    (
        "options-unknown-analysis-field",
        lambda r: r.update(options={"labels": {"maxLabel": 5}}),
        "options.labels: unknown field(s) maxLabel",
    ),
    (
        "confidence-string",
        lambda r: r.update(options={"labels": {"minConfidence": "high"}}),
        "options.labels.minConfidence: expected number, got str 'high'",
    ),
    (
        "confidence-above",
        lambda r: r.update(options={"labels": {"minConfidence": 120}}),
        "options.labels.minConfidence: 120 is greater than the maximum of 100",
    ),
    (
        "confidence-below",
        lambda r: r.update(options={"labels": {"minConfidence": -1}}),
        "options.labels.minConfidence: -1 is less than the minimum of 0",
    ),
    (
        "max-labels-zero",
        lambda r: r.update(options={"labels": {"maxLabels": 0}}),
        "options.labels.maxLabels: 0 is less than the minimum of 1",
    ),
    (
        "max-labels-fraction",
        lambda r: r.update(options={"labels": {"maxLabels": 1.5}}),
        "options.labels.maxLabels: expected integer, got float 1.5",
    ),
    (
        "features-empty",
        lambda r: r.update(options={"labels": {"features": []}}),
        "options.labels.features: [] should be non-empty",
    ),
    (
        "features-unknown",
        lambda r: r.update(options={"labels": {"features": ["CELEBRITIES"]}}),
        "options.labels.features[0]: 'CELEBRITIES' is not one of",
    ),
    (
        "face-attribute-unknown",
        lambda r: r.update(analyses=["faces"], options={"faces": {"attributes": ["AGE"]}}),
        "options.faces.attributes[0]: 'AGE' is not one of",
    ),
    (
        "text-box-height",
        lambda r: r.update(analyses=["text"], options={"text": {"wordFilter": {"minBoundingBoxHeight": 2}}}),
        "options.text.wordFilter.minBoundingBoxHeight: 2 is greater than the maximum of 1",
    ),
    (
        "compare-no-target",
        lambda r: r.update(analyses=["compare"]),
        "options.compare.targetImage is required when analyses includes 'compare'",
    ),
    (
        "compare-quality-filter",
        lambda r: r.update(
            analyses=["compare"], options={"compare": {"targetImage": r["image"], "qualityFilter": "BEST"}}
        ),
        "options.compare.qualityFilter: 'BEST' is not one of",
    ),
    ("use-cache-string", lambda r: r.update(useCache="yes"), "useCache: expected boolean, got str 'yes'"),
    ("request-id-spaces", lambda r: r.update(requestId="has spaces"), "requestId: 'has spaces' does not match"),
    ("request-id-100kb", lambda r: r.update(requestId="x" * 100_000), "(100,000 characters) does not match"),
    ("batch-id-too-long", lambda r: r.update(batchId="b" * 48), "batchId: " + repr("b" * 48)),
    (
        "custom-arn",
        lambda r: r.update(analyses=["custom"], options={"custom": {"projectVersionArn": "not-an-arn"}}),
        "options.custom.projectVersionArn: 'not-an-arn' does not match",
    ),
    ("custom-no-model", lambda r: r.update(analyses=["custom"]), "options.custom needs projectVersionArn"),
    (
        "options-for-other-analysis",
        lambda r: r.update(options={"faces": {"minConfidence": 50}}),
        "options.faces is given but 'faces' is not in analyses",
    ),
]


@pytest.mark.parametrize("change,cause_part", [c[1:] for c in REQUEST_CASES], ids=[c[0] for c in REQUEST_CASES])
def test_invalid_request_ends_with_a_record_naming_the_field(workflow, rekognition, change, cause_part):
    request = {"image": fresh_image(workflow), "analyses": ["labels"]}
    change(request)
    name, arn = start_raw(workflow, request)
    assert_failed_with_record(workflow, name, arn, REQUEST_ERROR, cause_part)
    assert rekognition.calls == [], "a rejected request must not reach Rekognition"


@pytest.mark.parametrize(
    "payload,cause_part",
    [
        ([], "request: expected object, got list []"),
        ("a string", "request: expected object, got str 'a string'"),
        (42, "request: expected object, got int 42"),
        (None, "request: expected object, got NoneType None"),
        (True, "request: expected object, got bool True"),
        ([{"image": {}}], "request: expected object, got list"),
    ],
    ids=["array", "string", "number", "null", "boolean", "array-of-objects"],
)
def test_input_that_is_not_an_object_ends_with_a_record(workflow, rekognition, payload, cause_part):
    name, arn = start_raw(workflow, payload)
    _, record = assert_failed_with_record(workflow, name, arn, REQUEST_ERROR, cause_part)
    assert record["request"] == payload  # kept as it came


@pytest.mark.parametrize(
    "literal,shown",
    [
        ("NaN", "nan is not a finite number"),
        ("Infinity", "inf is not a finite number"),
        ("-Infinity", "-inf is not a finite number"),
    ],
)
def test_non_finite_numbers_are_refused_by_the_schema(workflow, rekognition, literal, shown):
    """Python's JSON parser accepts NaN; NaN defeats minimum/maximum, so the schema refuses it by name."""
    image = fresh_image(workflow)
    options = f'{{"labels": {{"minConfidence": {literal}}}}}'
    raw = f'{{"image": {json.dumps(image)}, "analyses": ["labels"], "options": {options}}}'
    name, arn = start_raw(workflow, None, raw=raw)
    assert_failed_with_record(workflow, name, arn, REQUEST_ERROR, f"options.labels.minConfidence: {shown}")
    assert rekognition.calls == []


@pytest.mark.parametrize("size", [200_000, 262_000], ids=["200KB", "near-256KiB"])
def test_input_near_the_service_limit_ends_with_a_record_without_it(workflow, rekognition, size):
    """Nothing is merged into a large input: the failure replaces it, and it is recorded without the request."""
    request = {"image": fresh_image(workflow), "analyses": ["labels"], "padding": ""}
    request["padding"] = "p" * (size - len(json.dumps(request)))
    assert abs(len(json.dumps(request)) - size) < 10
    name, arn = start_raw(workflow, request)
    _, record = assert_failed_with_record(
        workflow, name, arn, "RequestTooLargeError", "a request is at most 131,072 bytes"
    )
    assert record["request"] == {"notStored": "the request was too large to keep with its failure"}


def test_a_huge_request_id_gives_a_bounded_cause(workflow, rekognition):
    request = {"requestId": "r" * 100_000, "image": fresh_image(workflow), "analyses": ["labels"]}
    name, arn = start_raw(workflow, request)
    _, record = assert_failed_with_record(workflow, name, arn, REQUEST_ERROR, "requestId: 'rrrr")
    assert len(record["cause"]) < 1_000


def _broken_images():
    png, jpeg = image_bytes(300, 200), image_bytes(300, 200, "JPEG")
    return [
        ("gif", GIF_BYTES, "not a PNG or JPEG image (GIF); Rekognition accepts PNG and JPEG"),
        ("text", TEXT_BYTES, "not a PNG or JPEG image (starts with bytes 74 68"),
        ("pdf", b"%PDF-1.7\n" + b"0" * 200, "not a PNG or JPEG image (PDF)"),
        ("empty", b"", "image is empty (0 bytes)"),
        ("too-small", image_bytes(60, 200), "image is 60x200 px; each side must be at least 80 px"),
        ("too-wide", image_bytes(10_050, 90), "image is 10050x90 px; each side must be at most 10000 px"),
        ("png-header-cut", png[:18], "image is truncated: the PNG ends at byte 18, inside its header"),
        ("png-cut", png[: len(png) // 2], "image is truncated: the PNG ends without its IEND chunk"),
        ("jpeg-cut", jpeg[: len(jpeg) // 2], "image is truncated: the JPEG ends without its end-of-image marker"),
        ("jpeg-header-cut", jpeg[:100], "image is truncated: the JPEG ends at byte 100, before its frame header"),
        (
            "png-crc",
            _flip(png, 20),
            "image is corrupt: the PNG is malformed: its header checksum (IHDR CRC) does not match",
        ),
        (
            "jpeg-marker",
            _flip(jpeg, 20),
            "image is corrupt: the JPEG is malformed: a segment marker was expected at byte 20",
        ),
    ]


@pytest.mark.parametrize("body,cause_part", [c[1:] for c in _broken_images()], ids=[c[0] for c in _broken_images()])
def test_bad_image_ends_with_a_record_saying_what_is_wrong(workflow, rekognition, body, cause_part):
    key = f"{unique('bad')}.png"
    workflow.put_bytes(body, key)
    name, arn = start_raw(
        workflow, {"image": {"bucket": workflow.config.images_bucket, "key": key}, "analyses": ["labels"]}
    )
    assert_failed_with_record(workflow, name, arn, IMAGE_ERROR, cause_part)
    assert rekognition.calls == []


def test_image_over_the_size_limit_is_refused_before_it_is_read(workflow, rekognition):
    key = f"{unique('big')}.jpg"
    workflow.put_bytes(b"\xff\xd8\xff" + b"\0" * (15 * 1024 * 1024), key)
    name, arn = start_raw(
        workflow, {"image": {"bucket": workflow.config.images_bucket, "key": key}, "analyses": ["labels"]}
    )
    assert_failed_with_record(
        workflow, name, arn, IMAGE_ERROR, "the limit for images read from S3 is 15,728,640 bytes (15 MiB)"
    )


@pytest.mark.parametrize(
    "reference,cause_part",
    [
        (
            lambda w: {"bucket": w.config.images_bucket, "key": "no/such/key.png"},
            "no/such/key.png: object does not exist",
        ),
        (
            lambda w: {"bucket": "no-such-bucket-here", "key": "a.png"},
            "s3://no-such-bucket-here/a.png: bucket does not exist",
        ),
        (lambda w: {**fresh_image(w), "versionId": "no-such-version"}, "version does not exist"),
    ],
    ids=["missing-object", "missing-bucket", "missing-version"],
)
def test_missing_image_ends_with_a_record(workflow, rekognition, reference, cause_part):
    name, arn = start_raw(workflow, {"image": reference(workflow), "analyses": ["labels"]})
    assert_failed_with_record(workflow, name, arn, IMAGE_ERROR, cause_part)


def test_missing_compare_target_ends_with_a_record(workflow, rekognition):
    target = {"bucket": workflow.config.images_bucket, "key": "gone/target.jpg"}
    name, arn = start_raw(
        workflow,
        {"image": fresh_image(workflow), "analyses": ["compare"], "options": {"compare": {"targetImage": target}}},
    )
    assert_failed_with_record(
        workflow,
        name,
        arn,
        IMAGE_ERROR,
        "options.compare.targetImage s3://rekoflow-local-images/gone/target.jpg: object does not exist",
    )
