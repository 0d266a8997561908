"""Lambda: count a batch run's results (ResultWriter files or image records) and store its BATCH record."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import dynamodb_client, s3_client
from rekoflow_common.config import env_str
from rekoflow_common.observability import BATCH_CORRELATION_PATH
from summarize_batch.summary import record_batch_metrics, summarize

logger = Logger()
tracer = Tracer()
metrics = Metrics()

S3 = s3_client()
DYNAMODB = dynamodb_client()
TABLE = env_str("RESULTS_TABLE")


@logger.inject_lambda_context(correlation_id_path=BATCH_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_batch_metrics(logger, metrics, summarize(S3, DYNAMODB, TABLE, event))
