"""The handlers of the analysis and model-lifecycle Lambdas: the Powertools decorator stack around one call.

Clients and configuration are created once per cold start, when the handler module is imported.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from rekoflow_common.clients import rekognition_client, s3_client
from rekoflow_common.config import ResultsLocation
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
    """A Lambda that makes one Rekognition call for the state machine (e.g. start a model version)."""
    logger = Logger()
    tracer = Tracer()
    metrics = Metrics()
    rekognition = rekognition_client()

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        result = step(rekognition, event)
        logger.info(metric, extra={"project_version": result.get("projectVersionArn"), "status": result.get("status")})
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        return result

    return lambda_handler
