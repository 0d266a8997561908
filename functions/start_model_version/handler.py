"""Lambda: StartProjectVersion: start a trained Custom Labels model (billing starts when it is RUNNING)."""

from rekoflow_common.handlers import rekognition_step_lambda
from rekoflow_common.model_versions import start

# The Powertools Logger, Tracer and Metrics decorators and the client: rekoflow_common/handlers.py.
lambda_handler = rekognition_step_lambda(start, metric="CustomLabelsModelStarted")
