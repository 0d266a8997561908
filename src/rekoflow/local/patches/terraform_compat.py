"""The APIs the Terraform AWS provider (5.x) calls that moto's server lacks or answers differently.

Used by ``make tf-local`` (Terraform applies into the local stack). Tested in
``tests/local/test_moto_server_patches.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install


def _sfn_list_state_machine_versions(self: Any) -> Any:
    """``ListStateMachineVersions`` for moto's Step Functions server (moto has the model, not the route)."""
    from moto.core.responses import ActionResult

    arn = self._get_param("stateMachineArn")
    state_machine = self.stepfunction_backend.describe_state_machine(arn)
    versions = sorted(getattr(state_machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    return ActionResult(
        {"stateMachineVersions": [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]}
    )


def _sfn_validate_state_machine_definition(self: Any) -> Any:
    """``ValidateStateMachineDefinition``: OK for a JSON object with ``StartAt`` and ``States``, else FAIL."""
    from moto.core.responses import ActionResult

    definition = self._get_param("definition") or ""
    diagnostics = []
    try:
        parsed = json.loads(definition)
        if not isinstance(parsed, dict) or "StartAt" not in parsed or "States" not in parsed:
            diagnostics.append(
                {
                    "severity": "ERROR",
                    "code": "SCHEMA_VALIDATION_FAILED",
                    "message": "definition must be an object with StartAt and States",
                    "location": "/",
                }
            )
    except ValueError as error:
        diagnostics.append(
            {"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": str(error), "location": "/"}
        )
    return ActionResult({"result": "FAIL" if diagnostics else "OK", "diagnostics": diagnostics, "truncated": False})


def _drop_secure_transport_denials(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy without its ``Deny ... Bool aws:SecureTransport = false`` statements."""

    def insecure_only(statement: dict[str, Any]) -> bool:
        condition = statement.get("Condition") or {}
        value = (condition.get("Bool") or {}).get("aws:SecureTransport")
        values = value if isinstance(value, list) else [value]
        return statement.get("Effect") == "Deny" and [str(v).lower() for v in values] == ["false"]

    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return {**policy, "Statement": [st for st in statements if not insecure_only(st)]}


def _s3_bucket_get_permission(self: Any, action: str, resource: str) -> Any:
    """``FakeBucket.get_permission`` that treats every request as arriving over TLS."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    raw = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
    policy = _drop_secure_transport_denials(json.loads(raw))
    if not policy["Statement"]:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


# Names of functions whose CreateFunction a client sent again after it had succeeded (see below).
REPLAYED_CREATES: list[str] = []


def _same_function_request(existing: Any, spec: dict[str, Any]) -> bool:
    """True when ``spec`` would create exactly ``existing``, and nothing changed it since."""
    from moto.awslambda.models import _zipfile_content

    zip_file = (spec.get("Code") or {}).get("ZipFile")
    if not zip_file or existing.code_or_config_updated or existing.code.get("ZipFile") is None:
        return False
    return (
        _zipfile_content(zip_file)[2] == existing.code_sha_256
        and spec.get("Role") == existing.role
        and spec.get("Handler") == existing.handler
        and spec.get("Runtime") == existing.run_time
        and (spec.get("Environment") or {}).get("Variables", {}) == existing.environment_vars
        and spec.get("Layers", []) == [layer["Arn"] for layer in existing.layers]
    )


def _lambda_create_function_replayable(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create_function(self: Any) -> Any:
        from moto.awslambda.exceptions import UnknownFunctionException

        name = self.json_body["FunctionName"].rsplit(":", 1)[-1]
        try:
            existing = self.backend.get_function(name, None)
        except UnknownFunctionException:
            return original(self)
        if not _same_function_request(existing, self.json_body):
            return original(self)  # ResourceConflictException, as AWS answers
        REPLAYED_CREATES.append(name)
        return 201, {"status": 201}, json.dumps(existing.get_configuration(on_create=True))

    return create_function


def install_terraform_compat() -> Undo:
    """Fill the gaps between moto's server and what the Terraform AWS provider (5.x) calls.

    - Step Functions ``ListStateMachineVersions``: the provider lists versions after creating
      ``aws_sfn_state_machine``; moto has no route for it and answers HTTP 500, which the provider
      retries for ~50 minutes. The patch adds the route, answering from moto's own version list
      (empty unless the machine was published).
    - Step Functions ``ValidateStateMachineDefinition``: the provider validates the definition
      before creating/updating the machine; moto lacks it (HTTP 500, retried). The patch answers OK
      for a JSON object with StartAt/States and FAIL with a diagnostic otherwise.
    - S3 bucket policies: moto evaluates only ``StringEquals`` conditions and treats any other
      condition as matching, so the TLS-only statement (``Deny s3:* if aws:SecureTransport is
      false``) denies every request, including the Lambdas' and the test's uploads. The emulator
      stands in for AWS's HTTPS endpoints, so the patch evaluates bucket policies as for a request
      over TLS: those Deny statements are left out; every other statement is evaluated as before.
    - Lambda ``CreateFunction`` sent again, identical, for a function it already created: when the
      answer to the first request is lost (a 5xx or a dropped connection under load), the SDK
      retries, moto answers ``ResourceConflictException``, and the provider retries *that* for its
      whole propagation timeout (about 5 minutes) while holding the lock that serialises every
      function upload, then fails the apply. The patch answers such a replay with the function it
      created (noted in ``REPLAYED_CREATES``); any other create of an existing name still conflicts.

    Returns a function that undoes every patch.
    """

    def apply(patcher: Patcher) -> None:
        from moto.awslambda.responses import LambdaResponse
        from moto.s3.models import FakeBucket
        from moto.stepfunctions.responses import StepFunctionResponse

        patcher.set(StepFunctionResponse, "list_state_machine_versions", _sfn_list_state_machine_versions)
        patcher.set(StepFunctionResponse, "validate_state_machine_definition", _sfn_validate_state_machine_definition)
        patcher.set(FakeBucket, "get_permission", _s3_bucket_get_permission)
        patcher.set(
            LambdaResponse, "create_function", _lambda_create_function_replayable(LambdaResponse.create_function)
        )

    return install(apply)
