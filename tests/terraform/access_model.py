"""What every role of the stack must be able to do, derived from what the stack *does*.

The sources, none of them the IAM code under test:

- ``functions/manifest.json``: each function's Rekognition actions and flags (``reads_images`` ...),
  read here with their meaning spelled out once (``FLAG_GRANTS``);
- the rendered ASL of each state machine: every ``Resource`` of its Task states, ItemReader and
  ResultWriter (Lambda invoke, DynamoDB and S3 integrations, child executions);
- the rendered API Gateway integrations: the service action behind each ``uri`` and the role in
  ``credentials``;
- the encryption of every resource a role touches: a table (or an index of it) encrypted with a
  customer-managed key means the caller needs KMS on that key, through DynamoDB (DynamoDB calls KMS
  *as the principal accessing the table*); the buckets' AWS-managed ``aws/s3`` key needs nothing
  (its key policy admits every principal of the account through S3);
- what each AWS service documents that it needs for a feature (``SERVICE_NEEDS``): a Distributed
  Map's redrive, ``startExecution.sync`` and its EventBridge rule (for every child machine a Task
  starts, named by its ARN or, for a machine that starts itself, by ``$$.StateMachine.Id``), X-Ray,
  log delivery.

A requirement is one ``(action, resource, condition)`` triple; a policy is exploded into the same
triples, so "the policies grant exactly that" is a set comparison with a readable difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .tfrender import Rendered

Condition = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True, order=True)
class Grant:
    action: str
    resource: str
    condition: Condition = ()

    def __str__(self) -> str:
        cond = "".join(f" if {op} {key} = {list(values)}" for op, key, values in self.condition)
        return f"{self.action} on {self.resource}{cond}"


def _cond(condition: Mapping[str, Mapping[str, Any]] | None) -> Condition:
    out = []
    for op, pairs in (condition or {}).items():
        for key, values in pairs.items():
            values = values if isinstance(values, list) else [values]
            out.append((op, key.lower(), tuple(sorted(str(v) for v in values))))
    return tuple(sorted(out))


def grants_of(policy_json: str) -> set[Grant]:
    """An identity policy exploded into (action, resource, condition) triples; Deny is not expected."""
    policy = json.loads(policy_json)
    out: set[Grant] = set()
    for statement in policy.get("Statement", []):
        assert statement.get("Effect") == "Allow", (
            f"unexpected {statement.get('Effect')} statement in a role policy: {statement}"
        )
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            for resource in resources:
                out.add(Grant(action, resource, _cond(statement.get("Condition"))))
    return out


# --- what each manifest flag means (docs/architecture.md, "IAM") ----------------------------------
# Keyed by flag; each grant is (action, resource template, condition template). Templates use
# {images}, {results} (bucket ARNs), {table} (table ARN) and {prefix:<local>} for the module's prefixes.
FLAG_GRANTS: dict[str, list[tuple[str, str, dict | None]]] = {
    "reads_images": [("s3:GetObject", "{images}/*", None), ("s3:GetObjectVersion", "{images}/*", None)],
    "writes_results": [("s3:PutObject", "{results}/results/*", None)],
    "writes_table": [("dynamodb:PutItem", "{table}", None)],
    "reads_results": [
        ("s3:GetObject", "{results}/batches/*", None),
        ("s3:ListBucket", "{results}", {"StringLike": {"s3:prefix": ["batches/*"]}}),
    ],
    "queries_batch_index": [("dynamodb:Query", "{table}/index/batch-index", None)],
    "writes_uploads": [("s3:PutObject", "{images}/uploads/*", None)],
    # Custom Labels lease items: read, then a conditional put (compare-and-swap, model_leases.py).
    "writes_model_leases": [("dynamodb:GetItem", "{table}", None), ("dynamodb:PutItem", "{table}", None)],
    "queries_model_leases": [("dynamodb:Query", "{table}/index/{lease_index}", None)],
    # The grant behind CreateProjectVersion's output (IMPLIED_BY_ACTION): the need comes from the action.
    "writes_custom_labels_output": [],
    # The upload trigger starts analyses of the image-analysis machine, and only those.
    "starts_image_analysis": [("states:StartExecution", "{image_machine}", None)],
}


def _custom_labels_output_prefix() -> str:
    """Where custom_labels_training asks Rekognition to write (its code is the source)."""
    from custom_labels_training.training import DEFAULT_OUTPUT_PREFIX

    return DEFAULT_OUTPUT_PREFIX


# Actions whose service then reads or writes S3 with the *caller's* permissions (forward access
# sessions): CreateProjectVersion writes the training output to its OutputConfig location.
IMPLIED_BY_ACTION: dict[str, list[tuple[str, Any]]] = {
    "rekognition:CreateProjectVersion": [("s3:PutObject", lambda: "{results}/" + _custom_labels_output_prefix() + "*")],
}


def _lease_index() -> str:
    """The index the sweep queries (its code is the source)."""
    from rekoflow_common.model_leases import LEASE_INDEX

    return LEASE_INDEX


def _validate_batch_prefix() -> str:
    from validate_batch.batch_input import BATCH_RESULTS_PREFIX

    return BATCH_RESULTS_PREFIX


# Prefixes a Lambda computes for the ASL, by the path the ASL reads them from, with the function's
# own constant for their literal start.
COMPUTED_PREFIXES: dict[str, Any] = {"$.locations.resultsPrefix": _validate_batch_prefix}

# The actions DynamoDB calls on a customer-managed table key in the caller's name.
DYNAMODB_KMS_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")

# Condition keys each service principal sets when it assumes a role (its own documentation on
# cross-service confused-deputy prevention); a trust condition on any other key never matches.
ASSUME_ROLE_CONTEXT: dict[str, set[str]] = {
    "states.amazonaws.com": {"aws:sourceaccount", "aws:sourcearn"},
    "scheduler.amazonaws.com": {"aws:sourceaccount", "aws:sourcearn"},
    "lambda.amazonaws.com": set(),
    "apigateway.amazonaws.com": set(),
}

XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
XRAY_SAMPLING = ("xray:GetSamplingRules", "xray:GetSamplingTargets")
# Step Functions' documented statement for logging to CloudWatch Logs (resource "*" only).
SFN_LOG_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)


class Stack:
    """Names and ARNs of the rendered stack, and who is encrypted with what."""

    def __init__(self, rendered: Rendered) -> None:
        self.r = rendered
        self.partition = rendered.partition
        self.region = rendered.region
        self.account = rendered["data.aws_caller_identity.current"]["account_id"]
        self.images = rendered["aws_s3_bucket.images"]["arn"]
        self.results = rendered["aws_s3_bucket.results"]["arn"]
        self.table = rendered["aws_dynamodb_table.results"]
        self.kms_key = rendered["aws_kms_key.this"]["arn"]
        self.functions = {addr.split('"')[1]: v for addr, v in rendered.of_type("aws_lambda_function").items()}
        self.function_by_arn = {v["arn"]: k for k, v in self.functions.items()}
        self.roles = {v["arn"]: (addr, v) for addr, v in rendered.of_type("aws_iam_role").items()}
        self.machines = {v["arn"]: (addr, v) for addr, v in rendered.of_type("aws_sfn_state_machine").items()}

    def table_key(self) -> str | None:
        """The customer-managed key of the results table, or None for an AWS-owned/managed key."""
        sse = (self.table.get("server_side_encryption") or [{}])[0]
        return sse.get("kms_key_arn") if sse.get("enabled") and sse.get("kms_key_arn") else None

    def rekognition_resource(self, action: str) -> str:
        types = required_resource_types(action)
        if not types:
            return "*"
        assert types <= {"project", "projectversion", "dataset"}, f"{action}: resource types {types}"
        return self.arn("rekognition", "project/*")

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def role_policies(self, role_name: str) -> set[Grant]:
        out: set[Grant] = set()
        for policy in self.r.of_type("aws_iam_role_policy").values():
            if policy["role"] == role_name:
                out |= grants_of(policy["policy"])
        return out

    def fill(self, template: str) -> str:
        return template.format(
            images=self.images,
            results=self.results,
            table=self.table["arn"],
            lease_index=_lease_index(),
            image_machine=self.r["aws_sfn_state_machine.image_analysis"]["arn"],
        )

    # --- requirements -----------------------------------------------------------------------
    def table_access(self, actions: Iterable[str], resource: str) -> set[Grant]:
        needs = {Grant(a, resource) for a in actions}
        key = self.table_key()
        if needs and key:
            suffix = self.r["data.aws_partition.current"]["dns_suffix"]
            via = (("StringEquals", "kms:viaservice", (f"dynamodb.{self.region}.{suffix}",)),)
            needs |= {Grant(a, key, via) for a in DYNAMODB_KMS_ACTIONS}
        return needs

    def function_needs(self, name: str, spec: Mapping[str, Any]) -> set[Grant]:
        function = self.functions[name]
        log_group = function["logging_config"][0]["log_group"]
        needs = {
            Grant(a, self.arn("logs", f"log-group:{log_group}:*"))
            for a in ("logs:CreateLogStream", "logs:PutLogEvents")
        }
        if function["tracing_config"][0]["mode"] == "Active":
            needs |= {Grant(a, "*") for a in XRAY}
        # Rekognition: actions with a required resource type (projects, versions, datasets) on this
        # account's projects, the others on "*" (the only Resource they accept).
        needs |= {Grant(a, self.rekognition_resource(a)) for a in spec.get("rekognition_actions", [])}
        for action in spec.get("rekognition_actions", []):
            for implied, resource in IMPLIED_BY_ACTION.get(action, []):
                needs.add(Grant(implied, self.fill(resource())))
        unknown = {k for k, v in spec.items() if v is True} - set(FLAG_GRANTS)
        assert not unknown, f"{name}: the access model does not know the manifest flag(s) {sorted(unknown)}"
        for flag, grants in FLAG_GRANTS.items():
            if not spec.get(flag):
                continue
            for action, resource, condition in grants:
                target = self.fill(resource)
                if action.startswith("dynamodb:"):
                    needs |= self.table_access([action], target)
                else:
                    needs.add(Grant(action, target, _cond(condition)))
        return needs

    def machine_needs(self, address: str, machine: Mapping[str, Any]) -> set[Grant]:
        definition = json.loads(machine["definition"])
        self._definition = definition
        needs: set[Grant] = set()
        if machine["tracing_configuration"][0]["enabled"]:
            needs |= {Grant(a, "*") for a in XRAY + XRAY_SAMPLING}
        if machine["logging_configuration"][0]["level"] != "OFF":
            needs |= {Grant(a, "*") for a in SFN_LOG_DELIVERY}
        self._machine = machine
        for state in iter_states(definition):
            needs |= self.state_needs(state, machine)
        return needs

    def state_needs(self, state: Mapping[str, Any], machine: Mapping[str, Any]) -> set[Grant]:
        needs: set[Grant] = set()
        resources = []
        if state.get("Type") == "Task":
            resources.append((state["Resource"], state.get("Parameters") or {}))
        if state.get("Type") == "Map":
            for part in ("ItemReader", "ResultWriter"):
                if part in state:
                    resources.append((state[part]["Resource"], state[part].get("Parameters") or {}))
            if (state.get("ItemProcessor") or {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
                name = machine["name"]
                # The Map Run's child workflow executions run as executions of this machine; a
                # redrive of the parent redrives them (Step Functions: "Redriving Map Runs").
                needs.add(Grant("states:StartExecution", machine["arn"]))
                needs |= {
                    Grant(a, self.arn("states", f"execution:{name}/*:*"))
                    for a in ("states:DescribeExecution", "states:StopExecution", "states:RedriveExecution")
                }
        for resource, parameters in resources:
            needs |= self.integration_needs(resource, parameters)
        return needs

    def integration_needs(self, resource: str, parameters: Mapping[str, Any]) -> set[Grant]:
        prefix = f"arn:{self.partition}:states:::"
        assert resource.startswith(prefix), f"integration {resource} is not in this partition ({self.partition})"
        service = resource[len(prefix) :]
        if service in ("lambda:invoke", "lambda:invoke.waitForTaskToken"):
            arn = parameters["FunctionName"]
            assert arn in self.function_by_arn, f"{arn} is not a function of this stack"
            return {Grant("lambda:InvokeFunction", arn), Grant("lambda:InvokeFunction", f"{arn}:*")}
        match = re.fullmatch(r"dynamodb:(getItem|putItem|updateItem|deleteItem|query)", service)
        if match:
            table = parameters["TableName"]
            assert table == self.table["name"], f"{service} on unknown table {table}"
            return self.table_access([f"dynamodb:{match.group(1)[0].upper()}{match.group(1)[1:]}"], self.table["arn"])
        if service in ("states:startExecution", "states:startExecution.sync", "states:startExecution.sync:2"):
            if parameters.get("StateMachineArn.$") == "$$.StateMachine.Id":
                child = self._machine["arn"]  # the machine starts itself (a successor, the sweep's watchers)
            else:
                child = parameters["StateMachineArn"]
            assert child in self.machines, f"{child} is not a state machine of this stack"
            name = self.machines[child][1]["name"]
            needs = {Grant("states:StartExecution", child)}
            if service != "states:startExecution":
                # .sync: Step Functions polls the child and watches it through a managed rule.
                needs |= {
                    Grant(a, self.arn("states", f"execution:{name}:*"))
                    for a in ("states:DescribeExecution", "states:StopExecution")
                }
                rule = self.arn("events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
                needs |= {Grant(a, rule) for a in ("events:PutTargets", "events:PutRule", "events:DescribeRule")}
            return needs
        if service == "s3:listObjectsV2":
            return {Grant("s3:ListBucket", self.bucket_arn(parameters))}
        if service == "s3:putObject":
            bucket = self.bucket_arn(parameters)
            prefix_value = parameters.get("Prefix")
            if prefix_value is None:
                # Prefix.$ from the state: only its literal start is known (Step Functions: ResultWriter).
                prefix_value = self.literal_prefix(parameters, self._definition)
            target = f"{bucket}/{prefix_value}*"
            return {
                Grant(a, target)
                for a in ("s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload")
            }
        raise AssertionError(f"the access model does not know the integration {resource}: add what it needs")

    def bucket_arn(self, parameters: Mapping[str, Any]) -> str:
        bucket = parameters.get("Bucket")
        if bucket is None:
            # A batch lists the bucket its input names; the stack's images bucket is the one it serves.
            assert "Bucket.$" in parameters, parameters
            return self.images
        return f"arn:{self.partition}:s3:::{bucket}"

    def literal_prefix(self, parameters: Mapping[str, Any], definition: Mapping[str, Any]) -> str:
        """The literal start of a computed Prefix.$: States.Format('<literal>{}...') here or where it is set."""
        expression = parameters["Prefix.$"]
        if expression in COMPUTED_PREFIXES:
            return COMPUTED_PREFIXES[expression]()
        if not expression.startswith("States.Format("):
            leaf = expression.rsplit(".", 1)[-1]
            expression = _find_assignment(definition, leaf)
        match = re.match(r"States\.Format\('([^'{]*)", expression or "")
        assert match and match.group(1), (
            f"ResultWriter Prefix.$ {parameters['Prefix.$']} has no literal start to scope the grant to"
        )
        return match.group(1)

    def api_needs(self) -> dict[str, set[Grant]]:
        """Per integration role ARN: what its integrations call."""
        needs: dict[str, set[Grant]] = {}
        templates = {}
        for addr, integration in self.r.of_type("aws_api_gateway_integration").items():
            if integration["type"] != "AWS":
                continue
            role = integration["credentials"]
            match = re.fullmatch(
                rf"arn:{self.partition}:apigateway:{self.region}:(\w+):action/(\w+)", integration["uri"]
            )
            assert match, f"{addr}: unexpected integration uri {integration['uri']}"
            service, action = match.groups()
            body = integration["request_templates"]["application/json"]
            templates[addr] = body
            grants: set[Grant]
            if service == "states":
                arn = re.search(r'"stateMachineArn":\s*"([^"]+)"', body).group(1)
                grants = {Grant(f"states:{action}", arn)}
            elif service == "dynamodb":
                table = re.search(r'"TableName":\s*"([^"]+)"', body).group(1)
                assert table == self.table["name"]
                grants = self.table_access([f"dynamodb:{action}"], self.table["arn"])
            else:
                raise AssertionError(f"{addr}: the access model does not know {service}:{action}")
            needs.setdefault(role, set()).update(grants)
        return needs


def required_resource_types(action: str) -> set[str]:
    """The resource types an action requires (marked * in the AWS Service Authorization Reference,
    as shipped in parliament's iam_definition.json); empty: the action only accepts Resource "*"."""
    import parliament

    service, name = action.split(":", 1)
    for definition in parliament.iam_definition:
        if definition["prefix"] == service:
            for privilege in definition["privileges"]:
                if privilege["privilege"] == name:
                    return {
                        r["resource_type"].rstrip("*")
                        for r in privilege["resource_types"]
                        if r["resource_type"].endswith("*")
                    }
    raise AssertionError(f"{action} is not in the IAM definitions")


def _find_assignment(node: Any, leaf: str) -> str | None:
    """The intrinsic expression assigned to ``<leaf>.$`` anywhere in the definition."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == f"{leaf}.$" and isinstance(value, str):
                return value
            found = _find_assignment(value, leaf)
            if found:
                return found
    if isinstance(node, list):
        for value in node:
            found = _find_assignment(value, leaf)
            if found:
                return found
    return None


def iter_states(definition: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from iter_states(state[key])
        for branch in state.get("Branches", []):
            yield from iter_states(branch)


def trust_of(role: Mapping[str, Any]) -> list[tuple[str, Condition]]:
    policy = json.loads(role["assume_role_policy"])
    out = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"]), (
            statement
        )
        services = statement["Principal"]["Service"]
        for service in services if isinstance(services, list) else [services]:
            out.append((service, _cond(statement.get("Condition"))))
    return out


def diff(role: str, needed: set[Grant], granted: set[Grant]) -> list[str]:
    problems = [f"{role}: MISSING {g}" for g in sorted(needed - granted)]
    problems += [f"{role}: NOT NEEDED {g}" for g in sorted(granted - needed)]
    return problems
