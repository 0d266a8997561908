"""Lambda: an S3 "Object Created" event (EventBridge rule on the trigger prefix) starts one image analysis."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import stepfunctions_client
from rekoflow_common.config import env_str
from start_upload_analysis.uploads import TriggerSettings, parse_analyses, record_upload, start_analysis

logger = Logger()
tracer = Tracer()
metrics = Metrics()

SFN = stepfunctions_client()
SETTINGS = TriggerSettings(
    state_machine_arn=env_str("IMAGE_ANALYSIS_STATE_MACHINE_ARN"),
    analyses=parse_analyses(env_str("TRIGGER_ANALYSES", "labels,faces,text")),
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_upload(logger, metrics, start_analysis(SFN, event, SETTINGS))
