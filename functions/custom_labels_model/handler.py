"""Lambda: one step of a Custom Labels model's lifecycle (describe, start or stop a project version)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from custom_labels_model.model import handle
from rekoflow_common.clients import rekognition_client
from rekoflow_common.observability import correlation_id_path

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()


@logger.inject_lambda_context(correlation_id_path=correlation_id_path)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    result = handle(REKOGNITION, event)
    logger.info("custom labels model", extra={"action": event.get("action"), "status": result.get("status")})
    metrics.add_metric(name=f"CustomLabels{str(event.get('action', '')).capitalize()}", unit=MetricUnit.Count, value=1)
    return result
