"""The REST API as ``terraform/api/api.json`` declares it (docs/architecture.md, ADR-15), created in the
local stack's API Gateway through the API Gateway API itself, as Terraform creates it on AWS.

Templates are files beside the declaration, rendered like ``templatefile()`` (``rekoflow.asl.render``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rekoflow import asl
from rekoflow.paths import project_root, read_request_schema


def api_dir() -> Path:
    return project_root() / "terraform" / "api"


@functools.cache
def _declaration(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def declaration() -> dict[str, Any]:
    return _declaration(str(api_dir() / "api.json"))


def template(name: str, variables: Mapping[str, str]) -> str:
    """A template file rendered with ``variables`` (only ``${name}`` placeholders, as templatefile())."""
    return asl.render((api_dir() / name).read_text(), variables)


def model_schema(name: str) -> dict[str, Any]:
    """A model's JSON Schema, as terraform/locals.tf gives it to API Gateway (draft-04, no ``$id``)."""
    schemas = {"analysis_request": read_request_schema}
    schema = schemas[name]()
    schema = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "id")}
    return {**schema, "$schema": "http://json-schema.org/draft-04/schema#"}


def create(
    apigateway: Any,
    name: str,
    stage: str,
    variables: Mapping[str, str],
    function_arns: Mapping[str, str],
    region: str,
    stage_variables: Mapping[str, str] | None = None,
    authorization: str = "AWS_IAM",
) -> str:
    """Create the declared API with ``apigateway`` (a boto3 client); return its id."""
    api = declaration()
    api_id = apigateway.create_rest_api(
        name=name, description="rekoflow (local stack)", endpointConfiguration={"types": ["REGIONAL"]}
    )["id"]
    root = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    for model_name, model in api["models"].items():
        apigateway.create_model(
            restApiId=api_id,
            name=model_name,
            description=model["description"],
            contentType="application/json",
            schema=json.dumps(model_schema(model["schema"])),
        )
    validators = {
        name: apigateway.create_request_validator(
            restApiId=api_id, name=name, validateRequestBody=spec["body"], validateRequestParameters=spec["parameters"]
        )["id"]
        for name, spec in api["validators"].items()
    }
    resources: dict[str, str] = {}
    for key, spec in sorted(api["resources"].items(), key=lambda item: item[1]["parent"] != ""):
        parent = root if spec["parent"] == "" else resources[spec["parent"]]
        resources[key] = apigateway.create_resource(restApiId=api_id, parentId=parent, pathPart=spec["path_part"])["id"]
    for spec in api["methods"].values():
        resource_id = resources[spec["resource"]]
        http_method = spec["http_method"]
        apigateway.put_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=http_method,
            authorizationType=authorization,
            requestValidatorId=validators[spec["validator"]],
            requestModels=spec["request_models"],
            requestParameters=spec["request_parameters"],
        )
        integration = spec["integration"]
        if integration["type"] == "AWS_PROXY":
            function_arn = function_arns[integration["function"]]
            uri = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
            apigateway.put_integration(
                restApiId=api_id,
                resourceId=resource_id,
                httpMethod=http_method,
                type="AWS_PROXY",
                integrationHttpMethod="POST",
                uri=uri,
            )
        else:
            apigateway.put_integration(
                restApiId=api_id,
                resourceId=resource_id,
                httpMethod=http_method,
                type=integration["type"],
                integrationHttpMethod="POST",
                uri=f"arn:aws:apigateway:{region}:{integration['action']}",
                passthroughBehavior=integration.get("passthrough_behavior", "WHEN_NO_MATCH"),
                requestTemplates={
                    t: template(f, variables) for t, f in integration.get("request_templates", {}).items()
                },
            )
        for status in spec["method_responses"]:
            apigateway.put_method_response(
                restApiId=api_id, resourceId=resource_id, httpMethod=http_method, statusCode=status
            )
        for status, response in spec["integration_responses"].items():
            arguments = {"selectionPattern": response["selection_pattern"]} if response["selection_pattern"] else {}
            apigateway.put_integration_response(
                restApiId=api_id,
                resourceId=resource_id,
                httpMethod=http_method,
                statusCode=status,
                responseTemplates={t: template(f, variables) for t, f in response["templates"].items()},
                **arguments,
            )
    for response_type, response in api["gateway_responses"].items():
        apigateway.put_gateway_response(
            restApiId=api_id,
            responseType=response_type,
            statusCode=response["status_code"],
            responseTemplates=response["templates"],
        )
    deployment = apigateway.create_deployment(restApiId=api_id, description="rekoflow local stack")["id"]
    apigateway.create_stage(
        restApiId=api_id, stageName=stage, deploymentId=deployment, variables=dict(stage_variables or {})
    )
    return api_id
