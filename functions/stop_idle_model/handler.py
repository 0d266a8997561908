"""Lambda: one check of the idle watcher.

StopProjectVersion once no lease is held and the model has idled idleStopSeconds (ADR-19).
"""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import dynamodb_client, rekognition_client
from rekoflow_common.config import env_str
from rekoflow_common.model_leases import LeaseTable
from rekoflow_common.model_versions import stop_if_idle
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
        "CustomLabelsModelStopped",
        stop_if_idle(REKOGNITION, LEASES, event),
        counted=lambda result: result["action"] == "stopped",
    )
