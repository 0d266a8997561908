"""Lambda: POST /uploads returns a presigned S3 POST for one image under the images bucket's uploads/ prefix."""

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from create_upload_url.uploads import UploadRequestError, UploadSettings, create_upload, parse_body
from rekoflow_common.config import env_int, env_str

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()

# SigV4 is required for KMS-encrypted buckets.
S3 = boto3.client("s3", config=Config(signature_version="s3v4"))
SETTINGS = UploadSettings(
    bucket=env_str("IMAGES_BUCKET"),
    prefix=env_str("UPLOADS_PREFIX", "uploads/"),
    expiry_s=env_int("UPLOAD_URL_EXPIRY_S", 300, minimum=1),
)


@app.post("/uploads")
def post_upload() -> Response:
    upload = create_upload(S3, parse_body(app.current_event.body), SETTINGS)
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=upload, headers={"Cache-Control": "no-store"}
    )


@app.exception_handler(UploadRequestError)
def bad_upload_request(error: UploadRequestError) -> Response:
    return Response(
        status_code=400,
        content_type=content_types.APPLICATION_JSON,
        body={"error": "UploadRequestError", "message": str(error)},
        headers={"Cache-Control": "no-store"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
