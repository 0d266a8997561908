"""Lambda: POST /uploads returns a presigned S3 PUT URL under the images bucket's uploads/ prefix."""

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from create_upload_url.uploads import UploadSettings, handle
from rekoflow_common.config import env_int, env_str

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# SigV4 is required for KMS-encrypted buckets; the regional virtual-host endpoint keeps URLs valid right after bucket creation.
S3 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
SETTINGS = UploadSettings(
    bucket=env_str("IMAGES_BUCKET"),
    prefix=env_str("UPLOADS_PREFIX", "uploads/"),
    expiry_s=env_int("UPLOAD_URL_EXPIRY_S", 300, minimum=1),
)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle(S3, event, SETTINGS)
