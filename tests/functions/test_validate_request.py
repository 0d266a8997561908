"""validate_request: schema, cross-field rules and the image itself, against moto's S3."""

import boto3
import pytest
from moto import mock_aws

from rekoflow_common.errors import ImageValidationError, RequestValidationError
from rekoflow_common.images import ImageLimits
from support.images import GIF_BYTES, TEXT_BYTES, image_bytes
from validate_request.validation import build_plan

BUCKET = "images-bucket"


@pytest.fixture()
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="ok.png", Body=image_bytes(200, 150))
        client.put_object(Bucket=BUCKET, Key="ok.jpg", Body=image_bytes(320, 240, "JPEG"))
        yield client


def _flip(data: bytes, at: int) -> bytes:
    """The bytes with one of them changed, as a damaged copy would have it."""
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def request(key="ok.png", analyses=("labels",), **extra):
    return {"image": {"bucket": BUCKET, "key": key}, "analyses": list(analyses), **extra}


def test_plan_has_one_item_per_analysis_with_defaults_and_cache_keys(s3):
    plan = build_plan(s3, request(analyses=["labels", "faces", "text"]), "req-1", ImageLimits())
    assert plan["requestId"] == "req-1"
    assert plan["batchId"] is None
    stored = s3.head_object(Bucket=BUCKET, Key="ok.png")["ContentLength"]
    assert plan["image"] == {
        "bucket": BUCKET,
        "key": "ok.png",
        "format": "PNG",
        "width": 200,
        "height": 150,
        "sizeBytes": stored,
    }
    assert stored == len(image_bytes(200, 150))
    assert [i["type"] for i in plan["analyses"]] == ["labels", "faces", "text"]
    labels = plan["analyses"][0]
    assert labels["options"]["features"] == ["GENERAL_LABELS", "IMAGE_PROPERTIES"]
    assert labels["requestId"] == "req-1" and labels["useCache"] is True
    assert len({i["cacheKey"] for i in plan["analyses"]}) == 3
    assert all(i["cacheKey"].startswith("cache#") for i in plan["analyses"])


def test_user_options_override_defaults_and_change_the_cache_key(s3):
    default = build_plan(s3, request(), "a", ImageLimits())["analyses"][0]
    tuned = build_plan(s3, request(options={"labels": {"minConfidence": 90}}), "b", ImageLimits())["analyses"][0]
    assert tuned["options"]["minConfidence"] == 90 and tuned["options"]["maxLabels"] == default["options"]["maxLabels"]
    assert tuned["cacheKey"] != default["cacheKey"]
    # Same content under another key is the same cache entry; another request id does not matter.
    s3.put_object(Bucket=BUCKET, Key="copy.png", Body=s3.get_object(Bucket=BUCKET, Key="ok.png")["Body"].read())
    copy = build_plan(s3, request("copy.png"), "c", ImageLimits())["analyses"][0]
    assert copy["cacheKey"] == default["cacheKey"]


def test_use_cache_false_is_carried_to_every_item(s3):
    plan = build_plan(s3, request(analyses=["labels", "text"], useCache=False), "r", ImageLimits())
    assert [i["useCache"] for i in plan["analyses"]] == [False, False]


def test_batch_id_is_passed_through(s3):
    assert build_plan(s3, request(batchId="nightly-1"), "r", ImageLimits())["batchId"] == "nightly-1"


def test_compare_checks_the_target_and_keys_on_it(s3):
    target = {"bucket": BUCKET, "key": "ok.jpg"}
    plan = build_plan(
        s3, request(analyses=["compare"], options={"compare": {"targetImage": target}}), "r", ImageLimits()
    )
    item = plan["analyses"][0]
    assert item["targetImage"] == target and item["options"]["similarityThreshold"] == 80.0
    with pytest.raises(
        ImageValidationError, match=r"options.compare.targetImage s3://images-bucket/nope.jpg: object does not exist"
    ):
        build_plan(
            s3,
            request(analyses=["compare"], options={"compare": {"targetImage": {"bucket": BUCKET, "key": "nope.jpg"}}}),
            "r",
            ImageLimits(),
        )


@pytest.mark.parametrize(
    "req,message",
    [
        (request(analyses=["compare"]), "options.compare.targetImage is required when analyses includes 'compare'"),
        (
            request(analyses=["labels"], options={"faces": {"minConfidence": 50}}),
            "options.faces is given but 'faces' is not in analyses",
        ),
        (request(analyses=["custom"]), "options.custom needs projectVersionArn"),
        (request(analyses=["labels"], extra_field=True), "unknown field(s) extra_field"),
    ],
)
def test_rule_violations_are_specific(s3, req, message):
    with pytest.raises(RequestValidationError) as error:
        build_plan(s3, req, "r", ImageLimits())
    assert message in str(error.value)


@pytest.mark.parametrize(
    "key,body,message",
    [
        ("missing.png", None, "image s3://images-bucket/missing.png: object does not exist"),
        ("anim.gif", GIF_BYTES, "not a PNG or JPEG image (GIF); Rekognition accepts PNG and JPEG"),
        ("notes.png", TEXT_BYTES, "not a PNG or JPEG image (starts with bytes"),
        ("empty.png", b"", "image is empty (0 bytes)"),
        ("tiny.png", image_bytes(60, 200), "image is 60x200 px; each side must be at least 80 px"),
        ("huge.png", image_bytes(10_050, 90), "image is 10050x90 px; each side must be at most 10000 px"),
        ("truncated.png", image_bytes()[:18], "image is truncated: the PNG ends at byte 18, inside its header"),
        (
            "half.png",
            image_bytes(300, 200)[:300],
            "image is truncated: the PNG ends without its IEND chunk (300 bytes)",
        ),
        (
            "half.jpg",
            image_bytes(300, 200, "JPEG")[:900],
            "image is truncated: the JPEG ends without its end-of-image marker (900 bytes)",
        ),
        (
            "head.jpg",
            image_bytes(300, 200, "JPEG")[:100],
            "image is truncated: the JPEG ends at byte 100, before its frame header",
        ),
        (
            "crc.png",
            _flip(image_bytes(), 20),
            "image is corrupt: the PNG is malformed: its header checksum (IHDR CRC) does not match",
        ),
        (
            "segments.jpg",
            _flip(image_bytes(300, 200, "JPEG"), 20),
            "image is corrupt: the JPEG is malformed: a segment marker was expected at byte",
        ),
        (
            "scan-first.jpg",
            b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 20 + b"\xff\xd9",
            "image is corrupt: the JPEG is malformed: no frame header before the image data",
        ),
    ],
)
def test_bad_images_are_rejected_with_the_reason(s3, key, body, message):
    if body is not None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    with pytest.raises(ImageValidationError) as error:
        build_plan(s3, request(key), "r", ImageLimits())
    assert message in str(error.value)


def test_missing_bucket_is_named(s3):
    with pytest.raises(ImageValidationError, match="bucket does not exist"):
        build_plan(
            s3, {"image": {"bucket": "no-such-bucket", "key": "a.png"}, "analyses": ["labels"]}, "r", ImageLimits()
        )


def test_size_limit_is_enforced_from_the_object_size_before_any_read(s3, monkeypatch):
    monkeypatch.setattr(s3, "get_object", lambda **kwargs: pytest.fail("an image over the limit must not be read"))
    with pytest.raises(ImageValidationError, match="the limit for images read from S3 is 500 bytes"):
        build_plan(s3, request("ok.jpg"), "r", ImageLimits(max_bytes=500))


@pytest.mark.parametrize("padding", [200_000, 1_500_000, 6_000_000])
def test_jpeg_with_large_metadata_before_the_frame_is_measured(s3, padding):
    """Cameras put MBs of EXIF/ICC before the frame header: read further (the header is found), within a bound."""
    body = image_bytes(640, 480, "JPEG", exif_padding=padding)
    s3.put_object(Bucket=BUCKET, Key="camera.jpg", Body=body)
    plan = build_plan(s3, request("camera.jpg"), "r", ImageLimits())
    assert (plan["image"]["width"], plan["image"]["height"]) == (640, 480)
    assert plan["image"]["sizeBytes"] == len(body) > padding


def test_header_reads_are_bounded_by_the_file_and_a_read_count():
    """The frame header is looked for in at most MAX_HEADER_READS ranged reads that never pass the file's end."""
    from rekoflow_common.images import MAX_HEADER_READS, inspect_image

    body = image_bytes(640, 480, "JPEG", exif_padding=6_000_000)
    reads = []

    def read(offset, length):
        reads.append((offset, length))
        return body[offset : offset + length]

    assert inspect_image(read, len(body)).width == 640
    assert len(reads) <= MAX_HEADER_READS
    assert all(offset + length <= len(body) for offset, length in reads)
    assert sum(length for _, length in reads) <= len(body)


def test_versioned_image_is_pinned(s3):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=BUCKET, Key="v.png", Body=image_bytes(100, 100))["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="v.png", Body=image_bytes(50, 50))  # a newer, too-small version
    plan = build_plan(
        s3,
        {"image": {"bucket": BUCKET, "key": "v.png", "versionId": version}, "analyses": ["labels"]},
        "r",
        ImageLimits(),
    )
    assert plan["image"]["versionId"] == version and plan["analyses"][0]["image"]["versionId"] == version
    with pytest.raises(ImageValidationError, match="each side must be at least 80 px"):
        build_plan(s3, request("v.png"), "r", ImageLimits())


def test_the_cache_key_is_the_s3_sha256_checksum_when_the_upload_had_one(s3):
    """HeadObject returns ChecksumSHA256 only with ChecksumMode=ENABLED; the key must then use it."""
    import base64
    import hashlib

    from validate_request.validation import check_image

    data = image_bytes(180, 140)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    s3.put_object(Bucket=BUCKET, Key="a.png", Body=data, ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=BUCKET, Key="b.png", Body=data, ChecksumAlgorithm="SHA256")
    checked = check_image(s3, {"bucket": BUCKET, "key": "a.png"}, "image", ImageLimits())
    assert checked.identity == f"sha256:{digest}"
    a = build_plan(s3, request("a.png"), "r1", ImageLimits())["analyses"][0]["cacheKey"]
    b = build_plan(s3, request("b.png"), "r2", ImageLimits())["analyses"][0]["cacheKey"]
    assert a == b
    # Without a stored checksum the key falls back to ETag and size.
    assert check_image(s3, {"bucket": BUCKET, "key": "ok.png"}, "image", ImageLimits()).identity.startswith("etag:")


# ----- what S3 answers, as the message says it ------------------------------------------------------------
from botocore.exceptions import ClientError  # noqa: E402

from rekoflow_common.errors import TransientServiceError  # noqa: E402
from validate_request.validation import _s3_error, check_rules  # noqa: E402


def s3_client_error(code: str, status: int, message: str = "msg") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )


@pytest.mark.parametrize(
    "code,status,error,message",
    [
        ("NoSuchKey", 404, ImageValidationError, "W: object does not exist"),
        ("404", 404, ImageValidationError, "W: object does not exist"),
        ("NotFound", 404, ImageValidationError, "W: object does not exist"),
        ("NoSuchBucket", 404, ImageValidationError, "W: bucket does not exist"),
        ("NoSuchVersion", 404, ImageValidationError, "W: version does not exist"),
        (
            "AccessDenied",
            403,
            ImageValidationError,
            "W: access denied: the object does not exist, or the workflow may not read it",
        ),
        ("403", 403, ImageValidationError, "W: access denied"),
        ("Forbidden", 403, ImageValidationError, "W: access denied"),
        ("InternalError", 500, TransientServiceError, "W: S3 failed: HTTP 500 InternalError"),
        ("500", 500, TransientServiceError, "W: S3 failed: HTTP 500"),
        ("SlowDown", 503, TransientServiceError, "W: S3 failed: HTTP 503 SlowDown"),
        ("SlowDown", 400, TransientServiceError, "W: S3 failed: HTTP 400 SlowDown"),
        ("InvalidObjectState", 403, ImageValidationError, "W: cannot be read: InvalidObjectState"),
    ],
)
def test_s3_errors_are_named_for_the_person_who_sent_the_request(code, status, error, message):
    translated = _s3_error(
        s3_client_error(code, status, "The version does not exist" if code == "NoSuchVersion" else "msg"), "W"
    )
    assert type(translated) is error and str(translated).startswith(message), str(translated)


def test_a_missing_version_of_an_existing_object_is_named(s3):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="versioned.png", Body=image_bytes())
    reference = {"bucket": BUCKET, "key": "versioned.png", "versionId": "nope"}
    with pytest.raises(
        ImageValidationError, match=r"^image s3://images-bucket/versioned.png \(version nope\): version does not exist$"
    ):
        build_plan(s3, {"image": reference, "analyses": ["labels"]}, "r", ImageLimits())
    gone = {"bucket": BUCKET, "key": "never.png", "versionId": "nope"}
    with pytest.raises(ImageValidationError, match=r"never.png \(version nope\): object does not exist$"):
        build_plan(s3, {"image": gone, "analyses": ["labels"]}, "r", ImageLimits())
    with pytest.raises(ImageValidationError, match=r"^image s3://no-such-bucket/a.png: bucket does not exist$"):
        build_plan(
            s3, {"image": {"bucket": "no-such-bucket", "key": "a.png"}, "analyses": ["labels"]}, "r", ImageLimits()
        )


def test_a_head_that_fails_on_the_server_is_transient(s3, monkeypatch):
    def failing(**kwargs):
        raise s3_client_error("500", 500)

    monkeypatch.setattr(s3, "head_object", failing)
    with pytest.raises(TransientServiceError, match=r"^image s3://images-bucket/ok.png: S3 failed: HTTP 500$"):
        build_plan(s3, request(), "r", ImageLimits())


@pytest.mark.parametrize(
    "options,message",
    [
        (
            {"custom": {"projectVersionArn": "arn", "training": {"projectName": "p"}}},
            "options.custom: give either projectVersionArn or training, not both",
        ),
        (
            {"custom": {"training": {"projectName": "p", "testManifest": {}, "autoSplit": True}}},
            "options.custom.training: give either testManifest or autoSplit=true, not both",
        ),
        (
            {"custom": {}},
            "options.custom needs projectVersionArn (an existing model version) or training (to train one) "
            "when analyses includes 'custom'",
        ),
    ],
)
def test_custom_label_rules(options, message):
    with pytest.raises(RequestValidationError) as error:
        check_rules({"analyses": ["custom"], "options": options})
    assert str(error.value) == message


def test_valid_custom_label_requests_pass_the_rules():
    check_rules({"analyses": ["custom"], "options": {"custom": {"projectVersionArn": "arn"}}})
    check_rules({"analyses": ["custom"], "options": {"custom": {"training": {"projectName": "p", "autoSplit": True}}}})
    check_rules({"analyses": ["custom"], "options": {"custom": {"training": {"projectName": "p", "testManifest": {}}}}})


def test_rule_messages_are_exact():
    with pytest.raises(RequestValidationError) as error:
        check_rules({"analyses": ["labels", "text"], "options": {"faces": {}}})
    assert str(error.value) == "options.faces is given but 'faces' is not in analyses (labels, text)"
    with pytest.raises(RequestValidationError) as error:
        check_rules({"analyses": ["compare"], "options": {"compare": {}}})
    assert str(error.value) == "options.compare.targetImage is required when analyses includes 'compare'"


def test_every_item_carries_the_plans_time_for_the_cache_expiry(s3, monkeypatch):
    import validate_request.validation as validation

    monkeypatch.setattr(validation.time, "time", lambda: 1_700_000_000.7)
    plan = build_plan(s3, request(analyses=["labels", "text"]), "r", ImageLimits())
    assert [i["plannedAt"] for i in plan["analyses"]] == [1_700_000_000, 1_700_000_000]


def test_compare_keys_on_the_target_and_custom_lifecycle_options_do_not(s3):
    s3.put_object(Bucket=BUCKET, Key="other.jpg", Body=image_bytes(330, 240, "JPEG", color=(9, 9, 9)))
    one = build_plan(
        s3,
        request(analyses=["compare"], options={"compare": {"targetImage": {"bucket": BUCKET, "key": "ok.jpg"}}}),
        "a",
        ImageLimits(),
    )
    two = build_plan(
        s3,
        request(analyses=["compare"], options={"compare": {"targetImage": {"bucket": BUCKET, "key": "other.jpg"}}}),
        "a",
        ImageLimits(),
    )
    assert one["analyses"][0]["cacheKey"] != two["analyses"][0]["cacheKey"]
    arn = "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1700000000000"
    quick = build_plan(
        s3,
        request(
            analyses=["custom"], options={"custom": {"projectVersionArn": arn, "maxPolls": 5, "keepRunning": True}}
        ),
        "a",
        ImageLimits(),
    )
    slow = build_plan(
        s3, request(analyses=["custom"], options={"custom": {"projectVersionArn": arn}}), "a", ImageLimits()
    )
    assert quick["analyses"][0]["cacheKey"] == slow["analyses"][0]["cacheKey"], (
        "how the model is run is not what it answers"
    )
    assert quick["analyses"][0]["useCache"] is True
    other = build_plan(
        s3,
        request(analyses=["custom"], options={"custom": {"projectVersionArn": arn, "minConfidence": 90}}),
        "a",
        ImageLimits(),
    )
    assert other["analyses"][0]["cacheKey"] != slow["analyses"][0]["cacheKey"]


def test_training_is_never_served_from_the_cache(s3):
    training = {
        "projectName": "p",
        "versionName": "v1",
        "trainingManifest": {"bucket": BUCKET, "key": "m.json"},
        "autoSplit": True,
    }
    plan = build_plan(s3, request(analyses=["custom"], options={"custom": {"training": training}}), "a", ImageLimits())
    assert plan["analyses"][0]["useCache"] is False and plan["useCache"] is True


def test_images_are_read_with_ranged_gets_only(s3, monkeypatch):
    """The header and the tail, never the whole object (a 15 MiB photo costs two small GETs)."""
    body = image_bytes(2000, 1500, "JPEG", exif_padding=300_000)
    s3.put_object(Bucket=BUCKET, Key="ranged.jpg", Body=body)
    calls = []
    get_object = s3.get_object

    def recording(**kwargs):
        calls.append(kwargs.get("Range"))
        return get_object(**kwargs)

    monkeypatch.setattr(s3, "get_object", recording)
    plan = build_plan(s3, request("ranged.jpg"), "r", ImageLimits())
    assert plan["image"]["width"] == 2000
    assert calls and all(r and r.startswith("bytes=") for r in calls)
    spans = [tuple(int(x) for x in r.removeprefix("bytes=").split("-")) for r in calls]
    assert all(0 <= start <= end < len(body) for start, end in spans)
    assert spans[-1][1] == len(body) - 1  # the tail, up to the last byte
    assert spans[0][0] == 0


def test_the_where_of_a_message_names_the_version(s3):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=BUCKET, Key="tiny.png", Body=image_bytes(50, 50))["VersionId"]
    with pytest.raises(ImageValidationError) as error:
        build_plan(
            s3,
            {"image": {"bucket": BUCKET, "key": "tiny.png", "versionId": version}, "analyses": ["labels"]},
            "r",
            ImageLimits(),
        )
    assert (
        str(error.value)
        == f"image s3://images-bucket/tiny.png (version {version}): image is 50x50 px; each side must be at least 80 px"
    )
