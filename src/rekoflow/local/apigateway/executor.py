"""The local API Gateway: executes the REST APIs in the stack's API Gateway (moto keeps their definitions,
this runs them) at ``/restapis/<api id>/<stage>/_user_request_/<path>``, LocalStack's URL form.

What runs is what the API declares, whoever created it (the stack from terraform/api/api.json, or
Terraform itself in ``make tf-local``): resources and path parameters, methods, ``AWS_IAM`` (SigV4)
or no authorisation, request validators with their models (JSON Schema draft-04) and required
parameters, integrations (``AWS`` service actions over the AWS JSON protocols, ``AWS_PROXY``
Lambda, ``MOCK``) with their request templates and passthrough behaviour, integration responses
chosen by selection pattern with their templates and response parameters, gateway responses with
API Gateway's default types, statuses and messages. Not emulated: usage plans and API keys,
authorizers other than IAM, caching, throttling, resource policies, ``HTTP`` integrations and
binary media types.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from rekoflow.local.apigateway import schema_messages, sigv4, vtl

PATH = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")

# API Gateway's gateway response types used here: status and default message.
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "INVALID_SIGNATURE": (403, None),
    "UNAUTHORIZED": (403, None),
    "ACCESS_DENIED": (403, None),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, None),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "INTEGRATION_FAILURE": (500, "Internal server error"),
    "DEFAULT_5XX": (500, "Internal server error"),
}


@dataclass
class Request:
    method: str
    path: str  # the path under the stage, e.g. /analyses/req-1
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    url: str  # as the client addressed it (for the signature)
    source_ip: str = "127.0.0.1"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class GatewayError(Exception):
    def __init__(
        self, response_type: str, message: str | None = None, error_type: str = "", validation: str = ""
    ) -> None:
        super().__init__(message or response_type)
        self.response_type = response_type
        self.message = (
            message or GATEWAY_RESPONSES.get(response_type, (500, "Internal server error"))[1] or response_type
        )
        self.error_type = error_type
        self.validation = validation


class ApiExecutor:
    """Runs one request against the API Gateway definitions in moto's backend (account/region of the stack)."""

    def __init__(
        self,
        account_id: str,
        region: str,
        service_endpoint: str,
        credentials: Mapping[str, str],
        invoke_lambda: Callable[[str, bytes], tuple[bytes, bool]],
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.service_endpoint = service_endpoint
        self.credentials = dict(credentials)
        self.invoke_lambda = invoke_lambda
        self.log = log or (lambda line: None)

    # ----- entry point ------------------------------------------------------------------------------
    def handle(self, api_id: str, stage_name: str, request: Request) -> Response:
        from moto.apigateway.models import apigateway_backends

        request_id = str(uuid.uuid4())
        backend = apigateway_backends[self.account_id][self.region]
        api = backend.apis.get(api_id)
        stage = api.stages.get(stage_name) if api is not None else None
        context = self._context(api_id, stage_name, request, request_id)
        try:
            if api is None or stage is None:
                raise GatewayError("MISSING_AUTHENTICATION_TOKEN")
            resource, path_parameters = self._match(api, request.path)
            method = (
                resource.resource_methods.get(request.method) or resource.resource_methods.get("ANY")
                if resource
                else None
            )
            if method is None:
                raise GatewayError("MISSING_AUTHENTICATION_TOKEN")
            context["resourceId"] = resource.id
            context["resourcePath"] = resource.get_path()
            if method.authorization_type == "AWS_IAM":
                caller = sigv4.verify(
                    request.method, request.url, request.headers, request.body, self.credentials, self.region
                )
                if isinstance(caller, sigv4.AuthFailure):
                    raise GatewayError(caller.response_type, caller.message, caller.error_type)
                context["identity"].update(
                    accessKey=caller.access_key,
                    caller=caller.access_key,
                    userArn=f"arn:aws:iam::{self.account_id}:user/{caller.access_key}",
                )
            self._validate(api, method, request, path_parameters)
            stage_variables = dict(stage.variables or {})
            return self._integrate(api, method, request, path_parameters, context, stage_variables)
        except GatewayError as error:
            return self._gateway_response(api, error, context, stage.variables if stage else {})

    # ----- routing ------------------------------------------------------------------------------------
    @staticmethod
    def _match(api: Any, path: str) -> tuple[Any, dict[str, str]]:
        """The most specific resource whose path template matches (literal segments beat parameters)."""
        segments = [unquote(s) for s in path.strip("/").split("/") if s] if path else []
        best: tuple[tuple[int, int], Any, dict[str, str]] | None = None
        for resource in api.resources.values():
            template = [s for s in resource.get_path().strip("/").split("/") if s]
            parameters: dict[str, str] = {}
            literal = 0
            matched = True
            for index, part in enumerate(template):
                if part.startswith("{") and part.endswith("+}"):
                    parameters[part[1:-2]] = "/".join(segments[index:])
                    if index >= len(segments):
                        matched = False
                    break
                if index >= len(segments):
                    matched = False
                    break
                if part.startswith("{") and part.endswith("}"):
                    parameters[part[1:-1]] = segments[index]
                elif part == segments[index]:
                    literal += 1
                else:
                    matched = False
                    break
            else:
                matched = matched and len(template) == len(segments)
            if matched:
                score = (literal, len(template))
                if best is None or score > best[0]:
                    best = (score, resource, parameters)
        if best is None:
            return None, {}
        return best[1], best[2]

    # ----- request validation ---------------------------------------------------------------------------
    def _validate(self, api: Any, method: Any, request: Request, path_parameters: dict[str, str]) -> None:
        validator = api.request_validators.get(method.request_validator_id) if method.request_validator_id else None
        if validator is None:
            return
        if validator.validate_request_parameters:
            missing = []
            lowered_headers = {k.lower() for k in request.headers}
            for name, required in (method.request_parameters or {}).items():
                if not required:
                    continue
                _, _, where, key = name.split(".", 3)
                present = {
                    "path": key in path_parameters and path_parameters[key] != "",
                    "querystring": key in request.query,
                    "header": key.lower() in lowered_headers,
                }.get(where, True)
                if not present:
                    missing.append(key)
            if missing:
                raise GatewayError(
                    "BAD_REQUEST_PARAMETERS",
                    f"Missing required request parameters: [{', '.join(missing)}]",
                    validation=f"Missing required request parameters: [{', '.join(missing)}]",
                )
        if validator.validate_request_body and method.request_models:
            content_type = (
                (request.headers.get("Content-Type") or request.headers.get("content-type") or "application/json")
                .split(";")[0]
                .strip()
            )
            model_name = method.request_models.get(content_type) or method.request_models.get("$default")
            model = next((m for m in api.models.values() if m.name == model_name), None) if model_name else None
            if model is not None and model.schema:
                problems = schema_messages.validate(json.loads(model.schema), request.body)
                if problems:
                    raise GatewayError("BAD_REQUEST_BODY", validation=problems)

    # ----- integrations -----------------------------------------------------------------------------------
    def _integrate(
        self,
        api: Any,
        method: Any,
        request: Request,
        path_parameters: dict[str, str],
        context: dict[str, Any],
        stage_variables: dict[str, str],
    ) -> Response:
        integration = method.method_integration
        if integration is None:
            raise GatewayError("DEFAULT_5XX", "Internal server error")
        text_body = request.body.decode("utf-8", "replace")
        if integration.integration_type == "AWS_PROXY":
            return self._lambda_proxy(integration, request, path_parameters, context, stage_variables, text_body)
        input_ = vtl.Input(text_body, path_parameters, request.query, request.headers)
        content_type = (
            (request.headers.get("Content-Type") or request.headers.get("content-type") or "application/json")
            .split(";")[0]
            .strip()
        )
        templates = integration.request_templates or {}
        template = templates.get(content_type)
        if template is None:
            passthrough = (integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
            if passthrough == "NEVER" or (passthrough == "WHEN_NO_TEMPLATES" and templates):
                raise GatewayError("UNSUPPORTED_MEDIA_TYPE")
            mapped = text_body
        else:
            try:
                mapped = vtl.render(template, input_, context, stage_variables)
            except vtl.TemplateError as error:
                self.log(f"request template of {request.method} {context['resourcePath']} failed: {error}")
                raise GatewayError("DEFAULT_5XX", "Internal server error") from error
        if integration.integration_type == "MOCK":
            try:
                status = int(json.loads(mapped or "{}").get("statusCode", 200))
            except (ValueError, AttributeError):
                status = 200
            backend_headers: dict[str, str] = {}
            backend_status, backend_body = status, b""
        elif integration.integration_type == "AWS":
            backend_status, backend_body, backend_headers = self._aws_service(integration.uri, mapped)
        else:
            self.log(f"integration type {integration.integration_type} is not emulated locally")
            raise GatewayError("DEFAULT_5XX", "Internal server error")
        return self._integration_response(
            method,
            integration,
            backend_status,
            backend_body,
            backend_headers,
            request,
            path_parameters,
            context,
            stage_variables,
        )

    def _aws_service(self, uri: str, body: str) -> tuple[int, bytes, dict[str, str]]:
        """Call an AWS JSON-protocol service action (``arn:aws:apigateway:<region>:<service>:action/<Action>``)."""
        match = re.fullmatch(r"arn:[\w-]+:apigateway:[\w-]+:(?P<service>[\w.-]+):action/(?P<action>\w+)", uri or "")
        if not match:
            self.log(f"integration URI {uri!r} is not an AWS service action")
            raise GatewayError("DEFAULT_5XX", "Internal server error")
        target, content_type = _json_target(match.group("service"), match.group("action"))
        request = urllib.request.Request(
            self.service_endpoint + "/",
            data=body.encode(),
            method="POST",
            headers={
                "X-Amz-Target": target,
                "Content-Type": content_type,
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=apigateway/"
                    f"{time.strftime('%Y%m%d')}/{self.region}/{match.group('service')}/aws4_request"
                ),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=29) as answer:  # noqa: S310 - the stack's own endpoint
                return answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)
        except OSError as error:
            self.log(f"integration call failed: {error}")
            raise GatewayError("INTEGRATION_FAILURE", "Internal server error") from error

    def _integration_response(
        self,
        method: Any,
        integration: Any,
        status: int,
        body: bytes,
        backend_headers: dict[str, str],
        request: Request,
        path_parameters: dict[str, str],
        context: dict[str, Any],
        stage_variables: dict[str, str],
    ) -> Response:
        responses = integration.integration_responses or {}
        chosen = None
        default = None
        for response in responses.values():
            pattern = response.selection_pattern
            if not pattern:
                default = default or response
            elif re.fullmatch(pattern, str(status)):
                chosen = chosen or response
        chosen = chosen or default
        if chosen is None:
            self.log(f"no integration response for status {status} of {request.method} {context['resourcePath']}")
            raise GatewayError("DEFAULT_5XX", "Internal server error")
        text = body.decode("utf-8", "replace")
        templates = chosen.response_templates or {}
        template = templates.get("application/json") if templates else None
        context["integration"] = {"status": status}
        if template:
            try:
                output = vtl.render(
                    template, vtl.Input(text, path_parameters, request.query, request.headers), context, stage_variables
                )
            except vtl.TemplateError as error:
                self.log(f"response template of {request.method} {context['resourcePath']} failed: {error}")
                raise GatewayError("DEFAULT_5XX", "Internal server error") from error
        else:
            output = text
        final_status = vtl.override_status(context) or int(chosen.status_code)
        headers = {"Content-Type": "application/json"}
        for name, source in (chosen.response_parameters or {}).items():
            if not name.startswith("method.response.header."):
                continue
            header = name.removeprefix("method.response.header.")
            if source.startswith("'") and source.endswith("'"):
                headers[header] = source[1:-1]
            elif source.startswith("integration.response.header."):
                wanted = source.removeprefix("integration.response.header.").lower()
                headers[header] = next((v for k, v in backend_headers.items() if k.lower() == wanted), "")
        headers.update((context.get("responseOverride") or {}).get("header") or {})
        return Response(final_status, output.encode(), headers)

    def _lambda_proxy(
        self,
        integration: Any,
        request: Request,
        path_parameters: dict[str, str],
        context: dict[str, Any],
        stage_variables: dict[str, str],
        text_body: str,
    ) -> Response:
        match = re.search(r"functions/(?P<arn>arn:[^/]+)/invocations", integration.uri or "")
        if not match:
            self.log(f"AWS_PROXY URI {integration.uri!r} names no Lambda function")
            raise GatewayError("DEFAULT_5XX", "Internal server error")
        event = {
            "resource": context["resourcePath"],
            "path": request.path,
            "httpMethod": request.method,
            "headers": dict(request.headers),
            "multiValueHeaders": {k: [v] for k, v in request.headers.items()},
            "queryStringParameters": dict(request.query) or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in request.query.items()} or None,
            "pathParameters": dict(path_parameters) or None,
            "stageVariables": dict(stage_variables) or None,
            "requestContext": {
                "resourceId": context["resourceId"],
                "resourcePath": context["resourcePath"],
                "httpMethod": request.method,
                "extendedRequestId": context["extendedRequestId"],
                "requestTime": context["requestTime"],
                "path": context["path"],
                "accountId": self.account_id,
                "protocol": "HTTP/1.1",
                "stage": context["stage"],
                "domainPrefix": context["domainPrefix"],
                "requestTimeEpoch": context["requestTimeEpoch"],
                "requestId": context["requestId"],
                "identity": dict(context["identity"]),
                "domainName": context["domainName"],
                "apiId": context["apiId"],
            },
            "body": text_body or None,
            "isBase64Encoded": False,
        }
        payload, errored = self.invoke_lambda(match.group("arn"), json.dumps(event).encode())
        try:
            answer = json.loads(payload or b"null")
            if errored or not isinstance(answer, dict) or "statusCode" not in answer:
                raise ValueError("not a proxy response")
            status = int(answer["statusCode"])
            body = answer.get("body") or ""
            data = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
            headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
            for name, values in (answer.get("multiValueHeaders") or {}).items():
                headers[str(name)] = ",".join(str(v) for v in values)
            return Response(status, data, headers)
        except (ValueError, TypeError) as error:
            self.log(f"Lambda proxy answer is malformed or an error ({error}): {payload[:500]!r}")
            return Response(
                502,
                json.dumps({"message": "Internal server error"}).encode(),
                {"Content-Type": "application/json", "x-amzn-ErrorType": "InternalServerErrorException"},
            )

    # ----- errors -------------------------------------------------------------------------------------------
    def _gateway_response(
        self, api: Any, error: GatewayError, context: dict[str, Any], stage_variables: dict[str, str]
    ) -> Response:
        status, _ = GATEWAY_RESPONSES.get(error.response_type, (500, None))
        context["error"] = {
            "message": error.message,
            "messageString": json.dumps(error.message),
            "responseType": error.response_type,
            # Escaped as API Gateway does, so that "$context.error.validationErrorString" is a JSON string.
            "validationErrorString": json.dumps(error.validation)[1:-1],
        }
        body = json.dumps({"message": error.message})
        configured = (api.gateway_responses.get(error.response_type) if api is not None else None) or (
            api.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX") if api is not None else None
        )
        if configured is not None:
            status = int(configured.status_code or status)
            template = (configured.response_templates or {}).get("application/json")
            if template:
                body = vtl.substitute(template, context, stage_variables)
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": error.error_type or _error_type(error.response_type),
        }
        return Response(status, body.encode(), headers)

    def _context(self, api_id: str, stage: str, request: Request, request_id: str) -> dict[str, Any]:
        now = datetime.datetime.now(datetime.UTC)
        return {
            "requestId": request_id,
            "extendedRequestId": request_id,
            "apiId": api_id,
            "accountId": self.account_id,
            "stage": stage,
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "httpMethod": request.method,
            "path": f"/restapis/{api_id}/{stage}/_user_request_{request.path}",
            "resourcePath": "",
            "resourceId": "",
            "protocol": "HTTP/1.1",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.headers.get("User-Agent", ""),
                "accessKey": "",
                "caller": "",
                "userArn": "",
            },
            "responseOverride": {"status": None, "header": {}},
        }


def _error_type(response_type: str) -> str:
    return {
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "BAD_REQUEST_BODY": "BadRequestException",
        "BAD_REQUEST_PARAMETERS": "BadRequestException",
        "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
    }.get(response_type, "InternalServerErrorException")


def _json_target(service: str, action: str) -> tuple[str, str]:
    """``X-Amz-Target`` and content type of a JSON-protocol AWS action, from botocore's service model."""
    import botocore.session

    names = {"states": "stepfunctions"}
    model = botocore.session.get_session().get_service_model(names.get(service, service))
    metadata = model.metadata
    if metadata.get("protocol") not in ("json",):
        raise GatewayError("DEFAULT_5XX", f"{service} does not speak the AWS JSON protocol (not emulated)")
    return f"{metadata['targetPrefix']}.{action}", f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"


def parse_query(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True))
