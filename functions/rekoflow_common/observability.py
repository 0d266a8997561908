"""Shared Powertools settings: every log line carries the Step Functions execution's request id."""

# The state machine passes the execution name (= request id) as "requestId" to every Lambda, so the
# logs of all functions of one execution share one correlation id.
correlation_id_path = "requestId"


def record_analysis_metrics(metrics, output: dict) -> dict:
    """One metric per analysis, named after it, counting what it found (faces, labels, words...)."""
    from aws_lambda_powertools.metrics import MetricUnit

    summary = output.get("summary", {})
    metrics.add_metric(name=f"{output['type'].capitalize()}Analyses", unit=MetricUnit.Count, value=1)
    found = summary.get("count")
    if isinstance(found, (int, float)):
        metrics.add_metric(name=f"{output['type'].capitalize()}Found", unit=MetricUnit.Count, value=found)
    return output

# The batch state machine passes its whole state as "batch"; its correlation id is the batch id, which
# is also the prefix of every child execution's name (= request id) in the batch.
batch_correlation_id_path = "batch.batchId"


# A Lambda that fails before it adds a metric flushes none, and Powertools then warns (a UserWarning
# with a source line) on every failed invocation: noise in the logs and in the local stack's output.
import warnings as _warnings  # noqa: E402

_warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
