"""The trainable head of a local Custom Labels model: multinomial logistic regression in numpy.

Inputs are L2-normalised backbone embeddings (``embeddings.py``). Full-batch gradient descent with
L2 regularisation converges in well under a second for a few hundred images; the softmax output is
the label confidence DetectCustomLabels reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SoftmaxHead:
    labels: list[str]
    weights: np.ndarray  # (dims, classes)
    bias: np.ndarray  # (classes,)
    mean: np.ndarray  # (dims,) feature centring
    scale: float  # logit temperature learned with the weights
    backbone: str

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        features = np.atleast_2d(features)
        logits = (features - self.mean) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            labels=np.array(self.labels),
            weights=self.weights,
            bias=self.bias,
            mean=self.mean,
            scale=np.array(self.scale),
            backbone=np.array(self.backbone),
        )

    @classmethod
    def load(cls, path: Path) -> SoftmaxHead:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                labels=[str(x) for x in data["labels"]],
                weights=data["weights"],
                bias=data["bias"],
                mean=data["mean"],
                scale=float(data["scale"]),
                backbone=str(data["backbone"]),
            )


def train_softmax(
    features: np.ndarray,
    targets: np.ndarray,
    labels: list[str],
    backbone: str,
    *,
    l2: float = 1e-3,
    steps: int = 400,
    learning_rate: float = 0.5,
) -> SoftmaxHead:
    """Fit ``features`` (n, d) to integer ``targets`` (n,) over ``len(labels)`` classes."""
    n, dims = features.shape
    classes = len(labels)
    mean = features.mean(axis=0)
    x = (features - mean) * 10.0  # embeddings are unit length: spread them so the logits can grow
    onehot = np.eye(classes)[targets]
    # Balance classes: each class weighs the same however many images it has.
    counts = np.bincount(targets, minlength=classes).astype(np.float64)
    sample_weight = (n / (classes * np.maximum(counts, 1)))[targets][:, None]
    w = np.zeros((dims, classes))
    b = np.zeros(classes)
    for _ in range(steps):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = (p - onehot) * sample_weight / n
        w -= learning_rate * (x.T @ grad + l2 * w)
        b -= learning_rate * grad.sum(axis=0)
    return SoftmaxHead(
        labels=list(labels),
        weights=(w * 10.0).astype(np.float32),
        bias=b.astype(np.float32),
        mean=mean.astype(np.float32),
        scale=10.0,
        backbone=backbone,
    )


@dataclass(frozen=True)
class LabelMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    test_images: int


def evaluate(
    head: SoftmaxHead, features: np.ndarray, targets: np.ndarray
) -> tuple[float, float, float, list[LabelMetrics]]:
    """Macro-averaged (F1, precision, recall) of the top label on a test set, and each label's metrics."""
    predicted = head.probabilities(features).argmax(axis=1)
    per_label = []
    for index, label in enumerate(head.labels):
        tp = int(np.sum((predicted == index) & (targets == index)))
        fp = int(np.sum((predicted == index) & (targets != index)))
        fn = int(np.sum((predicted != index) & (targets == index)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label.append(
            LabelMetrics(label, round(precision, 4), round(recall, 4), round(f1, 4), int(np.sum(targets == index)))
        )
    present = [m for m in per_label if m.test_images] or per_label
    macro = lambda attr: round(float(np.mean([getattr(m, attr) for m in present])), 4)  # noqa: E731
    return macro("f1"), macro("precision"), macro("recall"), per_label
