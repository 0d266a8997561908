"""Lambda: StartProjectVersion, once per model however many requests find it stopped (the start claim, ADR-19)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import dynamodb_client, rekognition_client
from rekoflow_common.config import env_str
from rekoflow_common.model_leases import LeaseTable
from rekoflow_common.model_versions import start
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_step

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REKOGNITION = rekognition_client()
LEASES = LeaseTable(dynamodb_client(), env_str("RESULTS_TABLE"))


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_step(
        logger,
        metrics,
        "CustomLabelsModelStarted",
        start(REKOGNITION, LEASES, event),
        counted=lambda result: result["started"],
    )
