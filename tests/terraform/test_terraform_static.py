"""Least-privilege and hygiene properties of terraform/, read from the HCL (python-hcl2, from checkov).

Fast: no provider, no plan. The full check (validate + checkov) is `make tf-check`; the real
apply against the emulator is `make tf-local`; `make test` runs both after pytest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import hcl2  # bc-python-hcl2, in the dev extra

ROOT = Path(__file__).resolve().parents[2]
TF = ROOT / "terraform"


def _u(value):
    """checkov's python-hcl2 wraps attribute values in one-element lists; unwrap them."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def _load() -> dict[str, list]:
    merged: dict[str, list] = {}
    for path in sorted(TF.glob("*.tf")):
        with open(path) as handle:
            for block, items in hcl2.load(handle).items():
                merged.setdefault(block, []).extend(items)
    return merged


CONFIG = _load()
TEXT = {path.name: path.read_text() for path in TF.glob("*.tf")}


def _resources(kind: str) -> dict[str, dict]:
    out = {}
    for entry in CONFIG.get("resource", []):
        for rtype, named in entry.items():
            if rtype == kind:
                out.update(named)
    return out


def _policy_documents() -> dict[str, dict]:
    out = {}
    for entry in CONFIG.get("data", []):
        out.update(entry.get("aws_iam_policy_document", {}))
    return out


def _statements(document: dict) -> list[dict]:
    statements = list(document.get("statement", []))
    for dynamic in document.get("dynamic", []):
        for spec in dynamic.get("statement", {}).values() if "statement" not in dynamic else [dynamic["statement"]]:
            statements.extend(spec.get("content", []))
    return statements


def test_no_wildcard_actions_outside_the_kms_key_policy():
    for name, document in _policy_documents().items():
        for statement in _statements(document):
            actions = statement.get("actions", [])
            actions = actions if isinstance(actions, list) else [actions]
            for action in actions:
                if name == "kms":  # a key policy's root statement is kms:* by design
                    continue
                assert action != "*" and not str(action).endswith(":*"), f"{name}: wildcard action {action}"


def test_resource_star_only_for_actions_without_resource_level_permissions():
    allowed_prefixes = ("xray:", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", "rekognition:", "${",
                        "each.value.rekognition_actions", "local.asl_rekognition_actions")
    for name, document in _policy_documents().items():
        if name in ("kms", "bucket", "scheduler_dlq"):  # key policy / Deny-only resource policies
            continue
        for statement in _statements(document):
            if statement.get("resources") in (["*"], "*"):
                actions = statement.get("actions", [])
                actions = actions if isinstance(actions, list) else [actions]
                for action in actions:
                    assert str(action).startswith(allowed_prefixes), f"{name}: {action} on Resource *"


def test_every_function_has_its_own_role_and_policy():
    function = _resources("aws_lambda_function")["this"]
    role = _resources("aws_iam_role")["lambda"]
    policy = _resources("aws_iam_role_policy")["lambda"]
    assert _u(function["for_each"]) == _u(role["for_each"]) == _u(policy["for_each"]) == "${local.functions}"
    assert _u(function["role"]) == "${aws_iam_role.lambda[each.key].arn}"
    assert _u(policy["role"]) == "${aws_iam_role.lambda[each.key].id}"


def test_functions_come_from_the_manifest():
    assert 'jsondecode(file("${local.repo_root}/functions/manifest.json")).functions' in TEXT["locals.tf"]
    manifest = json.loads((ROOT / "functions" / "manifest.json").read_text())["functions"]
    assert "create_upload_url" in manifest and manifest["create_upload_url"]["writes_uploads"] is True
    for name, spec in manifest.items():
        for action in spec.get("rekognition_actions", []):
            assert re.fullmatch(r"rekognition:[A-Z][A-Za-z]+", action), f"{name}: {action}"


def test_every_log_group_has_retention_and_encryption():
    groups = _resources("aws_cloudwatch_log_group")
    assert groups, "no log groups"
    for name, group in groups.items():
        assert _u(group.get("retention_in_days")) == "${var.log_retention_days}", name
        assert _u(group.get("kms_key_id")) == "${aws_kms_key.this.arn}", name


def test_lambda_log_groups_are_explicit_and_used():
    function = _resources("aws_lambda_function")["this"]
    assert _u(_u(function["logging_config"])["log_group"]) == "${aws_cloudwatch_log_group.lambda[each.key].name}"
    assert _u(_u(function["tracing_config"])["mode"]) == "Active"


def test_state_machines_log_and_trace():
    for name, machine in _resources("aws_sfn_state_machine").items():
        assert _u(_u(machine["tracing_configuration"])["enabled"]) is True, name
        logging = _u(machine["logging_configuration"])
        assert _u(logging["level"]) == "${var.sfn_log_level}", name
        assert _u(machine["type"]) == "STANDARD", name


def test_log_retention_validation_lists_cloudwatch_values():
    assert "3653" in TEXT["variables.tf"] and "[1, 3, 5, 7, 14, 30" in TEXT["variables.tf"]


def test_every_variable_has_description_and_type():
    for entry in CONFIG["variable"]:
        for name, spec in entry.items():
            assert _u(spec.get("description")), f"variable {name} lacks a description"
            assert _u(spec.get("type")), f"variable {name} lacks a type"


def test_every_checkov_skip_has_a_reason():
    for name, text in TEXT.items():
        for match in re.finditer(r"checkov:skip=([A-Z0-9_]+)(:?)(.*)", text):
            assert match.group(2) == ":" and len(match.group(3).strip()) > 20, f"{name}: {match.group(0)}"


def test_production_provider_has_no_endpoint_overrides():
    assert "endpoints" not in TEXT["providers.tf"]
    assert "skip_credentials_validation" not in TEXT["providers.tf"]
    assert not any(name.endswith("_override.tf") for name in TEXT)
