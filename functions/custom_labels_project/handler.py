"""Lambda: prepare Custom Labels training data (project created when missing, TRAIN/TEST datasets from manifests)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from custom_labels_project.project import prepare
from rekoflow_common.clients import rekognition_client

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()


# Started by an analysis the input carries its request id; started directly, the execution name stands in.
@logger.inject_lambda_context(correlation_id_path="request.requestId || executionName")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    metrics.add_metric(name="CustomLabelsDatasetsPrepared", unit=MetricUnit.Count, value=1)
    return prepare(REKOGNITION, event, lambda: context.get_remaining_time_in_millis() / 1000)
