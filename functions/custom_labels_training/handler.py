"""Lambda: start training a Custom Labels model version (CreateProjectVersion); the state machine polls it."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from custom_labels_training.training import start_training
from rekoflow_common.clients import rekognition_client
from rekoflow_common.config import ResultsLocation
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_count

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()
RESULTS = ResultsLocation.from_env()


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_count(metrics, "CustomLabelsTrainingStarted", start_training(REKOGNITION, RESULTS, event))
