"""Each ASL definition is compiled once and its program shared by executions that share nothing else."""

from __future__ import annotations

import json
import sys
import threading
import time

import boto3
import pytest
from moto import mock_aws

from rekoflow.local import patches as moto_patches
from rekoflow.local.patches import parse_cache

ROLE = "arn:aws:iam::123456789012:role/test"


def definition(function_arn: str) -> dict:
    """Pass (intrinsic), Task with a Retry (its attempt counter lives in the execution's heap), an
    inline Map over the input's items, a Choice on the input: every kind of state that could keep
    state between executions."""
    return {
        "StartAt": "Greet",
        "States": {
            "Greet": {
                "Type": "Pass",
                "Parameters": {
                    "who.$": "$.who",
                    "items.$": "$.items",
                    "greeting.$": "States.Format('hello {}', $.who)",
                },
                "Next": "Call",
            },
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload": {"who.$": "$.who"}},
                "ResultSelector": {"answer.$": "$.Payload.answer", "attempts.$": "$.Payload.attempts"},
                "ResultPath": "$.call",
                "Retry": [{"ErrorEquals": ["FirstAttemptFails"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Double",
                    "States": {
                        "Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"}, "End": True}
                    },
                },
                "ResultPath": "$.doubled",
                "Next": "Which?",
            },
            "Which?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.who", "StringEquals": "ann", "Next": "Ann"}],
                "Default": "Other",
            },
            "Ann": {"Type": "Pass", "Result": "ann's branch", "ResultPath": "$.branch", "End": True},
            "Other": {"Type": "Pass", "Result": "other branch", "ResultPath": "$.branch", "End": True},
        },
    }


@pytest.fixture()
def barrier_function(tmp_path):
    """A Lambda (in process) that fails its first attempt per caller, then waits until both executions are inside it.

    Its shared state lives in a module outside the functions folder (one object for every copy of
    the handler: two concurrent first invocations may each cold-start one).
    """
    import types

    shared = types.ModuleType("parse_cache_rendezvous")
    shared.BARRIER = threading.Barrier(2)
    shared.ATTEMPTS = {}
    shared.LOCK = threading.Lock()
    sys.modules[shared.__name__] = shared
    package = tmp_path / "barrier_fn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "import parse_cache_rendezvous as shared\n"
        "class FirstAttemptFails(Exception):\n    pass\n"
        "def lambda_handler(event, context):\n"
        "    who = event['who']\n"
        "    with shared.LOCK:\n"
        "        shared.ATTEMPTS[who] = attempt = shared.ATTEMPTS.get(who, 0) + 1\n"
        "    if attempt == 1:\n"
        "        raise FirstAttemptFails(who)\n"
        "    shared.BARRIER.wait(timeout=60)  # both executions are in this state at once, or this raises\n"
        "    return {'answer': f'hi {who}', 'attempts': attempt}\n"
    )
    runtime = moto_patches.InProcessLambdaRuntime(tmp_path)
    undo = moto_patches.install_in_process_lambda(runtime)
    yield runtime
    undo()
    del sys.modules[shared.__name__]
    for name in [m for m in sys.modules if m.startswith("barrier_fn")]:
        del sys.modules[name]


def wait_until_ended(sfn, arns: list[str], timeout_s: float = 120.0) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = [sfn.describe_execution(executionArn=arn) for arn in arns]
        if all(d["status"] != "RUNNING" for d in described):
            return described
        time.sleep(0.05)
    raise AssertionError("the executions did not end")


def test_two_executions_with_different_inputs_run_concurrently_through_one_program(barrier_function):
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        undo_waits = moto_patches.scale_retry_waits(0.001)
        undo = moto_patches.install_parse_cache()
        try:
            iam = boto3.client("iam", region_name="us-east-1")
            role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            import io
            import zipfile

            package = io.BytesIO()
            with zipfile.ZipFile(package, "w") as archive:
                archive.writestr("x.txt", "")
            function_arn = boto3.client("lambda", region_name="us-east-1").create_function(
                FunctionName="barrier",
                Runtime="python3.11",
                Role=role,
                Handler="barrier_fn.handler.lambda_handler",
                Code={"ZipFile": package.getvalue()},
                Timeout=120,
            )["FunctionArn"]
            sfn = boto3.client("stepfunctions", region_name="us-east-1")
            built = parse_cache.COUNTS["asl_program"]
            machine = sfn.create_state_machine(
                name="shared", roleArn=ROLE, definition=json.dumps(definition(function_arn))
            )["stateMachineArn"]
            inputs = {"ann": [1, 2, 3], "bob": [10, 20]}
            arns = [
                sfn.start_execution(
                    stateMachineArn=machine,
                    name=who,
                    input=json.dumps({"who": who, "items": [{"n": n} for n in items]}),
                )["executionArn"]
                for who, items in inputs.items()
            ]
            described = wait_until_ended(sfn, arns)
        finally:
            undo()
            undo_waits()
    outputs = {}
    for d in described:
        assert d["status"] == "SUCCEEDED", d.get("cause")
        outputs[d["name"]] = json.loads(d["output"])
    for who, items in inputs.items():
        output = outputs[who]
        assert output["greeting"] == f"hello {who}"
        assert output["call"] == {"answer": f"hi {who}", "attempts": 2}  # one retry each: counters not shared
        assert output["doubled"] == [{"n": 2 * n} for n in items]
        assert output["branch"] == ("ann's branch" if who == "ann" else "other branch")
    # create_state_machine validated (built) it; both executions used that one program.
    assert parse_cache.COUNTS["asl_program"] == built + 1


def test_a_definition_is_compiled_once_and_errors_are_not_cached():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    source = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$.y"}, "End": True}}})
    broken = '{"StartAt": "A", "States": {"A": {"Type": "Nope"}}}'
    undo = moto_patches.install_parse_cache()
    try:
        before = dict(parse_cache.COUNTS)
        first, tree = AmazonStateLanguageParser.parse(source)
        again, same_tree = AmazonStateLanguageParser.parse(source)
        assert first is again and tree is same_tree
        assert parse_cache.COUNTS["asl_program"] == before.get("asl_program", 0) + 1
        for _ in range(2):
            with pytest.raises(ASLParserException):
                AmazonStateLanguageParser.parse(broken)
        assert parse_cache.COUNTS["asl_parse"] == before.get("asl_parse", 0) + 3  # the broken one, each time
    finally:
        undo()
    rebuilt, _ = AmazonStateLanguageParser.parse(source)
    assert rebuilt is not first, "undo restores moto's parser (a fresh program every time)"


def test_every_component_has_its_heap_key_before_any_execution_sees_the_program():
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    undo = moto_patches.install_parse_cache()
    try:
        program, _ = AmazonStateLanguageParser.parse(
            json.dumps(definition("arn:aws:lambda:us-east-1:123456789012:function:f"))
        )
    finally:
        undo()
    found = []
    pending, seen = [program], set()
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            found.append(value)
        if hasattr(value, "__dict__") and type(value).__module__.startswith("moto."):
            pending.extend(vars(value).values())
        elif isinstance(value, (list, tuple, dict)):
            pending.extend(value.values() if isinstance(value, dict) else value)
    assert len(found) > 20
    assert all(vars(c).get("_EvalComponent__heap_key") for c in found), (
        "a lazily drawn heap key races between executions"
    )


def test_concurrent_first_parses_build_the_program_once():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    source = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"at": "once"}, "End": True}}})
    undo = moto_patches.install_parse_cache()
    try:
        before = parse_cache.COUNTS["asl_program"]
        programs = []
        start = threading.Barrier(4)

        def parse() -> None:
            start.wait(timeout=30)
            programs.append(AmazonStateLanguageParser.parse(source)[0])

        threads = [threading.Thread(target=parse) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        undo()
    assert len(programs) == 4 and all(p is programs[0] for p in programs)
    assert parse_cache.COUNTS["asl_program"] == before + 1


def test_json_paths_are_parsed_once_and_stay_correct():
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    undo = moto_patches.install_parse_cache()
    try:
        before = parse_cache.COUNTS["jsonpath_parse"]
        for data, expected in (({"a": {"b": [1, 2]}}, [1, 2]), ({"a": {"b": "x"}}, "x")):
            assert json_path.extract_json("$.a.b", data) == expected
        assert json_path.extract_json("$.a.b[1]", {"a": {"b": [1, 2]}}) == 2
        with pytest.raises(json_path.NoSuchJsonPathError):
            json_path.extract_json("$.a.b", {"a": {}})
        assert parse_cache.COUNTS["jsonpath_parse"] == before + 2  # "$.a.b" and "$.a.b[1]"
        assert result_path.parse("$.out") is result_path.parse("$.out")
        assert parse_cache.COUNTS["jsonpath_parse"] == before + 3
    finally:
        undo()
    assert json_path.parse("$.a") is not json_path.parse("$.a"), "undo restores jsonpath_ng's parse"
