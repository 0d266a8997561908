"""Lambda: prepare Custom Labels training data (project created when missing, TRAIN/TEST datasets from manifests)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from custom_labels_project.project import prepare
from rekoflow_common.clients import rekognition_client
from rekoflow_common.observability import TRAINING_CORRELATION_PATH, record_count

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()


@logger.inject_lambda_context(correlation_id_path=TRAINING_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_count(
        metrics,
        "CustomLabelsDatasetsPrepared",
        prepare(REKOGNITION, event, lambda: context.get_remaining_time_in_millis() / 1000),
    )
