"""Lambda: aggregate the analyses of one request into its DynamoDB record (stored by the next state)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from aggregate_results.aggregate import aggregate
from rekoflow_common.config import env_int
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_count

logger = Logger()
tracer = Tracer()
metrics = Metrics()

RECORD_TTL_DAYS = env_int("RECORD_TTL_DAYS", 0)


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_count(metrics, "AnalysisRequestsSucceeded", aggregate(event, RECORD_TTL_DAYS))
