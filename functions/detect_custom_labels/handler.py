"""Lambda: Rekognition DetectCustomLabels with a running model version; full response to S3, summary to the state machine."""

from detect_custom_labels.custom import detect_custom_labels
from rekoflow_common.handlers import analysis_lambda

# The Powertools Logger, Tracer and Metrics decorators and the clients: rekoflow_common/handlers.py.
lambda_handler = analysis_lambda(detect_custom_labels)
