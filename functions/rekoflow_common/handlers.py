"""The handlers of the analysis and model-lifecycle Lambdas: the Powertools decorator stack around one call.

Clients and configuration are created once per cold start, when the handler module is imported.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import dynamodb_client, rekognition_client, s3_client
from rekoflow_common.config import ResultsLocation, env_str
from rekoflow_common.model_leases import LeaseTable
from rekoflow_common.observability import correlation_id_path, record_analysis_metrics

AnalyzeFn = Callable[[Any, Any, ResultsLocation, Mapping[str, Any]], dict]


def analysis_lambda(analyze: AnalyzeFn) -> Callable[[dict, LambdaContext], dict]:
    logger = Logger()
    tracer = Tracer()
    metrics = Metrics()
    rekognition = rekognition_client()
    s3 = s3_client()
    results = ResultsLocation.from_env()

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        return record_analysis_metrics(metrics, analyze(rekognition, s3, results, event))

    return lambda_handler


StepFn = Callable[[Any, Mapping[str, Any]], dict]


def rekognition_step_lambda(step: StepFn, metric: str) -> Callable[[dict, LambdaContext], dict]:
    """A Lambda that makes one Rekognition call for the state machine (e.g. describe a model version)."""
    rekognition = rekognition_client()
    return _step_handler(lambda event: step(rekognition, event), metric)


Counts = Callable[[Mapping[str, Any]], bool]


def model_lease_lambda(step: Callable[[LeaseTable, Mapping[str, Any]], dict], metric: str, counts: Counts = lambda result: True) -> Callable[[dict, LambdaContext], dict]:
    """A Lambda that changes model lease items (docs/architecture.md, ADR-19); ``metric`` counts the results ``counts`` accepts."""
    leases = LeaseTable(dynamodb_client(), env_str("RESULTS_TABLE"))
    return _step_handler(lambda event: step(leases, event), metric, counts)


def model_lifecycle_lambda(step: Callable[[Any, LeaseTable, Mapping[str, Any]], dict], metric: str, counts: Counts = lambda result: True) -> Callable[[dict, LambdaContext], dict]:
    """A Lambda that starts or stops a model version through its lease item (ADR-19)."""
    rekognition = rekognition_client()
    leases = LeaseTable(dynamodb_client(), env_str("RESULTS_TABLE"))
    return _step_handler(lambda event: step(rekognition, leases, event), metric, counts)


_LOGGED = ("projectVersionArn", "holder", "status", "action", "reason", "granted", "started", "released")


def _step_handler(call: Callable[[Mapping[str, Any]], dict], metric: str, counts: Counts = lambda result: True) -> Callable[[dict, LambdaContext], dict]:
    logger = Logger()
    tracer = Tracer()
    metrics = Metrics()

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        result = call(event)
        logger.info(metric, extra={k: result[k] for k in _LOGGED if k in result})
        # 0 when the step did nothing worth counting (a start left to another request, a watcher's wait).
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1 if counts(result) else 0)
        return result

    return lambda_handler
