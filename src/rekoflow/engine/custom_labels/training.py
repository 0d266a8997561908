"""Training a model version, for real and locally, on a background thread.

Each image becomes an embedding from a CNN backbone that ships in a package (``models/embeddings.py``;
training images also with their mirror images) and a softmax head is fitted on them
(``models/classifier.py``). The test split is evaluated, the evaluation summary written under the
version's OutputConfig, and the result handed to the lifecycle (``lifecycle.record_outcome``), so
DescribeProjectVersions sees the status move over time. Any failure becomes the version's
TRAINING_FAILED status message, never a lost thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from rekoflow.engine import errors
from rekoflow.engine.custom_labels import lifecycle
from rekoflow.engine.custom_labels.manifest import ManifestEntry
from rekoflow.engine.custom_labels.store import (
    CustomLabelsStore,
    Evaluation,
    ProjectVersion,
    TrainedModel,
    TrainingOutcome,
)
from rekoflow.engine.images import decode
from rekoflow.engine.operations._common import Context

if TYPE_CHECKING:
    from rekoflow.engine.models.classifier import LabelMetrics

log = logging.getLogger(__name__)

DEFAULT_MIN_CONFIDENCE = 50.0  # the assumed per-label threshold, also DetectCustomLabels' default


class TrainingFailed(Exception):
    """A training that cannot succeed; its message becomes the version's status message."""


Entries = list[ManifestEntry]


def start_training(
    store: CustomLabelsStore, ctx: Context, version: ProjectVersion, train: Entries, test: Entries
) -> threading.Thread:
    """Train ``version`` on a daemon thread; an engine that stops first leaves it to ``interrupt_if_orphaned``."""
    thread = threading.Thread(
        target=_train,
        args=(store, ctx, version.arn, train, test),
        name=f"custom-labels-train-{version.name}",
        daemon=True,
    )
    thread.start()
    return thread


def _train(store: CustomLabelsStore, ctx: Context, arn: str, train: Entries, test: Entries) -> None:
    started = time.time()
    model: TrainedModel | None = None
    try:
        model = _fit(store, ctx, arn, train, test)
        message = "The model is ready to run."
    except TrainingFailed as exc:
        message = str(exc)
    except errors.RekognitionError as exc:
        message = exc.message
    except Exception as exc:  # any failure is the version's status, never a lost thread
        log.exception("training %s failed", arn)
        message = f"Training failed: {type(exc).__name__}: {exc}"
    finished = time.time()
    outcome = TrainingOutcome(
        status=lifecycle.TRAINING_COMPLETED if model else lifecycle.TRAINING_FAILED,
        status_message=message,
        training_end=finished,
        billable_seconds=round(finished - started),
        model=model,
    )
    with store.lock:
        lifecycle.record_outcome(store.versions[arn], outcome)
        store.save()


def _embed_all(ctx: Context, entries: Entries, what: str, flips: bool) -> list[np.ndarray]:
    from rekoflow.engine.models import embeddings

    vectors: list[np.ndarray] = []
    failures: list[str] = []
    s3 = ctx.s3_client_factory()
    for entry in entries:
        bucket, _, key = entry["source"][5:].partition("/")
        try:
            image = decode(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except errors.RekognitionError as exc:
            failures.append(f"{entry['source']}: {exc.message}")
            continue
        except Exception as exc:  # noqa: BLE001 - S3 errors name the object
            failures.append(f"{entry['source']}: cannot be read ({type(exc).__name__})")
            continue
        vectors.append(embeddings.embed(image.bgr))
        if flips:
            vectors.append(embeddings.embed(np.ascontiguousarray(image.bgr[:, ::-1])))
    if failures:
        raise errors.invalid_parameter(
            f"{len(failures)} of {len(entries)} {what} images could not be used: " + "; ".join(failures[:3])
        )
    return vectors


def _fit(store: CustomLabelsStore, ctx: Context, arn: str, train: Entries, test: Entries) -> TrainedModel:
    from rekoflow.engine.models import embeddings
    from rekoflow.engine.models.classifier import evaluate, train_softmax

    labels = sorted({e["labels"][0] for e in train})
    if len(labels) < 2:
        raise TrainingFailed(
            "The training dataset must have at least 2 labels to train a classification model; "
            f"it has {len(labels)} ({', '.join(labels) or 'none'})."
        )
    if not test:
        raise TrainingFailed("The test dataset is empty: add test images or use an auto-split.")
    index = {label: i for i, label in enumerate(labels)}
    features = _embed_all(ctx, train, "training", flips=True)
    targets = np.repeat([index[e["labels"][0]] for e in train], 2)
    backbone = embeddings.backbone().name
    head = train_softmax(np.stack(features), targets, labels, backbone)
    test_features = np.stack(_embed_all(ctx, test, "test", flips=False))
    test_targets = np.array([index.get(e["labels"][0], -1) for e in test])
    f1, precision, recall, per_label = evaluate(head, test_features, test_targets)
    with store.lock:
        version = store.versions[arn]
        head_file = f"models/{version.project}--{version.name}--{int(version.created * 1000)}.npz"
        store.heads[arn] = head
        if store.dir:
            (store.dir / "models").mkdir(parents=True, exist_ok=True)
            head.save(store.dir / head_file)
        output = version.output_config
    summary_key = f"{output.s3_key_prefix}EvaluationResultSummary-{version.project}-{version.name}.json"
    summary = _summary(arn, backbone, labels, (f1, precision, recall), per_label, len(train), len(test))
    body = json.dumps(summary, indent=2).encode()
    try:
        ctx.s3_client_factory().put_object(
            Bucket=output.s3_bucket, Key=summary_key, Body=body, ContentType="application/json"
        )
    except Exception as exc:  # any S3 failure fails the training, naming the location
        location = f"s3://{output.s3_bucket}/{summary_key}"
        raise TrainingFailed(f"Cannot write to the output location {location}: {exc}") from exc
    return TrainedModel(
        head_file=head_file if store.dir else None,
        evaluation=Evaluation(f1_score=f1, summary_bucket=output.s3_bucket, summary_key=summary_key),
        labels=labels,
        backbone=backbone,
    )


def _summary(
    arn: str,
    backbone: str,
    labels: list[str],
    scores: tuple[float, float, float],
    per_label: list[LabelMetrics],
    train_images: int,
    test_images: int,
) -> dict[str, Any]:
    """The EvaluationResultSummary JSON Rekognition writes after training (plus the local backbone's name)."""
    f1, precision, recall = scores
    threshold = DEFAULT_MIN_CONFIDENCE / 100
    return {
        "Version": 1,
        "AggregatedEvaluationResults": {"F1Score": f1, "Precision": precision, "Recall": recall},
        "EvaluationDetails": {
            "EvaluationEndTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Labels": labels,
            "NumberOfTestingImages": test_images,
            "NumberOfTrainingImages": train_images,
            "ProjectVersionArn": arn,
            "Backbone": backbone,
        },
        "LabelEvaluationResults": [
            {
                "Label": m.label,
                "Metrics": {"F1Score": m.f1, "Precision": m.precision, "Recall": m.recall, "Threshold": threshold},
                "NumberOfTestingImages": m.test_images,
            }
            for m in per_label
        ],
    }
