"""Lambda: store a FAILED record (error, readable cause, request) before the execution fails."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from record_failure.failure import record_failure
from rekoflow_common.clients import dynamodb_client
from rekoflow_common.config import env_str
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_count

logger = Logger()
tracer = Tracer()
metrics = Metrics()

DYNAMODB = dynamodb_client()
TABLE = env_str("RESULTS_TABLE")


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_count(metrics, "AnalysisRequestsFailed", record_failure(DYNAMODB, TABLE, event))
