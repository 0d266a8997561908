"""Least-privilege and hygiene properties of terraform/, read from the HCL (python-hcl2, from checkov).

Fast: no provider, no plan. The full check (validate + checkov) is `make tf-check`; the real
apply against the emulator is `make tf-local`; `make test` runs both after pytest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import hcl2  # bc-python-hcl2, in the dev extra
import pytest

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


def _flat(value) -> list:
    """hcl2 nests attribute values in lists ([["a", "b"]]): every leaf, flattened."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


MANIFEST_ACTIONS = sorted(
    {
        a
        for f in json.loads((ROOT / "functions" / "manifest.json").read_text())["functions"].values()
        for a in f.get("rekognition_actions", [])
    }
)


PROJECT_ACTIONS = set(
    _u(next(e for e in CONFIG["locals"] if "rekognition_project_actions" in e)["rekognition_project_actions"])
)


def _asl_actions(service: str, template: str) -> list[str]:
    """What locals.tf's regexall computes from an ASL file: the actions of its service integrations."""
    text = (ROOT / "statemachines" / template).read_text()
    integration = "aws-sdk:rekognition" if service == "rekognition" else "dynamodb"
    pattern = r"arn:\$\{partition\}:states:::" + integration + r":([A-Za-z]+)"
    return sorted({f"{service}:{m[0].upper()}{m[1:]}" for m in re.findall(pattern, text)})


def _resolved_actions(config: dict, raw) -> list[str]:
    """A statement's actions with the interpolations Terraform fills resolved; an unknown one is an error."""
    local_values = {}
    for entry in config.get("locals", []):
        local_values.update(entry)
    known = {
        "${local.rekognition_grants[each.key].any_resource}": [a for a in MANIFEST_ACTIONS if a not in PROJECT_ACTIONS],
        "${local.rekognition_grants[each.key].projects}": [a for a in MANIFEST_ACTIONS if a in PROJECT_ACTIONS],
        "${local.asl_rekognition_actions}": _asl_actions("rekognition", "image_analysis.asl.json"),
        "${local.image_asl_dynamodb_actions}": _asl_actions("dynamodb", "image_analysis.asl.json"),
        "${local.batch_asl_dynamodb_actions}": _asl_actions("dynamodb", "batch_analysis.asl.json"),
    }
    out = []
    for action in _flat(raw):
        action = str(action)
        plain_local = re.fullmatch(r"\$\{local\.([a-z0-9_]+)\}", action)
        if action in known:
            out.extend(known[action])
        elif plain_local and plain_local.group(1) in local_values:
            out.extend(str(a) for a in _flat(local_values[plain_local.group(1)]))
        elif "${" in action:
            raise AssertionError(f"an action the static checks cannot resolve: {action}; add it to _resolved_actions")
        else:
            out.append(action)
    return out


def _documents(config: dict) -> dict[str, dict]:
    out = {}
    for entry in config.get("data", []):
        out.update(entry.get("aws_iam_policy_document", {}))
    return out


# Actions AWS documents without resource-level permissions: the only valid Resource is "*".
RESOURCE_STAR_ONLY = (
    "xray:",
    "rekognition:DetectLabels",
    "rekognition:DetectFaces",
    "rekognition:DetectText",
    "rekognition:CompareFaces",
    "rekognition:DetectModerationLabels",
    "rekognition:DescribeProjects",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
# Resource policies (key policy, Deny-only bucket/queue policies) are checked by their own tests.
RESOURCE_POLICIES = ("kms", "bucket", "scheduler_dlq")


def wildcard_action_problems(config: dict) -> list[str]:
    problems = []
    for name, document in _documents(config).items():
        if name == "kms":  # a key policy's root statement is kms:* by design
            continue
        for statement in _statements(document):
            if _u(statement.get("effect")) == "Deny":  # a wildcard Deny (e.g. insecure transport) only narrows
                continue
            for action in _resolved_actions(config, statement.get("actions", [])):
                if action == "*" or "*" in action.split(":", 1)[-1]:
                    problems.append(f"{name}: wildcard action {action}")
    return problems


def resource_star_problems(config: dict) -> list[str]:
    problems = []
    for name, document in _documents(config).items():
        if name in RESOURCE_POLICIES:
            continue
        for statement in _statements(document):
            if "*" not in [str(r) for r in _flat(statement.get("resources", []))]:
                continue
            for action in _resolved_actions(config, statement.get("actions", [])):
                if not action.startswith(RESOURCE_STAR_ONLY):
                    problems.append(f"{name}: {action} on Resource *")
    return problems


def test_no_wildcard_actions_outside_the_kms_key_policy():
    assert not wildcard_action_problems(CONFIG)


def test_resource_star_only_for_actions_without_resource_level_permissions():
    assert not resource_star_problems(CONFIG)


def _with_statement(document: str, statement: dict, dynamic: bool) -> dict:
    import copy

    mutated = copy.deepcopy(CONFIG)
    for entry in mutated["data"]:
        target = entry.get("aws_iam_policy_document", {}).get(document)
        if target is None:
            continue
        if dynamic:
            target.setdefault("dynamic", []).append({"statement": {"for_each": ["${[1]}"], "content": [statement]}})
        else:
            target.setdefault("statement", []).append(statement)
    return mutated


@pytest.mark.parametrize("dynamic", [False, True], ids=["statement", "dynamic statement"])
@pytest.mark.parametrize(
    "document, actions, resources, check",
    [
        ("lambda", ["s3:*"], ["*"], wildcard_action_problems),
        ("image_analysis", ["iam:PassRole"], ["*"], resource_star_problems),
        ("api", ["dynamodb:DeleteTable"], ["*"], resource_star_problems),
        ("batch_analysis", ["s3:Get*"], ["${aws_s3_bucket.images.arn}/*"], wildcard_action_problems),
    ],
)
def test_the_static_checks_catch_a_mutated_iam_tf(document, actions, resources, check, dynamic):
    """The checks above can fail: the same parsed config with one bad statement added is caught."""
    assert not check(CONFIG)
    mutated = _with_statement(document, {"sid": ["Mutant"], "actions": [actions], "resources": [resources]}, dynamic)
    assert any(actions[0] in problem for problem in check(mutated)), check(mutated)


def test_an_unresolvable_interpolated_action_is_not_exempt():
    mutated = _with_statement("lambda", {"actions": ["${var.extra_actions}"], "resources": [["*"]]}, dynamic=False)
    with pytest.raises(AssertionError, match="cannot resolve"):
        resource_star_problems(mutated)


def test_every_function_has_its_own_role_and_policy():
    function = _resources("aws_lambda_function")["this"]
    role = _resources("aws_iam_role")["lambda"]
    policy = _resources("aws_iam_role_policy")["lambda"]
    assert _u(function["for_each"]) == _u(role["for_each"]) == _u(policy["for_each"]) == "${local.functions}"
    assert _u(function["role"]) == "${aws_iam_role.lambda[each.key].arn}"
    assert _u(policy["role"]) == "${aws_iam_role.lambda[each.key].id}"


def test_functions_come_from_the_manifest():
    assert 'jsondecode(file("${local.repo_root}/functions/manifest.json"))' in TEXT["locals.tf"]
    assert "functions = local.manifest.functions" in TEXT["locals.tf"]
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


def test_no_fallback_for_files_that_must_exist():
    # A missing ASL, schema or template must fail the plan, not deploy something looser.
    offenders = [name for name, text in TEXT.items() if "fileexists(" in text or re.search(r"try\(\s*file", text)]
    assert offenders == []


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


# --- manifest flags, state machine roles, batch schedule ------------------------------------------

MANIFEST = json.loads((ROOT / "functions" / "manifest.json").read_text())["functions"]
ASL_DIR = ROOT / "statemachines"
NON_FLAG_KEYS = {"description", "handler", "memory_mb", "timeout_s", "rekognition_actions"}


def _locals() -> dict:
    merged: dict = {}
    for entry in CONFIG.get("locals", []):
        merged.update(entry)
    return merged


def _list(value) -> list:
    value = _u(value)
    return value if isinstance(value, list) else [value]


def _by_sid(document: dict) -> dict[str, dict]:
    return {_u(statement.get("sid")): statement for statement in _statements(document)}


def _asl_function_keys(name: str) -> set[str]:
    text = (ASL_DIR / name).read_text()
    return set(re.findall(r"\$\{([a-z0-9_]+)_function_arn\}", text))


def test_every_manifest_key_is_known_to_terraform():
    known = set(_u(_locals()["manifest_known_keys"]))
    for name, spec in MANIFEST.items():
        unknown = set(spec) - known
        assert not unknown, (
            f"manifest entry {name}: Terraform grants nothing for {sorted(unknown)}; "
            "add them to iam.tf and manifest_known_keys"
        )
    # every known flag really maps to a grant in the per-function policy
    for flag in known - NON_FLAG_KEYS:
        assert f'lookup(each.value, "{flag}", false)' in TEXT["iam.tf"], f"flag {flag} has no grant in iam.tf"


def test_an_unknown_manifest_flag_fails_the_plan():
    role = _resources("aws_iam_role")["lambda"]
    precondition = _u(_u(_u(role["lifecycle"])["precondition"]))
    assert "local.manifest_unknown_keys[each.key]" in _u(precondition["condition"])
    assert "setsubtract(keys(f), local.manifest_known_keys)" in TEXT["locals.tf"]


def test_reads_results_and_queries_batch_index_grants():
    statements = _by_sid(_policy_documents()["lambda"])
    read = statements["ReadBatchResults"]
    assert _list(read["actions"]) == ["s3:GetObject"]
    assert _list(read["resources"]) == ["${aws_s3_bucket.results.arn}/${local.batch_results_prefix}*"]
    listing = statements["ListBatchResults"]
    assert _list(listing["actions"]) == ["s3:ListBucket"]
    assert _list(listing["resources"]) == ["${aws_s3_bucket.results.arn}"]
    condition = _u(listing["condition"])
    assert (_u(condition["test"]), _u(condition["variable"]), _list(condition["values"])) == (
        "StringLike",
        "s3:prefix",
        ["${local.batch_results_prefix}*"],
    )
    query = statements["QueryBatchIndex"]
    assert _list(query["actions"]) == ["dynamodb:Query"]
    assert _list(query["resources"]) == ["${aws_dynamodb_table.results.arn}/index/batch-index"]
    assert 'batch_results_prefix = "batches/"' in re.sub(r" +", " ", TEXT["locals.tf"])
    # summarize_batch is the function that needs them (docs/architecture.md)
    assert MANIFEST["summarize_batch"].get("reads_results") and MANIFEST["summarize_batch"].get("queries_batch_index")


def test_state_machine_roles_invoke_exactly_the_functions_their_asl_names():
    statements = {name: _by_sid(_policy_documents()[name]) for name in ("image_analysis", "batch_analysis")}
    for name in ("image", "batch"):
        assert _list(statements[f"{name}_analysis"]["InvokeFunctions"]["resources"]) == [
            f"${{flatten([for k in local.{name}_function_keys : "
            "['${local.function_arns[k]}', '${local.function_arns[k]}:*']])}"
        ]
    hcl_regex = '"\\\\$\\\\{([a-z0-9_]+)_function_arn\\\\}"'
    assert TEXT["locals.tf"].count(f"regexall({hcl_regex}, local.image_asl_raw)") == 1
    assert TEXT["locals.tf"].count(f"regexall({hcl_regex}, local.batch_asl_raw)") == 1
    # the ASLs name only manifest functions (templatefile() would fail otherwise), and not all of them
    image_keys = _asl_function_keys("image_analysis.asl.json")
    batch_keys = _asl_function_keys("batch_analysis.asl.json")
    assert image_keys <= set(MANIFEST) and batch_keys <= set(MANIFEST)
    assert "summarize_batch" not in image_keys and "create_upload_url" not in image_keys
    # (release_model_lease: a batch with custom gives back the model lease it took for the run)
    assert batch_keys == {"summarize_batch", "validate_batch", "release_model_lease"}
    # the Custom Labels machines' roles invoke what their ASL names, derived the same way (locals.tf)
    custom = _by_sid(_policy_documents()["custom_labels"])
    assert _list(custom["InvokeFunctions"]["resources"]) == [
        "${flatten([for k in local.custom_labels_function_keys[each.key] : "
        "['${local.function_arns[k]}', '${local.function_arns[k]}:*']])}"
    ]
    assert TEXT["locals.tf"].count(f"regexall({hcl_regex}, raw)") == 1


def test_state_machine_dynamodb_actions_come_from_the_asl():
    for name, local_name in (
        ("image_analysis", "image_asl_dynamodb_actions"),
        ("batch_analysis", "batch_asl_dynamodb_actions"),
    ):
        table = _by_sid(_policy_documents()[name]).get("ResultsTable")
        assert table is not None and _list(table["actions"]) == [f"${{local.{local_name}}}"], name


def test_only_the_batch_role_starts_the_batch_machine_and_its_children():
    """And the API and the upload trigger's function start only image analyses."""
    start = {}
    for name, document in _policy_documents().items():
        for statement in _statements(document):
            if "states:StartExecution" in _list(statement.get("actions", [])):
                start[name] = _list(statement["resources"])
    assert start == {
        "batch_analysis": [
            "${aws_sfn_state_machine.image_analysis.arn}",
            "${local.batch_analysis_arn}",
            '${local.custom_labels_arns["custom_labels_lease"]}',
        ],
        "api": ["${aws_sfn_state_machine.image_analysis.arn}"],
        "scheduler": ["${aws_sfn_state_machine.batch_analysis.arn}"],
        "lambda": ["${local.image_analysis_arn}"],  # the starts_image_analysis flag: start_upload_analysis
        # Custom Labels: the image analysis nests training and lease; those machines start what their ASL names.
        "image_analysis": [
            '${local.custom_labels_arns["custom_labels_training"]}',
            '${local.custom_labels_arns["custom_labels_lease"]}',
        ],
        "custom_labels": ["${[for t in local.custom_labels_children[each.key] : local.custom_labels_arns[t]]}"],
        "custom_labels_sweep": ['${aws_sfn_state_machine.custom_labels["custom_labels_idle_stop"].arn}'],
    }


def test_batch_role_grants():
    statements = _by_sid(_policy_documents()["batch_analysis"])
    assert set(statements) == {
        "StartExecutions",
        "ManageChildExecutions",
        "ManageMapRunExecutions",
        "SyncExecutionEvents",
        "InvokeFunctions",
        "ListImages",
        "WriteBatchResults",
        "ResultsTable",
        "ResultsTableKey",
    }
    prefix = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:"
    assert sorted(_list(statements["ManageChildExecutions"]["actions"])) == [
        "states:DescribeExecution",
        "states:StopExecution",
    ]
    assert _list(statements["ManageChildExecutions"]["resources"]) == [
        prefix + "${local.image_analysis_name}:*",
        "${" + f'"{prefix}${{local.custom_labels_names["custom_labels_lease"]}}:*"' + "}",
    ]
    # Redriving a failed batch redrives its Map Run's child workflow executions.
    assert sorted(_list(statements["ManageMapRunExecutions"]["actions"])) == [
        "states:DescribeExecution",
        "states:RedriveExecution",
        "states:StopExecution",
    ]
    assert _list(statements["ManageMapRunExecutions"]["resources"]) == [prefix + "${local.batch_analysis_name}/*:*"]
    events = statements["SyncExecutionEvents"]
    assert sorted(_list(events["actions"])) == ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    assert _list(events["resources"]) == [
        "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    ]
    assert _list(statements["ListImages"]["actions"]) == ["s3:ListBucket"]
    assert _list(statements["ListImages"]["resources"]) == ["${aws_s3_bucket.images.arn}"]
    write = statements["WriteBatchResults"]
    assert sorted(_list(write["actions"])) == [
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
    ]
    assert _list(write["resources"]) == ["${aws_s3_bucket.results.arn}/${local.batch_results_prefix}*"]
    # X-Ray and log delivery come from the shared observability document
    assert (
        _u(_policy_documents()["batch_analysis"]["source_policy_documents"])
        == "${data.aws_iam_policy_document.states_observability.json}"
    )


def test_scheduler_input_bounds_concurrency_and_failures():
    target = _u(_resources("aws_scheduler_schedule")["batch"]["target"])
    text = _u(target["input"])
    for field, value in (
        ("bucket", "aws_s3_bucket.images.id"),
        ("prefix", "var.batch_prefix"),
        ("analyses", "var.batch_analyses"),
        ("maxConcurrency", "var.rekognition_max_concurrency"),
        ("toleratedFailurePercentage", "var.batch_tolerated_failure_percentage"),
    ):
        assert f"'{field}': '${{{value}}}'" in text, field
    assert "batchId" not in text  # the batch id defaults to the (unique) execution name


def _variable(name: str) -> dict:
    for entry in CONFIG["variable"]:
        if name in entry:
            return entry[name]
    raise KeyError(name)


def test_concurrency_and_tolerance_variables_are_validated():
    max_conc = _u(_u(_variable("rekognition_max_concurrency")["validation"])["condition"])
    assert ">= 1" in max_conc and "<= 1000" in max_conc and "-1" not in max_conc
    assert _u(_variable("rekognition_max_concurrency")["default"]) == 5
    reserved = _u(_u(_variable("rekognition_reserved_concurrency")["validation"])["condition"])
    assert "== -1" in reserved and "<= 900" in reserved
    assert "var.rekognition_reserved_concurrency" in TEXT["locals.tf"]
    assert "local.reserved_concurrency[each.key]" in TEXT["lambda.tf"]
    assert "var.rekognition_max_concurrency" not in TEXT["lambda.tf"]
    tolerated = _u(_u(_variable("batch_tolerated_failure_percentage")["validation"])["condition"])
    assert ">= 0" in tolerated and "<= 100" in tolerated


def test_every_state_machine_has_a_failed_executions_alarm():
    arns = _u(_locals()["state_machine_arns"])
    assert "batch_analysis = aws_sfn_state_machine.batch_analysis.arn" in TEXT["monitoring.tf"], arns
    assert "image_analysis = aws_sfn_state_machine.image_analysis.arn" in TEXT["monitoring.tf"]
    assert 'metric = "ExecutionsFailed"' in TEXT["monitoring.tf"]
    assert "for t, machine in aws_sfn_state_machine.custom_labels : t => machine.arn" in TEXT["monitoring.tf"]
    assert set(_resources("aws_sfn_state_machine")) == {"image_analysis", "batch_analysis", "custom_labels"}


# ----- one declaration of each function's environment and of the table, read by Terraform and the local stack
def test_lambda_environment_is_the_declared_one_only():
    function = _resources("aws_lambda_function")["this"]
    environment = _u(function["environment"])
    assert _u(environment["variables"]) == "${local.function_environment[each.key]}"
    assert "local.manifest.environment.every_function" in TEXT["locals.tf"]
    assert "local.manifest.environment.when" in TEXT["locals.tf"]
    assert "function_name = local.function_names[k]" in TEXT["locals.tf"]  # the per-function setting


def test_every_declared_setting_has_a_value_in_terraform_and_in_the_local_stack():
    from rekoflow.local import declarations
    from rekoflow.local.stack import StackConfig

    named = declarations.settings_named() - declarations.PER_FUNCTION_SETTINGS
    terraform_values = set(_u(_locals()["environment_values"]))
    assert named <= terraform_values, f"Terraform has no value for {sorted(named - terraform_values)}"
    local_values = set(StackConfig().setting_values())
    assert named <= local_values, f"the local stack has no value for {sorted(named - local_values)}"
    # Every flag the declaration reacts to is a manifest key Terraform knows (so no flag is misspelt).
    when = json.loads((ROOT / "functions" / "manifest.json").read_text())["environment"]["when"]
    assert set(when) <= set(_u(_locals()["manifest_known_keys"]))


def test_declared_environment_matches_what_each_function_reads():
    """Every variable a function reads at cold start is declared for it (a missing one fails at cold start)."""
    from rekoflow.local import declarations

    values = dict.fromkeys(declarations.settings_named(), "x")
    for name, spec in MANIFEST.items():
        environment = declarations.function_environment(spec, values)
        source = "\n".join(p.read_text() for p in (ROOT / "functions" / name).glob("*.py"))
        for variable in re.findall(r'env_str\("([A-Z_]+)"', source):
            assert variable in environment, f"{name} reads {variable} but the manifest does not declare it for it"
        if spec.get("writes_results"):
            assert {"RESULTS_BUCKET", "RESULTS_PREFIX"} <= set(environment), name


def test_results_table_comes_from_the_shared_declaration():
    from rekoflow.local import declarations

    table = _resources("aws_dynamodb_table")["results"]
    assert _u(table["hash_key"]) == "${local.results_table.hash_key}"
    assert 'jsondecode(file("${path.module}/results_table.json"))' in TEXT["locals.tf"]
    assert "dynamic" in table and {"attribute", "global_secondary_index"} <= {next(iter(d)) for d in table["dynamic"]}
    request = declarations.create_table_request("t")
    assert {a["AttributeName"] for a in request["AttributeDefinitions"]} == set(
        declarations.results_table()["attributes"]
    )
    assert [i["IndexName"] for i in request["GlobalSecondaryIndexes"]] == [
        "status-created-index",
        "batch-index",
        "model-lease-index",
    ]


def test_local_settings_are_terraforms_defaults():
    """The local stack gives each setting the value a default deployment gives it."""
    from rekoflow.local import declarations

    local_values = _locals()
    for setting, value in declarations.LOCAL_SETTINGS.items():
        expression = _u(local_values["environment_values"])[setting]
        if expression.startswith("${var."):
            name = expression.removeprefix("${var.").removesuffix("}")
            default = _u(_variable(name)["default"])
            assert str(default) == value, f"{setting}: Terraform's default {default!r}, the local stack's {value!r}"
        elif expression.startswith("${tostring(var."):
            name = expression.removeprefix("${tostring(var.").removesuffix(")}")
            assert str(_u(_variable(name)["default"])) == value, setting
        elif expression.replace(" ", "").startswith('${join(",",var.'):
            name = expression.replace(" ", "").removeprefix('${join(",",var.').removesuffix(")}")
            assert ",".join(_u(_variable(name)["default"])) == value, setting
        elif expression.startswith("${local."):
            assert _u(local_values[expression.removeprefix("${local.").removesuffix("}")]) == value, setting
        else:
            assert expression == value, setting
