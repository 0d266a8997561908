"""Every role grants exactly what the stack makes it do, and trusts only what its service sends.

The module is rendered by Terraform itself (``tfrender``: ``terraform test`` with every resource
overridden, nothing sent to AWS); what each role must do is derived in ``access_model`` from the
manifest, the rendered ASL, the API integrations and the encryption of what the role touches. The
emulator (``make tf-local``) checks none of this: moto does not evaluate KMS key use or trust
conditions (docs/deploy.md, "What the checks cover").
"""

from __future__ import annotations

import json
import re

import pytest

from .access_model import ASSUME_ROLE_CONTEXT, Stack, diff, grants_of, trust_of
from .tfrender import Renderer, RenderError

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    try:
        return Renderer(tmp_path_factory.mktemp("tfrender"))
    except RenderError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def stack(renderer):
    return Stack(renderer.render())


def _manifest():
    from rekoflow.local import declarations

    return declarations.functions()


def consumers(stack: Stack) -> dict[str, tuple[str, str]]:
    """Role ARN -> (service principal that assumes it, what for)."""
    out: dict[str, tuple[str, str]] = {}

    def add(role_arn: str, service: str, what: str) -> None:
        assert role_arn not in out or out[role_arn] == (service, what) or out[role_arn][0] == service, (
            f"role {role_arn} serves both {out[role_arn]} and {what}: one role per consumer"
        )
        out.setdefault(role_arn, (service, what))

    for name, function in stack.functions.items():
        add(function["role"], "lambda.amazonaws.com", f"function {name}")
    for _, machine in stack.machines.values():
        add(machine["role_arn"], "states.amazonaws.com", f"state machine {machine['name']}")
    for integration in stack.r.of_type("aws_api_gateway_integration").values():
        if integration.get("credentials"):
            add(integration["credentials"], "apigateway.amazonaws.com", "API integrations")
    for account in stack.r.of_type("aws_api_gateway_account").values():
        add(account["cloudwatch_role_arn"], "apigateway.amazonaws.com", "API Gateway account logging")
    for schedule in stack.r.of_type("aws_scheduler_schedule").values():
        add(schedule["target"][0]["role_arn"], "scheduler.amazonaws.com", f"schedule {schedule['name']}")
    return out


def required(stack: Stack) -> dict[str, set]:
    """Role ARN -> the grants it needs."""
    from .access_model import Grant

    needs: dict[str, set] = {}
    manifest = _manifest()
    for name, function in stack.functions.items():
        needs.setdefault(function["role"], set()).update(stack.function_needs(name, manifest[name]))
    for addr, machine in stack.machines.values():
        needs.setdefault(machine["role_arn"], set()).update(stack.machine_needs(addr, machine))
    for role, grants in stack.api_needs().items():
        needs.setdefault(role, set()).update(grants)
    for account in stack.r.of_type("aws_api_gateway_account").values():
        # The permissions of AWS's AmazonAPIGatewayPushToCloudWatchLogs, scoped to this region/account.
        groups = [stack.arn("logs", "log-group:*"), stack.arn("logs", "log-group:*:log-stream:*")]
        actions = [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
            "logs:GetLogEvents",
            "logs:FilterLogEvents",
        ]
        grants = {Grant(a, g) for a in actions for g in groups} | {Grant("logs:DescribeLogGroups", "*")}
        needs.setdefault(account["cloudwatch_role_arn"], set()).update(grants)
    for schedule in stack.r.of_type("aws_scheduler_schedule").values():
        target = schedule["target"][0]
        grants = {Grant("states:StartExecution", target["arn"])}
        if target.get("dead_letter_config"):
            grants.add(Grant("sqs:SendMessage", target["dead_letter_config"][0]["arn"]))
        if schedule.get("kms_key_arn"):
            # Scheduler decrypts the schedule's target input with the execution role.
            grants.add(Grant("kms:Decrypt", schedule["kms_key_arn"]))
        needs.setdefault(target["role_arn"], set()).update(grants)
    return needs


def access_problems(stack: Stack) -> list[str]:
    problems: list[str] = []
    users = consumers(stack)
    needs = required(stack)
    for arn, (addr, role) in sorted(stack.roles.items()):
        if arn not in users:
            problems.append(f"{addr}: no function, state machine, API integration or schedule uses this role")
            continue
        service, what = users[arn]
        problems += diff(f"{addr} ({what})", needs.get(arn, set()), stack.role_policies(role["name"]))
        for principal, condition in trust_of(role):
            if principal != service:
                problems.append(f"{addr} ({what}): trusts {principal}, but {service} assumes it")
            for op, key, values in condition:
                if key not in ASSUME_ROLE_CONTEXT[service]:
                    problems.append(
                        f"{addr} ({what}): trust condition {op} {key} can never match: "
                        f"{service} does not send {key} when it assumes a role"
                    )
                elif key == "aws:sourceaccount" and values != (stack.account,):
                    problems.append(f"{addr} ({what}): aws:SourceAccount {values} is not this account")
        if not trust_of(role):
            problems.append(f"{addr}: trusts nobody")
    return problems


def test_every_role_grants_exactly_what_the_stack_uses_and_trusts_only_what_its_service_sends(stack):
    problems = access_problems(stack)
    assert not problems, "\n" + "\n".join(problems)


def test_the_model_sees_a_missing_kms_grant_an_extra_grant_and_a_bad_trust_condition(stack):
    """The comparison itself can fail: break one role's policy and trust and see each problem named."""
    import copy

    broken = copy.deepcopy(stack)
    table_key = broken.table_key()
    assert table_key, "the results table is expected to use the stack's customer-managed key"
    policies = broken.r.of_type("aws_iam_role_policy")
    api_policy = next(p for p in policies.values() if "dynamodb:GetItem" in p["policy"])
    document = json.loads(api_policy["policy"])
    document["Statement"] = [s for s in document["Statement"] if "kms:Decrypt" not in json.dumps(s)]
    document["Statement"].append({"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*"})
    api_policy["policy"] = json.dumps(document)
    api_role = next(r for r in broken.r.of_type("aws_iam_role").values() if r["name"] == api_policy["role"])
    trust = json.loads(api_role["assume_role_policy"])
    trust["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceAccount": broken.account}}
    api_role["assume_role_policy"] = json.dumps(trust)
    problems = "\n".join(access_problems(broken))
    assert f"MISSING kms:Decrypt on {table_key}" in problems
    assert "NOT NEEDED dynamodb:DeleteTable on *" in problems
    assert "apigateway.amazonaws.com does not send aws:sourceaccount" in problems


def test_no_policy_or_definition_names_another_partition(renderer):
    """In a GovCloud region every ARN the module writes is arn:aws-us-gov:..., the ASL's included."""
    gov = renderer.render({"region": "us-gov-west-1"})
    assert gov.partition == "aws-us-gov"
    texts = []
    for address, values in gov.resources.items():
        for attribute in ("json", "policy", "assume_role_policy", "definition", "uri"):
            if isinstance(values.get(attribute), str):
                texts.append((address, attribute, values[attribute]))
    assert any(attr == "definition" for _, attr, _ in texts)
    offenders = [f"{a}.{attr}" for a, attr, text in texts if "arn:aws:" in text]
    assert not offenders, f"hard-coded arn:aws: in {offenders}"
    assert not access_problems(Stack(gov)), "\n".join(access_problems(Stack(gov)))


def test_every_role_policy_is_a_valid_iam_document(stack):
    for policy in stack.r.of_type("aws_iam_role_policy").values():
        grants = grants_of(policy["policy"])
        assert grants, policy["name"]
        for grant in grants:
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z*]+", grant.action), grant


def test_parliament_finds_nothing_in_any_role_policy(stack):
    """parliament (policy lint: unknown actions, resource/condition mismatches, Resource "*" where
    the action takes an ARN) on every rendered role policy."""
    from parliament import analyze_policy_string

    findings = []
    for address, policy in stack.r.of_type("aws_iam_role_policy").items():
        for finding in analyze_policy_string(policy["policy"]).findings:
            if finding.issue == "RESOURCE_MISMATCH" and all(_express_only(d) for d in finding.detail):
                continue
            findings.append(f"{address}: {finding.issue} {finding.detail}")
    assert not findings, "\n".join(findings)


def _express_only(detail: dict) -> bool:
    """parliament wants DescribeExecution to match the Express-execution format too; it lists both
    resource types as required where either serves. The stack's machines are STANDARD."""
    return detail.get("action") == "states:DescribeExecution" and ":express:" in detail.get("required_format", "")


def test_parliament_sees_a_scoped_grant_that_can_never_match():
    """The lint can fail: DescribeLogGroups on a log-group ARN (it accepts only "*") is reported."""
    from parliament import analyze_policy_string

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:*",
            }
        ],
    }
    assert [f.issue for f in analyze_policy_string(json.dumps(policy)).findings] == ["RESOURCE_MISMATCH"]
