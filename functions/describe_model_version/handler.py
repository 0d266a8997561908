"""Lambda: DescribeProjectVersions for one Custom Labels model version: status, F1, evaluation (a poll step)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import rekognition_client
from rekoflow_common.model_versions import describe
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_step

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_step(logger, metrics, "CustomLabelsModelDescribed", describe(REKOGNITION, event))
