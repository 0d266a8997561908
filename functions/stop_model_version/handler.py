"""Lambda: StopProjectVersion when the model is starting or running; nothing otherwise (safe on every path)."""

from rekoflow_common.handlers import rekognition_step_lambda
from rekoflow_common.model_versions import stop

# The Powertools Logger, Tracer and Metrics decorators and the client: rekoflow_common/handlers.py.
lambda_handler = rekognition_step_lambda(stop, metric="CustomLabelsModelStopped")
