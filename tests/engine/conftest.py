"""Fixtures for the engine tests: one EngineServer per session, sample photos from packages."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config

pytest.importorskip("cv2", reason="the engine extra is not installed")

from rekoflow.engine import EngineServer  # noqa: E402

REGION = "us-east-1"


def _client_kwargs(endpoint: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"region_name": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    return kwargs


@pytest.fixture(scope="session")
def engine_server() -> Iterator[EngineServer]:
    # S3 clients are made per request, so tests can start moto's mock_aws() around S3 calls later.
    server = EngineServer(s3_client_factory=lambda: boto3.client("s3", **_client_kwargs()))
    with server:
        yield server


class RawCapture:
    """Keeps the raw JSON of the last response: boto3's parser silently drops unmodelled keys."""

    def __init__(self) -> None:
        self.body: dict[str, Any] | None = None

    def __call__(self, http_response, **_: Any) -> None:
        self.body = json.loads(http_response.content or b"{}")


@pytest.fixture(scope="session")
def raw_capture() -> RawCapture:
    return RawCapture()


@pytest.fixture(scope="session")
def rekognition(engine_server: EngineServer, raw_capture: RawCapture):
    client = boto3.client(
        "rekognition", config=Config(retries={"max_attempts": 1}, read_timeout=120), **_client_kwargs(engine_server.url)
    )
    client.meta.events.register("after-call.rekognition.*", raw_capture)
    return client


@pytest.fixture(scope="session")
def unvalidated_rekognition(engine_server: EngineServer):
    """A client that sends what botocore would reject client-side, to test the server's own checks."""
    config = Config(retries={"max_attempts": 1}, parameter_validation=False, read_timeout=120)
    return boto3.client("rekognition", config=config, **_client_kwargs(engine_server.url))


@pytest.fixture(scope="session")
def service_model():
    return botocore.session.get_session().get_service_model("rekognition")


def png_bytes(array) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(array, quality: int = 90) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Real photos shipped inside packages (scikit-image, matplotlib)."""
    data = pytest.importorskip("skimage.data")
    matplotlib = pytest.importorskip("matplotlib")
    grace = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data", "grace_hopper.jpg")
    with open(grace, "rb") as fh:
        grace_bytes = fh.read()
    return {
        "astronaut": png_bytes(data.astronaut()),
        "chelsea": png_bytes(data.chelsea()),
        "coffee": png_bytes(data.coffee()),
        "grace_hopper": grace_bytes,
    }


TEXT_LINES = ("Hello rekoflow world", "Invoice 2024 TOTAL")


@pytest.fixture(scope="session")
def text_image() -> bytes:
    """Two lines rendered with DejaVu Sans, the TrueType font that ships with matplotlib."""
    matplotlib = pytest.importorskip("matplotlib")
    from PIL import Image, ImageDraw, ImageFont

    font_path = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVuSans.ttf")
    font = ImageFont.truetype(font_path, 40)
    image = Image.new("RGB", (640, 220), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 30), TEXT_LINES[0], font=font, fill="black")
    draw.text((20, 130), TEXT_LINES[1], font=font, fill="black")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
