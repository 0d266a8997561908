"""Static checks of the ASL templates: valid JSON, placeholders known, every Task retried and caught."""

import json
from pathlib import Path

import pytest

from rekoflow import asl

ROOT = Path(__file__).parents[2]
TEMPLATES = sorted(p.name.removesuffix(".asl.json") for p in (ROOT / "statemachines").glob("*.asl.json"))
MANIFEST = json.loads((ROOT / "functions/manifest.json").read_text())["functions"]
KNOWN_VARIABLES = (
    {f"{name}_function_arn" for name in MANIFEST}
    | {
        "partition",
        "results_table_name",
        "results_bucket",
        "images_bucket",
    }
    | {f"{t}_state_machine_arn" for t in TEMPLATES}
)


def walk_states(states, inside_map=False):
    for name, state in states.items():
        yield name, state, inside_map
        for nested in (state.get("ItemProcessor") or state.get("Iterator"),):
            if nested:
                yield from walk_states(nested["States"], True)
        for branch in state.get("Branches", []):
            yield from walk_states(branch["States"], inside_map)


@pytest.fixture(params=TEMPLATES)
def template(request):
    text = (ROOT / "statemachines" / f"{request.param}.asl.json").read_text()
    return request.param, text, json.loads(text)


def test_raw_template_is_valid_json_with_known_placeholders(template):
    name, text, _ = template
    assert asl.placeholders(text) <= KNOWN_VARIABLES, (
        f"{name}: unknown placeholders {asl.placeholders(text) - KNOWN_VARIABLES}"
    )


def test_placeholders_only_inside_strings(template):
    _, text, definition = template

    def strings(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    in_strings = sum(len(asl.PLACEHOLDER.findall(s)) for s in strings(definition))
    assert in_strings == len(asl.PLACEHOLDER.findall(text))


def test_every_task_has_retry_and_a_catch_that_records_the_failure(template):
    name, _, definition = template
    top_level_catches = [n for n, s in definition["States"].items() if s.get("Catch")]
    for state_name, state, inside_map in walk_states(definition["States"]):
        if state["Type"] != "Task":
            continue
        assert state.get("Retry"), f"{name}/{state_name} has no Retry"
        if not inside_map:
            # Outside a Map, the Task itself must catch; inside, the Map state's Catch records it.
            assert state.get("Catch"), f"{name}/{state_name} has no Catch"
    assert top_level_catches


def test_throttling_retries_back_off_with_jitter():
    definition = json.loads((ROOT / "statemachines/image_analysis.asl.json").read_text())
    detect = definition["States"]["Run analyses"]["ItemProcessor"]["States"]["Detect labels"]
    throttling = next(r for r in detect["Retry"] if "RekognitionThrottlingError" in r["ErrorEquals"])
    assert throttling["BackoffRate"] > 1 and throttling["JitterStrategy"] == "FULL" and throttling["MaxAttempts"] >= 3
    lambda_errors = next(r for r in detect["Retry"] if "Lambda.TooManyRequestsException" in r["ErrorEquals"])
    assert "Lambda.ServiceException" in lambda_errors["ErrorEquals"]


def test_every_state_is_reachable_and_every_next_exists(template):
    name, _, definition = template

    def check(states, start):
        seen, queue = set(), [start]
        while queue:
            current = queue.pop()
            if current in seen:
                continue
            seen.add(current)
            state = states[current]
            targets = [state.get("Next"), state.get("Default")]
            targets += [c["Next"] for c in state.get("Choices", [])]
            targets += [c["Next"] for c in state.get("Catch", [])]
            for target in filter(None, targets):
                assert target in states, f"{name}: {current} -> {target} does not exist"
                queue.append(target)
            nested = state.get("ItemProcessor") or state.get("Iterator")
            if nested:
                check(nested["States"], nested["StartAt"])
        assert seen == set(states), f"{name}: unreachable states {set(states) - seen}"

    check(definition["States"], definition["StartAt"])


def test_non_obvious_states_have_comments(template):
    name, _, definition = template
    for state_name, state, _ in walk_states(definition["States"]):
        if state["Type"] in ("Task", "Map", "Parallel", "Wait") and "Comment" not in state:
            # Lambda tasks named after their function read well on their own; the rest explain themselves.
            assert state["Type"] == "Task" and "lambda:invoke" in state.get("Resource", ""), (
                f"{name}/{state_name} needs a Comment"
            )


def test_rendering_fills_every_placeholder_and_keeps_json():
    text = (ROOT / "statemachines/image_analysis.asl.json").read_text()
    variables = {v: f"value-of-{v}" for v in asl.placeholders(text)}
    rendered = json.loads(asl.render(text, variables))
    assert "${" not in json.dumps(rendered)
    with pytest.raises(asl.TemplateError, match="no value for placeholder"):
        asl.render(text, {})


def test_render_honours_templatefile_escape():
    assert asl.render('{"a": "$${literal} ${x}"}', {"x": "1"}) == '{"a": "${literal} 1"}'


# DynamoDB errors a Retry may wait out: throttling and server-side faults. DynamoDB.AmazonDynamoDBException
# is the catch-all Step Functions raises for every other service error (AccessDeniedException,
# ValidationException, a missing table or key): retrying it only delays the recorded failure.
TRANSIENT_DYNAMODB_ERRORS = {
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.InternalServerErrorException",
}


def test_dynamodb_tasks_retry_only_transient_errors(template):
    name, _, definition = template
    for state_name, state, _ in walk_states(definition["States"]):
        if state.get("Type") != "Task" or ":states:::dynamodb:" not in state.get("Resource", ""):
            continue
        retried = {error for retry in state.get("Retry", []) for error in retry["ErrorEquals"]}
        assert retried, f"{name}/{state_name}: a DynamoDB task without a Retry for throttling"
        assert retried <= TRANSIENT_DYNAMODB_ERRORS, (
            f"{name}/{state_name} retries permanent errors: {sorted(retried - TRANSIENT_DYNAMODB_ERRORS)}"
        )
