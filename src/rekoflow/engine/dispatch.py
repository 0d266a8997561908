"""The in-process engine: validate a request against botocore's model, run the operation."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.images import S3ClientFactory
from rekoflow.engine.operations import custom_labels, faces, labels, moderation, text
from rekoflow.engine.operations._common import Context

log = logging.getLogger(__name__)

Operation = Callable[[dict[str, Any], Context], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "DetectLabels": labels.detect_labels,
    "DetectFaces": faces.detect_faces,
    "CompareFaces": faces.compare_faces,
    "DetectText": text.detect_text,
    "DetectModerationLabels": moderation.detect_moderation_labels,
    **custom_labels.OPERATIONS,
}


def _default_s3_client():
    import boto3

    return boto3.client("s3")


@functools.cache
def _service_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("rekognition")


class Engine:
    """Answers Rekognition operations. Thread-safe: models are shared, requests are independent."""

    def __init__(
        self,
        s3_client_factory: S3ClientFactory | None = None,
        state_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        # threads: per-call model threads (ONNX Runtime, OpenCV, LiteRT) for the whole process; None
        # keeps REKOFLOW_ENGINE_THREADS (default 1, measured best for 2 callers on 2 cores).
        if threads is not None:
            from rekoflow.engine.models._runtime import set_threads

            set_threads(threads)
        self._context = Context(s3_client_factory=s3_client_factory or _default_s3_client, state_dir=state_dir)

    @property
    def operations(self) -> list[str]:
        return sorted(OPERATIONS)

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = OPERATIONS.get(operation)
        if handler is None:
            raise errors.unknown_operation(operation)
        if not isinstance(params, dict):
            raise errors.serialization("The request body must be a JSON object")
        _validate(operation, params)
        try:
            return handler(params, self._context)
        except errors.RekognitionError:
            raise
        except Exception as exc:
            log.exception("%s failed", operation)
            raise errors.internal(f"{operation} failed: {type(exc).__name__}") from exc


def _validate(operation: str, params: dict[str, Any]) -> None:
    """Apply the same checks botocore applies client-side (required members, types, ranges, enums).

    Real Rekognition answers these with InvalidParameterException, naming the offending field here
    instead of its terse "Request has invalid parameters".
    """
    from botocore.validate import ParamValidator

    shape = _service_model().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise errors.invalid_parameter(report.generate_report())
    # botocore checks only minimums client-side; the service also enforces maximums.
    problem = _above_max(params, shape, "")
    if problem:
        raise errors.invalid_parameter(problem)


def _above_max(value: Any, shape, path: str) -> str | None:
    limit = shape.metadata.get("max")
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value and (problem := _above_max(value[key], member, f"{path}.{key}".lstrip("."))):
                return problem
    elif shape.type_name == "list" and isinstance(value, list):
        if limit is not None and len(value) > limit:
            return f"{path} has {len(value)} items, more than the maximum {limit}"
        for i, item in enumerate(value):
            if problem := _above_max(item, shape.member, f"{path}[{i}]"):
                return problem
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if limit is not None and value > limit:
            return f"{path} is {value}, more than the maximum {limit}"
    elif shape.type_name == "string" and isinstance(value, str) and limit is not None and len(value) > limit:
        return f"{path} is longer than {limit} characters"
    return None
