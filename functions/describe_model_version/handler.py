"""Lambda: DescribeProjectVersions for one Custom Labels model version: status, F1, evaluation (a poll step)."""

from rekoflow_common.handlers import rekognition_step_lambda
from rekoflow_common.model_versions import describe

# The Powertools Logger, Tracer and Metrics decorators and the client: rekoflow_common/handlers.py.
lambda_handler = rekognition_step_lambda(describe, metric="CustomLabelsModelDescribed")
