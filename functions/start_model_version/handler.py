"""Lambda: StartProjectVersion, once per model however many requests find it stopped (the start claim, ADR-19)."""

from rekoflow_common.handlers import model_lifecycle_lambda
from rekoflow_common.model_versions import start

# The Powertools decorators and the clients: rekoflow_common/handlers.py. Counts real starts only.
lambda_handler = model_lifecycle_lambda(start, metric="CustomLabelsModelStarted", counts=lambda result: result["started"])
