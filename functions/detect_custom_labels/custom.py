"""DetectCustomLabels with a RUNNING model version, summarised like the other analyses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from rekoflow_common.analysis import confidence, run_analysis, s3_object
from rekoflow_common.config import ResultsLocation
from rekoflow_common.errors import ModelNotReadyError, error_code
from rekoflow_common.results import round_box


def request_params(item: Mapping[str, Any]) -> dict[str, Any]:
    options = item["options"]
    params: dict[str, Any] = {
        "ProjectVersionArn": item["projectVersionArn"],
        "Image": s3_object(item["image"]),
        "MinConfidence": options["minConfidence"],
    }
    if options.get("maxResults"):
        params["MaxResults"] = options["maxResults"]
    return params


def summarize(response: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    labels = []
    for label in sorted(response.get("CustomLabels", []), key=lambda l: -l.get("Confidence", 0)):
        entry: dict[str, Any] = {"name": label["Name"], "confidence": confidence(label.get("Confidence", 0))}
        geometry = label.get("Geometry") or {}
        if geometry.get("BoundingBox"):
            entry["geometry"] = {"boundingBox": round_box(geometry["BoundingBox"])}
        labels.append(entry)
    return {"count": len(labels), "labels": labels}


def detect_custom_labels(
    rekognition: Any, s3: Any, results: ResultsLocation, item: Mapping[str, Any]
) -> dict[str, Any]:
    def call(**params: Any) -> Mapping[str, Any]:
        try:
            return rekognition.detect_custom_labels(**params)
        except ClientError as error:
            if error_code(error) == "ResourceNotReadyException":
                raise ModelNotReadyError(
                    f"DetectCustomLabels: the model {item['projectVersionArn']} is not running: "
                    f"{error.response.get('Error', {}).get('Message', '')}"
                ) from error
            raise

    output = run_analysis(
        analysis="custom",
        operation="DetectCustomLabels",
        call=call,
        params=request_params(item),
        summarize=summarize,
        s3=s3,
        results=results,
        item=item,
    )
    output["summary"]["projectVersionArn"] = item["projectVersionArn"]
    return output
