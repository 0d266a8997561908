"""Lambda: check a batch run's input before anything is listed (batch id length and characters)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.observability import BATCH_CORRELATION_PATH
from validate_batch.batch_input import check_batch

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path=BATCH_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return check_batch(event.get("batch") or {})
