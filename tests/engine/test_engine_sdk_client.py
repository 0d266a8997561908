"""An application's own Rekognition wrapper, written the way applications use boto3, run unchanged
against the engine: the only engine-specific line is the client's `endpoint_url`.

Credentials and region come from the environment as they would in production; images are sent both
as bytes and as S3 objects (moto's S3, which the engine reads through its S3 client).
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

logger = logging.getLogger("photo_app")

DEMO_PHOTO = Path(__file__).resolve().parents[2] / "src" / "rekoflow" / "data" / "sample_astronaut.jpg"


# ----- the application's code: nothing in it knows about the engine --------------------------------
@dataclass
class Photo:
    """One image for Rekognition: its bytes or its place in S3, and a name for the logs."""

    name: str
    image: dict

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Photo:
        return cls(name, {"Bytes": data})

    @classmethod
    def from_s3(cls, bucket: str, key: str) -> Photo:
        return cls(f"s3://{bucket}/{key}", {"S3Object": {"Bucket": bucket, "Name": key}})


class PhotoAnalyzer:
    """Asks Rekognition questions about photos; failures are logged with the photo's name and re-raised."""

    def __init__(self, client) -> None:
        self.client = client

    def _call(self, what: str, photo: Photo, fn, **kwargs):
        try:
            return fn(**kwargs)
        except ClientError as err:
            logger.info("%s failed for %s: %s", what, photo.name, err.response["Error"]["Code"])
            raise

    def faces(self, photo: Photo) -> list[dict]:
        response = self._call("detect_faces", photo, self.client.detect_faces, Image=photo.image, Attributes=["ALL"])
        return response["FaceDetails"]

    def labels(self, photo: Photo, max_labels: int) -> list[dict]:
        return self._call("detect_labels", photo, self.client.detect_labels, Image=photo.image, MaxLabels=max_labels)[
            "Labels"
        ]

    def moderation(self, photo: Photo) -> list[dict]:
        response = self._call(
            "detect_moderation_labels", photo, self.client.detect_moderation_labels, Image=photo.image
        )
        return response["ModerationLabels"]

    def text(self, photo: Photo) -> tuple[list[str], list[str]]:
        detections = self._call("detect_text", photo, self.client.detect_text, Image=photo.image)["TextDetections"]
        lines = [d["DetectedText"] for d in detections if d["Type"] == "LINE"]
        words = [d["DetectedText"] for d in detections if d["Type"] == "WORD"]
        return lines, words

    def compare(self, source: Photo, target: Photo, similarity: float) -> tuple[list[dict], list[dict]]:
        response = self._call(
            "compare_faces",
            source,
            self.client.compare_faces,
            SourceImage=source.image,
            TargetImage=target.image,
            SimilarityThreshold=similarity,
        )
        return response["FaceMatches"], response["UnmatchedFaces"]


# ----- the test: an application configured for the engine ------------------------------------------
@pytest.fixture
def app_environment(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "app-key",
        "AWS_SECRET_ACCESS_KEY": "app-secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_REKOGNITION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def analyzer(engine_server, app_environment) -> PhotoAnalyzer:
    return PhotoAnalyzer(boto3.client("rekognition", endpoint_url=engine_server.url))


@pytest.fixture
def bucket(app_environment, photos):
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="app-photos", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="app-photos", Key="uploads/demo.jpg", Body=DEMO_PHOTO.read_bytes())
        s3.put_object(Bucket="app-photos", Key="uploads/chelsea.png", Body=photos["chelsea"])
        s3.put_object(Bucket="app-photos", Key="uploads/sign.png", Body=_sign())
        yield "app-photos"


def _sign() -> bytes:
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(
        os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf"), 64
    )
    image = Image.new("RGB", (900, 240), (20, 40, 110))
    ImageDraw.Draw(image).text((50, 80), "PLATFORM 9 CLOSED", font=font, fill="white")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _mirrored(data: bytes) -> bytes:
    from PIL import Image, ImageOps

    buf = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(data)).convert("RGB")).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.engine
def test_faces_of_the_demo_photo_as_bytes(analyzer):
    faces = analyzer.faces(Photo.from_bytes("demo.jpg", DEMO_PHOTO.read_bytes()))
    assert len(faces) == 1
    face = faces[0]
    assert max(face["Emotions"], key=lambda e: e["Confidence"])["Type"] == "HAPPY"
    assert face["Smile"]["Value"] is True and face["EyesOpen"]["Value"] is True
    assert face["Gender"]["Value"] == "Female"
    assert face["AgeRange"]["Low"] < face["AgeRange"]["High"]
    assert {landmark["Type"] for landmark in face["Landmarks"]} >= {"eyeLeft", "eyeRight", "nose"}


@pytest.mark.engine
def test_labels_text_and_moderation_from_s3(analyzer, bucket):
    cat = analyzer.labels(Photo.from_s3(bucket, "uploads/chelsea.png"), max_labels=10)
    assert "Cat" in [label["Name"] for label in cat] and len(cat) <= 10
    demo = Photo.from_s3(bucket, "uploads/demo.jpg")
    lines, words = analyzer.text(demo)
    assert "ASTRONAUT EILEEN COLLINS" in lines and words[:3] == ["ASTRONAUT", "EILEEN", "COLLINS"]
    assert analyzer.text(Photo.from_s3(bucket, "uploads/sign.png")) == (
        ["PLATFORM 9 CLOSED"],
        ["PLATFORM", "9", "CLOSED"],
    )
    assert analyzer.moderation(demo) == []
    assert "Person" in [label["Name"] for label in analyzer.labels(demo, max_labels=20)]


@pytest.mark.engine
def test_compare_faces_mixes_bytes_and_s3(analyzer, bucket, photos):
    source = Photo.from_s3(bucket, "uploads/demo.jpg")
    matches, unmatched = analyzer.compare(
        source, Photo.from_bytes("mirrored.jpg", _mirrored(DEMO_PHOTO.read_bytes())), 80
    )
    assert len(matches) == 1 and not unmatched and matches[0]["Similarity"] >= 80
    matches, unmatched = analyzer.compare(source, Photo.from_bytes("grace_hopper.jpg", photos["grace_hopper"]), 80)
    assert matches == [] and len(unmatched) == 1


@pytest.mark.engine
def test_the_application_sees_rekognition_errors(analyzer, bucket, caplog):
    caplog.set_level(logging.INFO, logger="photo_app")
    with pytest.raises(ClientError) as err:
        analyzer.labels(Photo.from_bytes("anim.gif", b"GIF89a" + b"\x00" * 200), max_labels=5)
    assert err.value.response["Error"]["Code"] == "InvalidImageFormatException"
    with pytest.raises(analyzer.client.exceptions.InvalidS3ObjectException):
        analyzer.faces(Photo.from_s3(bucket, "uploads/missing.jpg"))
    assert "anim.gif" in caplog.text and "s3://app-photos/uploads/missing.jpg" in caplog.text
