"""Lambda: release a request's lease on a Custom Labels model version after detection (ADR-19)."""

from rekoflow_common.handlers import model_lease_lambda
from rekoflow_common.model_leases import release_lease

# The Powertools decorators and the DynamoDB client: rekoflow_common/handlers.py.
lambda_handler = model_lease_lambda(release_lease, metric="CustomLabelsLeasesReleased", counts=lambda result: result["released"])
