"""Rekognition's error codes, raised by the engine and sent as AWS JSON 1.1 error bodies."""

from __future__ import annotations


class RekognitionError(Exception):
    """An error Rekognition itself would return: its `code` becomes the body's `__type`."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def to_body(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


def invalid_parameter(message: str = "Request has invalid parameters") -> RekognitionError:
    return RekognitionError("InvalidParameterException", message)


def invalid_image_format(message: str = "Request has unsupported image format") -> RekognitionError:
    return RekognitionError("InvalidImageFormatException", message)


def image_too_large(message: str = "Image size is too large.") -> RekognitionError:
    return RekognitionError("ImageTooLargeException", message)


def invalid_s3_object(
    message: str = "Unable to get object metadata from S3. Check object key, region and/or access permissions.",
) -> RekognitionError:
    return RekognitionError("InvalidS3ObjectException", message)


def unknown_operation(operation: str) -> RekognitionError:
    return RekognitionError("UnknownOperationException", f"Unknown operation {operation}")


def serialization(message: str) -> RekognitionError:
    return RekognitionError("SerializationException", message)


def internal(message: str = "Internal server error") -> RekognitionError:
    return RekognitionError("InternalServerError", message, status=500)
