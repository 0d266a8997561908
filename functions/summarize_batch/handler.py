"""Lambda: count a batch run's results (ResultWriter files or image records) and store its BATCH record."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import dynamodb_client, s3_client
from rekoflow_common.config import env_str
from rekoflow_common.observability import batch_correlation_id_path
from summarize_batch.summary import summarize

logger = Logger()
tracer = Tracer()
metrics = Metrics()

S3 = s3_client()
DYNAMODB = dynamodb_client()
TABLE = env_str("RESULTS_TABLE")


@logger.inject_lambda_context(correlation_id_path=batch_correlation_id_path)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    summary = summarize(S3, DYNAMODB, TABLE, event)
    metrics.add_metric(name="BatchesSucceeded" if summary["status"] == "SUCCEEDED" else "BatchesFailed", unit=MetricUnit.Count, value=1)
    for name in ("succeeded", "failed", "cached", "skipped"):
        metrics.add_metric(name=f"BatchImages{name.capitalize()}", unit=MetricUnit.Count, value=summary[name])
    logger.info("batch summarized", extra={k: summary[k] for k in ("batchId", "status", "total", "succeeded", "failed", "cached", "skipped", "durationSeconds")})
    return summary
