"""Timeouts nest: client budget < Lambda timeout < Task TimeoutSeconds, for every Task of every state machine.

A hanging endpoint must end as a named error inside the Lambda (retried, then recorded), never as a
Lambda killed mid-call or a Task timeout whose reserved name no Fail state may raise
(docs/reliability.md, "Timeouts"). The numbers come from where they are declared: the client budgets
in functions/rekoflow_common/clients.py, each function's ``timeout_s`` in functions/manifest.json,
each Task's ``TimeoutSeconds`` in statemachines/*.asl.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rekoflow.local import declarations
from rekoflow_common.clients import REKOGNITION_DEFAULT, STORAGE_DEFAULT, ClientBudget, rekognition_budget
from workflow.test_asl import walk_states

ROOT = Path(__file__).parents[2]
MANIFEST = json.loads((ROOT / "functions/manifest.json").read_text())["functions"]
# Lambda's init phase (up to 10 s) runs before the handler and is not part of the function's timeout.
LAMBDA_INIT_ALLOWANCE_S = 10
STORAGE_FLAGS = ("reads_images", "writes_results", "writes_table", "reads_results", "queries_batch_index")
FUNCTION_ARN = re.compile(r"^\$\{(\w+)_function_arn\}$")


def deployed_rekognition_budget() -> ClientBudget:
    """The Rekognition budget as deployed: the default attempts are a deployment setting (manifest env)."""
    attempts = int(declarations.LOCAL_SETTINGS["rekognition_max_attempts"])
    return ClientBudget(REKOGNITION_DEFAULT.connect_timeout_s, REKOGNITION_DEFAULT.read_timeout_s, attempts)


def client_budgets(spec: dict) -> list[tuple[str, ClientBudget]]:
    budgets = []
    if spec.get("rekognition_actions"):
        budgets.append(("Rekognition", deployed_rekognition_budget()))
    if any(declarations.flag_set(spec, flag) for flag in STORAGE_FLAGS):
        budgets.append(("S3/DynamoDB", STORAGE_DEFAULT))
    return budgets


def lambda_tasks():
    for path in sorted((ROOT / "statemachines").glob("*.asl.json")):
        definition = json.loads(path.read_text())
        for name, state, _ in walk_states(definition["States"]):
            if state["Type"] == "Task" and ":states:::lambda:invoke" in state["Resource"]:
                yield path.name, name, state


TASKS = list(lambda_tasks())


def test_every_state_machine_has_lambda_tasks_checked():
    assert {machine for machine, _, _ in TASKS} == {p.name for p in (ROOT / "statemachines").glob("*.asl.json")}
    assert len(TASKS) >= 15


@pytest.mark.parametrize("machine,state_name,state", TASKS, ids=[f"{m}:{n}" for m, n, _ in TASKS])
def test_task_timeout_exceeds_its_lambda_timeout_which_exceeds_its_clients(machine, state_name, state):
    function = FUNCTION_ARN.match(state["Parameters"]["FunctionName"]).group(1)
    spec = MANIFEST[function]
    lambda_timeout = spec["timeout_s"]
    assert "TimeoutSeconds" in state, f"{machine}/{state_name}: a Lambda task without TimeoutSeconds waits up to a year"
    assert state["TimeoutSeconds"] >= lambda_timeout + LAMBDA_INIT_ALLOWANCE_S, (
        f"{machine}/{state_name}: TimeoutSeconds {state['TimeoutSeconds']} must exceed {function}'s Lambda timeout "
        f"{lambda_timeout} s plus init ({LAMBDA_INIT_ALLOWANCE_S} s)"
    )
    for client, budget in client_budgets(spec):
        assert budget.worst_case_s() < lambda_timeout, (
            f"{function}: a {client} call may take {budget.worst_case_s():g} s ({budget.describe()}), "
            f"longer than the Lambda timeout {lambda_timeout} s"
        )


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_every_function_that_calls_a_service_outlasts_its_clients(name):
    spec = MANIFEST[name]
    for client, budget in client_budgets(spec):
        assert budget.worst_case_s() < spec["timeout_s"], (
            f"{name}: {client} {budget.describe()} vs {spec['timeout_s']} s"
        )


def test_worst_case_counts_every_attempt_and_the_backoff_between_them():
    budget = ClientBudget(connect_timeout_s=2, read_timeout_s=12, max_attempts=3)
    assert budget.worst_case_s() == 3 * 14 + 1 + 2
    assert ClientBudget(1, 1, 1).worst_case_s() == 2
    # botocore's standard mode caps a single backoff at 20 s.
    assert ClientBudget(0, 0, 7).worst_case_s() == 1 + 2 + 4 + 8 + 16 + 20


def test_the_client_takes_its_timeouts_from_the_budget(monkeypatch):
    monkeypatch.setenv("REKOGNITION_READ_TIMEOUT_S", "1.5")
    monkeypatch.setenv("REKOGNITION_CONNECT_TIMEOUT_S", "0.5")
    monkeypatch.setenv("REKOGNITION_MAX_ATTEMPTS", "2")
    from rekoflow_common.clients import rekognition_client

    config = rekognition_client().meta.config
    assert (config.read_timeout, config.connect_timeout, config.retries["total_max_attempts"]) == (1.5, 0.5, 2)
    assert rekognition_budget() == ClientBudget(0.5, 1.5, 2)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_a_malformed_timeout_setting_is_a_configuration_error(monkeypatch, value):
    from rekoflow_common.config import ConfigurationError

    monkeypatch.setenv("REKOGNITION_READ_TIMEOUT_S", value)
    with pytest.raises(ConfigurationError, match="REKOGNITION_READ_TIMEOUT_S must be a"):
        rekognition_budget()
