"""What every analysis Lambda shares: image references for Rekognition and the output it returns."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger
from botocore import xform_name

from rekoflow_common.config import ResultsLocation, env_int
from rekoflow_common.errors import rekognition_errors
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
    with rekognition_errors(operation):
        response = call(**params)
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
