"""Lambda: start training a Custom Labels model version (CreateProjectVersion); the state machine polls it."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from custom_labels_training.training import start_training
from rekoflow_common.clients import rekognition_client
from rekoflow_common.config import ResultsLocation
from rekoflow_common.observability import correlation_id_path

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()
RESULTS = ResultsLocation.from_env()


@logger.inject_lambda_context(correlation_id_path=correlation_id_path)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    metrics.add_metric(name="CustomLabelsTrainingStarted", unit=MetricUnit.Count, value=1)
    return start_training(REKOGNITION, RESULTS, event)
