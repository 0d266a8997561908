"""Lambda: Rekognition CompareFaces for one planned analysis; full response to S3, summary to the state machine."""

from compare_faces.compare import compare_faces
from rekoflow_common.handlers import analysis_lambda

# The Powertools Logger, Tracer and Metrics decorators and the clients: rekoflow_common/handlers.py.
lambda_handler = analysis_lambda(compare_faces)
