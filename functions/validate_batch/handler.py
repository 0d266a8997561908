"""Lambda: check a batch run's input before anything is listed (batch id length and characters)."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.observability import batch_correlation_id_path
from validate_batch.batch_input import check_batch

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path=batch_correlation_id_path)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return check_batch(event.get("batch") or {})
