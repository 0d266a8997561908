"""DetectFaces with every attribute, summarised per face; attributes the service omits stay omitted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rekoflow_common.analysis import Analysis, confidence, s3_object
from rekoflow_common.results import round_box

# Boolean attributes Rekognition returns as {"Value": bool, "Confidence": float}.
_BOOLEAN_ATTRIBUTES = {
    "Smile": "smile",
    "Eyeglasses": "eyeglasses",
    "Sunglasses": "sunglasses",
    "Beard": "beard",
    "Mustache": "mustache",
    "EyesOpen": "eyesOpen",
    "MouthOpen": "mouthOpen",
    "FaceOccluded": "faceOccluded",
}
TOP_EMOTIONS = 3


def request_params(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"Image": s3_object(item["image"]), "Attributes": item["options"]["attributes"]}


def summarize_face(face: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "confidence": confidence(face.get("Confidence", 0)),
        "boundingBox": round_box(face.get("BoundingBox")),
    }
    if "AgeRange" in face:
        out["ageRange"] = {"low": face["AgeRange"]["Low"], "high": face["AgeRange"]["High"]}
    if "Gender" in face:
        out["gender"] = {"value": face["Gender"]["Value"], "confidence": confidence(face["Gender"]["Confidence"])}
    if face.get("Emotions"):
        top = sorted(face["Emotions"], key=lambda e: -e["Confidence"])[:TOP_EMOTIONS]
        out["emotions"] = [{"type": e["Type"], "confidence": confidence(e["Confidence"])} for e in top]
    for api_name, name in _BOOLEAN_ATTRIBUTES.items():
        if api_name in face:
            out[name] = {"value": bool(face[api_name]["Value"]), "confidence": confidence(face[api_name]["Confidence"])}
    if "Pose" in face:
        out["pose"] = {k.lower(): round(float(v), 1) for k, v in face["Pose"].items()}
    if "Quality" in face:
        out["quality"] = {k.lower(): confidence(v) for k, v in face["Quality"].items()}
    if "EyeDirection" in face:
        out["eyeDirection"] = {k.lower(): round(float(v), 1) for k, v in face["EyeDirection"].items()}
    return out


def summarize(response: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    faces = [f for f in response.get("FaceDetails", []) if f.get("Confidence", 0) >= options["minConfidence"]]
    # Largest faces first: they are the subjects, and the ones kept when maxFaces cuts the list.
    faces.sort(key=lambda f: -(f.get("BoundingBox", {}).get("Width", 0) * f.get("BoundingBox", {}).get("Height", 0)))
    kept = [summarize_face(f) for f in faces[: options["maxFaces"]]]
    return {"count": len(kept), "faces": kept, "belowConfidence": len(response.get("FaceDetails", [])) - len(faces)}


detect_faces = Analysis(name="faces", operation="DetectFaces", request_params=request_params, summarize=summarize)
