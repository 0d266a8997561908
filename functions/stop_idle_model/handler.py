"""Lambda: one check of the idle watcher: StopProjectVersion once no lease is held and the model has idled idleStopSeconds (ADR-19)."""

from rekoflow_common.handlers import model_lifecycle_lambda
from rekoflow_common.model_versions import stop_if_idle

# The Powertools decorators and the clients: rekoflow_common/handlers.py. Counts real stops only.
lambda_handler = model_lifecycle_lambda(stop_if_idle, metric="CustomLabelsModelStopped", counts=lambda result: result["action"] == "stopped")
