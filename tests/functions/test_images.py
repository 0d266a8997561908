"""Image header checks: format by magic bytes, dimensions without decoding, limits with clear messages."""

import pytest

from rekoflow_common.images import (
    MAX_HEADER_READS,
    READ_WINDOW_BYTES,
    CorruptImageError,
    ImageHeaderError,
    ImageInfo,
    ImageLimits,
    TruncatedImageError,
    describe_magic,
    inspect_image,
    limit_violation,
    sniff_format,
)
from support.images import GIF_BYTES, TEXT_BYTES, image_bytes


class Reads:
    """``read(offset, length)`` over bytes, remembering each ranged read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, []

    def __call__(self, offset: int, length: int) -> bytes:
        self.calls.append((offset, length))
        return self.data[offset : offset + length]


def inspect(data: bytes) -> ImageInfo:
    return inspect_image(Reads(data), len(data))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("size", [(200, 160), (81, 4000), (1, 1)])
def test_dimensions_are_read_from_the_header(fmt, size):
    data = image_bytes(*size, fmt=fmt)
    assert sniff_format(data) == fmt
    assert inspect(data) == ImageInfo(fmt, *size)


def test_a_small_image_is_read_once_a_large_one_in_a_header_and_a_tail_read():
    small = Reads(image_bytes(200, 160))
    assert inspect_image(small, len(small.data)).width == 200
    assert small.calls == [(0, len(small.data))]
    noisy = Reads(_noise_png(900, 900))
    assert inspect_image(noisy, len(noisy.data)) == ImageInfo("PNG", 900, 900)
    assert noisy.calls[0] == (0, READ_WINDOW_BYTES) and noisy.calls[-1][0] + noisy.calls[-1][1] == len(noisy.data)
    assert sum(length for _, length in noisy.calls) < len(noisy.data), "the middle of the file is not read"


def _noise_png(width: int, height: int) -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_jpeg_with_a_large_segment_before_the_frame_is_read_in_growing_windows():
    reads = Reads(image_bytes(300, 200, "JPEG", exif_padding=2_000_000))
    assert inspect_image(reads, len(reads.data)) == ImageInfo("JPEG", 300, 200)
    lengths = [length for _, length in reads.calls[:-1]]  # the last read is the tail's
    assert lengths[0] == READ_WINDOW_BYTES and all(b > a for a, b in zip(lengths[1:], lengths[2:], strict=False))
    assert len(reads.calls) <= MAX_HEADER_READS


def test_a_header_beyond_the_read_limit_is_corrupt():
    # A JPEG of many small segments: more than MAX_HEADER_READS windows before a frame header.
    segment = b"\xff\xfe" + (65_533 + 2).to_bytes(2, "big") + b"c" * 65_533
    data = b"\xff\xd8" + segment * 2_000 + b"\xff\xd9"
    with pytest.raises(CorruptImageError, match=f"no frame header found in {MAX_HEADER_READS} reads"):
        inspect(data)


@pytest.mark.parametrize(
    "data,described",
    [(GIF_BYTES, "GIF"), (b"%PDF-1.7 ...", "PDF"), (b"", "an empty object"), (TEXT_BYTES, "starts with bytes 74 68")],
)
def test_other_formats_are_named(data, described):
    assert sniff_format(data) is None
    assert describe_magic(data).startswith(described)
    if data:
        with pytest.raises(ImageHeaderError, match="not a PNG or JPEG"):
            inspect(data)


@pytest.mark.parametrize(
    "data,described",
    [
        (b"BM" + b"\0" * 20, "BMP"),
        (b"II*\x00" + b"\0" * 8, "TIFF"),
        (b"MM\x00*" + b"\0" * 8, "TIFF"),
        (b"RIFF\0\0\0\0WEBP", "RIFF (WebP?)"),
        (b"\0\0\0\x18ftypheic" + b"\0" * 8, "HEIC"),
        (b"\0\0\0\x18ftypmif1", "HEIC"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", "starts with bytes 00 01 02 03 04 05 06 07"),
    ],
)
def test_magic_bytes_are_described_exactly(data, described):
    assert describe_magic(data) == described


def test_truncated_png_is_rejected():
    with pytest.raises(TruncatedImageError, match="image is truncated: the PNG ends at byte 20, inside its header"):
        inspect(image_bytes()[:20])


def test_a_whole_png_with_a_bad_crc_is_corrupt():
    data = bytearray(image_bytes())
    data[30] ^= 0x01  # inside the stored CRC
    with pytest.raises(CorruptImageError, match=r"IHDR CRC"):
        inspect(bytes(data))
    data = bytearray(image_bytes())
    data[12:16] = b"IDAT"  # IHDR is not the first chunk
    with pytest.raises(CorruptImageError, match="IHDR is not the first chunk"):
        inspect(bytes(data))


def test_jpeg_without_frame_header_is_malformed():
    with pytest.raises(
        CorruptImageError, match="image is corrupt: the JPEG is malformed: no frame header before the image data"
    ):
        inspect(b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 20 + b"\xff\xd9")
    with pytest.raises(CorruptImageError, match="invalid segment length 1 at byte 4"):
        inspect(b"\xff\xd8\xff\xe0\x00\x01" + b"\x00" * 20)


def test_fill_bytes_and_standalone_markers_before_the_frame_are_skipped():
    jpeg = image_bytes(120, 90, "JPEG")
    padded = jpeg[:2] + b"\xff\xff\xff\xd0" + jpeg[2:]  # fill bytes, then RST0 (no length)
    assert inspect(padded) == ImageInfo("JPEG", 120, 90)


def test_a_png_with_data_after_iend_is_whole_a_jpeg_with_a_camera_trailer_too():
    assert inspect(image_bytes() + b"\0" * 100) == ImageInfo("PNG", 200, 160)
    assert inspect(image_bytes(300, 200, "JPEG") + b"trailer" * 50) == ImageInfo("JPEG", 300, 200)


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
