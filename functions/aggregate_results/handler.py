"""Lambda: aggregate the analyses of one request into its DynamoDB record (stored by the next state)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aggregate_results.aggregate import aggregate
from rekoflow_common.config import env_int
from rekoflow_common.observability import correlation_id_path

logger = Logger()
tracer = Tracer()
metrics = Metrics()

RECORD_TTL_DAYS = env_int("RECORD_TTL_DAYS", 0)


@logger.inject_lambda_context(correlation_id_path=correlation_id_path)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    metrics.add_metric(name="AnalysisRequestsSucceeded", unit=MetricUnit.Count, value=1)
    return aggregate(event, RECORD_TTL_DAYS)
