"""GroundTruth manifests: reading one from S3, parsing its image-classification lines, the test split.

Owns the entry a dataset keeps per image (``ManifestEntry``) and the message each unusable line gets
(``line N: <field> ...``). Image-level classification only (``class-name`` / ``class-map``);
object-detection lines (bounding boxes) are rejected with a clear message.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from rekoflow.engine import errors
from rekoflow.engine.operations._common import Context

TEST_SHARE = 0.2  # DistributeDatasetEntries and TestingData.AutoCreate move ~20% to the test split


class ManifestEntry(TypedDict):
    """One labelled image. A mapping, not a dataclass: datasets persist and copy entries as JSON."""

    source: str  # s3://bucket/key
    labels: list[str]  # sorted, distinct


def read_manifest(ctx: Context, bucket: str, key: str, version: str | None = None) -> str:
    """The text of a manifest object; an unreadable one is Rekognition's InvalidS3ObjectException."""
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    try:
        data: bytes = ctx.s3_client_factory().get_object(**kwargs)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise errors.invalid_s3_object(f"Unable to read s3://{bucket}/{key}: {exc}") from exc
    return data.decode("utf-8", errors="replace")


def _labels(record: dict[str, Any], number: int, problems: list[str]) -> list[str]:
    """The image-level labels of one manifest line; an object-detection attribute adds a problem."""
    labels: list[str] = []
    for key, meta in record.items():
        if not key.endswith("-metadata") or not isinstance(meta, dict):
            continue
        value = record.get(key[: -len("-metadata")])
        class_map = meta.get("class-map")
        if "class-name" in meta and value is not None:
            labels.append(str(meta["class-name"]))
        elif isinstance(class_map, dict) and isinstance(value, list) and value and not isinstance(value[0], dict):
            labels.extend(str(class_map.get(str(v), v)) for v in value)
        elif isinstance(value, dict) and "annotations" in value:
            problems.append(
                f"line {number}: object-detection (bounding box) labels are not supported by the local engine"
            )
    return labels


def parse_manifest(text: str) -> tuple[list[ManifestEntry], list[str]]:
    """GroundTruth image-classification lines -> entries; and a message per bad line (naming line and field)."""
    entries: list[ManifestEntry] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"line {number}: not valid JSON")
            continue
        source = record.get("source-ref") if isinstance(record, dict) else None
        if not isinstance(source, str) or not source.startswith("s3://") or "/" not in source[5:]:
            problems.append(f"line {number}: source-ref must be an s3://bucket/key URI")
            continue
        labels = _labels(record, number, problems)
        if not labels:
            problems.append(f"line {number}: no image-level label (a '<attribute>-metadata' with 'class-name')")
            continue
        entries.append({"source": source, "labels": sorted(set(labels))})
    return entries, problems


def split_entries(entries: list[ManifestEntry]) -> tuple[list[ManifestEntry], list[ManifestEntry]]:
    """Deterministic, per-label ~20% test split; a label with one image stays in training."""
    by_label: dict[str, list[ManifestEntry]] = {}
    for entry in sorted(entries, key=lambda e: e["source"]):
        by_label.setdefault(entry["labels"][0], []).append(entry)
    train: list[ManifestEntry] = []
    test: list[ManifestEntry] = []
    for group in by_label.values():
        count = round(len(group) * TEST_SHARE) if len(group) > 1 else 0
        count = max(count, 1) if len(group) > 1 else 0
        step = len(group) / count if count else 0
        picked = {int(i * step + step / 2) for i in range(count)}
        for i, entry in enumerate(group):
            (test if i in picked else train).append(entry)
    return train, test
