"""Image header checks: format by magic bytes, dimensions without decoding, limits with clear messages."""

import pytest

from rekoflow_common.images import (
    ImageHeaderError,
    ImageInfo,
    ImageLimits,
    NeedMoreBytes,
    describe_magic,
    limit_violation,
    read_image_info,
    sniff_format,
)
from support.images import GIF_BYTES, TEXT_BYTES, image_bytes


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("size", [(200, 160), (81, 4000), (1, 1)])
def test_dimensions_are_read_from_the_header(fmt, size):
    data = image_bytes(*size, fmt=fmt)
    assert sniff_format(data) == fmt
    assert read_image_info(data[:4096]) == ImageInfo(fmt, *size)


def test_jpeg_with_a_large_segment_before_the_frame_needs_more_bytes():
    data = image_bytes(300, 200, "JPEG", exif_padding=100_000)
    with pytest.raises(NeedMoreBytes):
        read_image_info(data[:64 * 1024])
    assert read_image_info(data) == ImageInfo("JPEG", 300, 200)


@pytest.mark.parametrize("data,described", [(GIF_BYTES, "GIF"), (b"%PDF-1.7 ...", "PDF"), (b"", "an empty object"), (TEXT_BYTES, "starts with bytes 74 68")])
def test_other_formats_are_named(data, described):
    assert sniff_format(data) is None
    assert describe_magic(data).startswith(described)
    with pytest.raises(ImageHeaderError, match="not a PNG or JPEG"):
        read_image_info(data)


def test_truncated_png_is_rejected():
    with pytest.raises(ImageHeaderError, match="truncated"):
        read_image_info(image_bytes()[:20])


def test_jpeg_without_frame_header_is_malformed():
    with pytest.raises(ImageHeaderError, match="malformed"):
        read_image_info(b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 20)


@pytest.mark.parametrize(
    "size_bytes,width,height,expected",
    [
        (1000, 200, 200, None),
        (16 * 1024 * 1024, 200, 200, "the limit for images read from S3 is 15,728,640 bytes"),
        (1000, 79, 300, "each side must be at least 80 px"),
        (1000, 300, 10_001, "each side must be at most 10000 px"),
        (1000, 80, 10_000, None),
    ],
)
def test_limits_name_the_limit(size_bytes, width, height, expected):
    problem = limit_violation(size_bytes, ImageInfo("PNG", width, height), ImageLimits())
    if expected is None:
        assert problem is None
    else:
        assert expected in problem
        assert f"{width}x{height}" in problem or f"{size_bytes:,}" in problem
