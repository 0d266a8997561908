"""Lambda: the sweep's step: model versions in use whose idle watcher is gone, each claimed for a new one (ADR-19)."""

from rekoflow_common.handlers import model_lease_lambda
from rekoflow_common.model_leases import find_unwatched

# The Powertools decorators and the DynamoDB client: rekoflow_common/handlers.py.
lambda_handler = model_lease_lambda(find_unwatched, metric="CustomLabelsWatchersRestarted", counts=lambda result: bool(result["models"]))
