"""Lambda: acquire (or renew) a request's lease on a Custom Labels model version (docs/architecture.md, ADR-19)."""

from rekoflow_common.handlers import model_lease_lambda
from rekoflow_common.model_leases import acquire_lease

# The Powertools decorators and the DynamoDB client: rekoflow_common/handlers.py.
lambda_handler = model_lease_lambda(acquire_lease, metric="CustomLabelsLeasesGranted", counts=lambda result: result["granted"])
