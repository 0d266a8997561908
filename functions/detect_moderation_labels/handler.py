"""Lambda: Rekognition DetectModerationLabels for one planned analysis.

Full response to S3, summary to the state machine.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from detect_moderation_labels.moderation import detect_moderation_labels
from rekoflow_common.clients import rekognition_client, s3_client
from rekoflow_common.config import ResultsLocation
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_analysis_metrics

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()
S3 = s3_client()
RESULTS = ResultsLocation.from_env()


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_analysis_metrics(metrics, detect_moderation_labels(REKOGNITION, S3, RESULTS, event))
