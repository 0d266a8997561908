"""Lambda: validate an analysis request and plan its analyses."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import s3_client
from rekoflow_common.config import env_int
from rekoflow_common.images import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE_PX, MIN_IMAGE_SIDE_PX, ImageLimits
from rekoflow_common.observability import REQUEST_CORRELATION_PATH, record_count
from validate_request.validation import build_plan

logger = Logger()
tracer = Tracer()
metrics = Metrics()

S3 = s3_client()
LIMITS = ImageLimits(
    max_bytes=env_int("MAX_IMAGE_BYTES", MAX_IMAGE_BYTES, minimum=1),
    min_side_px=env_int("MIN_IMAGE_SIDE_PX", MIN_IMAGE_SIDE_PX, minimum=1),
    max_side_px=env_int("MAX_IMAGE_SIDE_PX", MAX_IMAGE_SIDE_PX, minimum=1),
)


@logger.inject_lambda_context(correlation_id_path=REQUEST_CORRELATION_PATH)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return record_count(
        metrics,
        "AnalysesPlanned",
        build_plan(S3, event["request"], event["requestId"], LIMITS),
        count=lambda plan: len(plan["analyses"]),
    )
