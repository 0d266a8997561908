"""What every analysis Lambda shares: image references for Rekognition and the output it returns."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore import xform_name

from rekoflow_common.clients import rekognition_budget
from rekoflow_common.config import ResultsLocation, env_int
from rekoflow_common.errors import RekognitionTransientError, rekognition_errors
from rekoflow_common.records import fit_summary
from rekoflow_common.results import write_result

CACHE_TTL_DAYS_DEFAULT = 30

logger = Logger(child=True)


def s3_object(reference: Mapping[str, str]) -> dict[str, Any]:
    """Rekognition reads the image from S3 itself (docs/architecture.md, ADR-4)."""
    obj = {"Bucket": reference["bucket"], "Name": reference["key"]}
    if reference.get("versionId"):
        obj["Version"] = reference["versionId"]
    return {"S3Object": obj}


# The member every answer of the operation carries (Rekognition returns it even when empty). An HTTP
# 200 whose body is not JSON parses as {} in botocore: without this it would read as "0 labels".
ANSWER_MEMBERS = {
    "DetectLabels": "Labels",
    "DetectFaces": "FaceDetails",
    "DetectText": "TextDetections",
    "CompareFaces": "FaceMatches",
    "DetectModerationLabels": "ModerationLabels",
    "DetectCustomLabels": "CustomLabels",
}
MAX_SHAPE_PROBLEMS_LISTED = 3


@functools.lru_cache(maxsize=1)
def _rekognition_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("rekognition")


def _non_finite(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, float) and not math.isfinite(value):
        yield path or "(answer)"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{index}]")


def answer_member(operation: str, params: Mapping[str, Any] | None = None) -> str | None:
    """The member the answer to this call must carry: DetectLabels asked only for IMAGE_PROPERTIES
    answers ImageProperties and no Labels."""
    if operation == "DetectLabels" and "GENERAL_LABELS" not in (params or {}).get("Features", ["GENERAL_LABELS"]):
        return "ImageProperties"
    return ANSWER_MEMBERS.get(operation)


def answer_problems(operation: str, response: Any, params: Mapping[str, Any] | None = None) -> list[str]:
    """What makes ``response`` not an answer of ``operation`` called with ``params``: botocore's output
    shape (members, types), the operation's main member, finite numbers. Empty when it is one."""
    from botocore.validate import ParamValidator

    if not isinstance(response, Mapping):
        return [f"the answer is a {type(response).__name__}, not an object"]
    answer = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    problems: list[str] = []
    member = answer_member(operation, params)
    if member and member not in answer:
        problems.append(f"{member} is missing")
    shape = _rekognition_model().operation_model(operation).output_shape
    report = ParamValidator().validate(answer, shape)
    if report.has_errors():
        # Members newer than this botocore's model are dropped by its parser and tolerated here.
        problems.extend(
            line.strip().replace("for parameter", "for")
            for line in report.generate_report().splitlines()
            if line.strip() and not line.startswith(("Parameter validation failed", "Unknown parameter"))
        )
    problems.extend(f"{path} is not a finite number" for path in _non_finite(answer))
    return problems


def check_answer(operation: str, response: Any, params: Mapping[str, Any] | None = None) -> None:
    """Raise a retried error for an answer that does not match the operation's output shape, so a
    broken answer is never summarised, stored or cached."""
    problems = answer_problems(operation, response, params)
    if problems:
        listed = "; ".join(problems[:MAX_SHAPE_PROBLEMS_LISTED])
        more = (
            f" (and {len(problems) - MAX_SHAPE_PROBLEMS_LISTED} more)"
            if len(problems) > MAX_SHAPE_PROBLEMS_LISTED
            else ""
        )
        raise RekognitionTransientError(
            f"{operation} failed: the answer is not a {operation} response: {listed[:1000]}{more}"
        )


def run_analysis(
    *,
    analysis: str,
    operation: str,
    call: Callable[..., Mapping[str, Any]],
    params: Mapping[str, Any],
    summarize: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
    s3: Any,
    results: ResultsLocation,
    item: Mapping[str, Any],
) -> dict[str, Any]:
    """Call Rekognition, store the full response in S3, return the compact summary for the state machine."""
    with rekognition_errors(operation, rekognition_budget().describe()):
        response = call(**params)
    check_answer(operation, response, params)
    summary = summarize(response, item["options"])
    key = write_result(s3, results, item["requestId"], analysis, response, summary)
    logger.info("analysis complete", extra={"analysis": analysis, "found": summary.get("count"), "result_key": key})
    # The full summary is in S3 (key); the state carries it only within its budget.
    summary = fit_summary(summary, key)
    ttl_days = env_int("CACHE_TTL_DAYS", CACHE_TTL_DAYS_DEFAULT, minimum=1)
    return {
        "type": analysis,
        "cached": False,
        "summary": summary,
        "resultKey": key,
        "cacheExpiresAt": int(time.time()) + ttl_days * 86400,
    }


@dataclass(frozen=True)
class Analysis:
    """One Rekognition analysis: which operation, how its request is built, how its answer is summarised.

    Calling it runs the analysis for one planned item: ``detect_labels(rekognition, s3, results, item)``.
    """

    name: str
    operation: str
    request_params: Callable[[Mapping[str, Any]], dict[str, Any]]
    summarize: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]

    def __call__(self, rekognition: Any, s3: Any, results: ResultsLocation, item: Mapping[str, Any]) -> dict[str, Any]:
        return run_analysis(
            analysis=self.name,
            operation=self.operation,
            call=getattr(rekognition, xform_name(self.operation)),
            params=self.request_params(item),
            summarize=self.summarize,
            s3=s3,
            results=results,
            item=item,
        )


def confidence(value: Any) -> float:
    return round(float(value), 2)
