"""What every handler shares besides its decorators: correlation-id paths and the metrics it records.

Every ``handler.py`` has one shape (docs/architecture.md, ADR-3): module-level Powertools Logger,
Tracer and Metrics, clients and settings made at cold start, the decorator stack, and a body that is
one call into the function's own module, wrapped in one of the ``record_*`` functions below when the
function reports a metric.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# The state machine passes the execution name (= request id) as "requestId" to every Lambda, so the
# logs of all functions of one execution share one correlation id.
REQUEST_CORRELATION_PATH = "requestId"
# The batch state machine passes its whole state as "batch"; its correlation id is the batch id, which
# is also the prefix of every child execution's name (= request id) in the batch.
BATCH_CORRELATION_PATH = "batch.batchId"
# Training started by an analysis carries the request; started directly, the execution name stands in.
TRAINING_CORRELATION_PATH = "request.requestId || executionName"

# A Lambda that fails before it adds a metric flushes none, and Powertools then warns (a UserWarning
# with a source line) on every failed invocation: noise in the logs and in the local stack's output.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def record_analysis_metrics(metrics: Metrics, output: dict) -> dict:
    """One metric per analysis, named after it, counting what it found (faces, labels, words...)."""
    summary = output.get("summary", {})
    name = output["type"].capitalize()
    metrics.add_metric(name=f"{name}Analyses", unit=MetricUnit.Count, value=1)
    found = summary.get("count")
    if isinstance(found, (int, float)):
        metrics.add_metric(name=f"{name}Found", unit=MetricUnit.Count, value=found)
    return output


def record_count(metrics: Metrics, name: str, result: Any, count: Callable[[Any], float] = lambda result: 1) -> Any:
    """Count what the function did (one event unless ``count`` says how many) and pass its result through."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=count(result))
    return result


StepResult = TypeVar("StepResult", bound=Mapping[str, Any])

# The fields of a model-lifecycle step's result worth a log line (which model, what was decided).
_STEP_FIELDS = ("projectVersionArn", "holder", "status", "action", "reason", "granted", "started", "released")


def record_step(
    logger: Logger,
    metrics: Metrics,
    name: str,
    result: StepResult,
    counted: Callable[[StepResult], bool] = lambda result: True,
) -> StepResult:
    """A Custom Labels step's decision, logged; ``name`` counts 1 when ``counted`` accepts it, else 0
    (a start left to another request, a watcher's wait), so the metric exists for every invocation."""
    logger.info(name, extra={field: result[field] for field in _STEP_FIELDS if field in result})
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1 if counted(result) else 0)
    return result
