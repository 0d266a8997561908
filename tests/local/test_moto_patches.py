"""The patches the offline runtime applies to moto: each fails loudly if a moto upgrade breaks it."""

import io
import json
import os
import sys
import time
import zipfile

import boto3
import moto
import pytest
from moto import mock_aws

from rekoflow.local import patches as moto_patches


@pytest.fixture()
def functions_dir(tmp_path):
    package = tmp_path / "sample_fn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "import os\n"
        "CONFIGURED = os.environ.get('GREETING')\n"
        "class SampleThrottled(Exception):\n    pass\n"
        "def lambda_handler(event, context):\n"
        "    print('log line for', context.function_name)\n"
        "    if event.get('fail'):\n        raise SampleThrottled('slow down')\n"
        "    return {'greeting': CONFIGURED, 'env_now': os.environ.get('GREETING'), 'event': event,\n"
        "            'remaining_ms': context.get_remaining_time_in_millis()}\n"
    )
    yield tmp_path
    import sys

    for name in [m for m in sys.modules if m.startswith("sample_fn")]:
        del sys.modules[name]


def zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.txt", "")
    return buffer.getvalue()


def create_function(env):
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName="sample",
        Runtime="python3.11",
        Role=role,
        Handler="sample_fn.handler.lambda_handler",
        Code={"ZipFile": zip_bytes()},
        Environment={"Variables": env},
        Timeout=30,
    )["FunctionArn"]


def test_moto_is_the_pinned_version():
    assert moto.__version__ == moto_patches.MOTO_VERSION
    moto_patches.check_moto_version()


def test_invoke_runs_the_handler_in_process_with_the_function_environment(functions_dir):
    runtime = moto_patches.InProcessLambdaRuntime(functions_dir, {"BASE": "1"})
    undo = moto_patches.install_in_process_lambda(runtime)
    try:
        with mock_aws():
            create_function({"GREETING": "hello"})
            response = boto3.client("lambda", region_name="us-east-1").invoke(
                FunctionName="sample", Payload=json.dumps({"a": 1})
            )
            payload = json.loads(response["Payload"].read())
    finally:
        undo()
    assert payload["greeting"] == "hello" and payload["env_now"] == "hello" and payload["event"] == {"a": 1}
    assert isinstance(payload["remaining_ms"], int) and payload["remaining_ms"] <= 30_000  # the function's Timeout
    assert "GREETING" not in os.environ, "the function's environment must not leak into the process"
    record = runtime.invocations[-1]
    assert record.function_name == "sample" and not record.errored and "log line for sample" in record.logs


def test_handler_errors_become_lambda_errors_with_the_exception_name(functions_dir):
    runtime = moto_patches.InProcessLambdaRuntime(functions_dir)
    undo = moto_patches.install_in_process_lambda(runtime)
    try:
        with mock_aws():
            create_function({})
            response = boto3.client("lambda", region_name="us-east-1").invoke(
                FunctionName="sample", Payload=json.dumps({"fail": True})
            )
    finally:
        undo()
    assert response["FunctionError"] == "Handled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "SampleThrottled" and error["errorMessage"] == "slow down" and error["stackTrace"]
    assert runtime.invocations[-1].errored


def test_undo_restores_moto(functions_dir):
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction._invoke_lambda
    undo = moto_patches.install_in_process_lambda(moto_patches.InProcessLambdaRuntime(functions_dir))
    assert LambdaFunction._invoke_lambda is not original
    undo()
    assert LambdaFunction._invoke_lambda is original


def test_retry_waits_are_scaled_and_restored(monkeypatch):
    """The interpreter's sleep between retries is asked for the scaled time (recorded, not measured)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    from rekoflow.local.patches import retry_waits

    slept = []

    class RecordingTime:  # the time module the scaled sleep calls, with a sleep that only records
        sleep = staticmethod(slept.append)

        def __getattr__(self, name):
            return getattr(time, name)

    monkeypatch.setattr(retry_waits, "time", RecordingTime())
    undo = moto_patches.scale_retry_waits(0.001)
    try:
        retrier_decl.time.sleep(2.0)
        retrier_decl.time.sleep(-1)
        assert retrier_decl.time.monotonic is time.monotonic  # everything else is the real module
    finally:
        undo()
    assert slept == [pytest.approx(0.002), 0.0]
    assert retrier_decl.time is time
    with pytest.raises(ValueError):
        moto_patches.scale_retry_waits(2)


def test_each_function_gets_its_own_copy_of_shared_modules(tmp_path):
    """Like separate Lambda processes: module state of one function never serves another."""
    for name in ("shared_lib", "fn_a", "fn_b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "shared_lib" / "state.py").write_text("import os\nOWNER = os.environ['AWS_LAMBDA_FUNCTION_NAME']\n")
    for name in ("fn_a", "fn_b"):
        (tmp_path / name / "handler.py").write_text(
            "from shared_lib import state\ndef lambda_handler(event, context):\n    return state.OWNER\n"
        )
    runtime = moto_patches.InProcessLambdaRuntime(tmp_path)
    undo = moto_patches.install_in_process_lambda(runtime)
    try:
        with mock_aws():
            iam = boto3.client("iam", region_name="us-east-1")
            role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            lam = boto3.client("lambda", region_name="us-east-1")
            for name in ("fn_a", "fn_b"):
                lam.create_function(
                    FunctionName=name,
                    Runtime="python3.11",
                    Role=role,
                    Handler=f"{name}.handler.lambda_handler",
                    Code={"ZipFile": zip_bytes()},
                )
            answers = [json.loads(lam.invoke(FunctionName=n)["Payload"].read()) for n in ("fn_a", "fn_b", "fn_a")]
    finally:
        undo()
        import sys

        for name in [m for m in sys.modules if m.split(".")[0] in ("shared_lib", "fn_a", "fn_b")]:
            del sys.modules[name]
    assert answers == ["fn_a", "fn_b", "fn_a"]


def test_interpreter_shares_one_client_per_service_at_the_stack_endpoint():
    """moto builds a boto3 client per Task state; the patch hands out one per (service, region)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_dynamodb
    from moto.stepfunctions.parser.asl.utils import boto_client

    from rekoflow.local.patches import interpreter_clients

    before = (boto_client.boto_client_for, state_task_service_dynamodb.boto_client_for)
    undo = moto_patches.install_shared_interpreter_clients("http://127.0.0.1:9")
    try:
        created = interpreter_clients.CREATED.get(("dynamodb", "us-east-1"), 0)
        first = state_task_service_dynamodb.boto_client_for(region="us-east-1", service="dynamodb")
        again = boto_client.boto_client_for(region="us-east-1", service="dynamodb", state_credentials=None)
        other = boto_client.boto_client_for(region="us-east-1", service="s3")
        assert first is again and other is not first
        assert interpreter_clients.CREATED[("dynamodb", "us-east-1")] == created + 1
        assert first.meta.endpoint_url == "http://127.0.0.1:9"
    finally:
        undo()
    assert (boto_client.boto_client_for, state_task_service_dynamodb.boto_client_for) == before


def test_concurrent_invocations_each_see_their_own_environment(tmp_path):
    """Invocations run at the same time; each reads its function's variables, the real environment is untouched."""
    import threading

    package = tmp_path / "env_fn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    event['barrier'].wait(timeout=30)  # both invocations are inside the handler now\n"
        "    os.environ['SET_BY_HANDLER'] = context.function_name\n"
        "    return os.environ['GREETING'], os.environ['SET_BY_HANDLER'], os.environ.get('ONLY_OUTSIDE')\n"
    )
    runtime = moto_patches.InProcessLambdaRuntime(tmp_path)
    undo = moto_patches.install_in_process_lambda(runtime)
    os.environ["ONLY_OUTSIDE"] = "real"
    barrier = threading.Barrier(2)
    answers = {}

    class Fn:
        def __init__(self, name):
            self.function_name, self.handler, self.memory_size, self.version = (
                name,
                "env_fn.handler.lambda_handler",
                128,
                "1",
            )
            self.region, self.function_arn, self.timeout = (
                "us-east-1",
                f"arn:aws:lambda:us-east-1:1:function:{name}",
                30,
            )
            self.environment_vars = {"GREETING": f"hello from {name}"}

    def call(name):
        answers[name] = runtime.invoke(Fn(name), {"barrier": barrier})

    try:
        threads = [threading.Thread(target=call, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert json.loads(answers["a"][0]) == ["hello from a", "a", "real"]
        assert json.loads(answers["b"][0]) == ["hello from b", "b", "real"]
        assert "SET_BY_HANDLER" not in os.environ and "GREETING" not in os.environ
    finally:
        os.environ.pop("ONLY_OUTSIDE", None)
        undo()
        for name in [m for m in sys.modules if m.startswith("env_fn")]:
            del sys.modules[name]
    assert not isinstance(os.environ, moto_patches.ThreadEnviron)


def test_undo_restores_modules_imported_while_installed():
    import importlib
    import sys

    from moto.stepfunctions.parser.asl.utils import boto_client

    name = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs"
    original = boto_client.boto_client_for
    saved = sys.modules.pop(name, None)
    undo = moto_patches.install_shared_interpreter_clients("http://127.0.0.1:9")
    try:
        late = importlib.import_module(name)  # takes the shared-client function by name
        assert late.boto_client_for is not original
    finally:
        undo()
    assert late.boto_client_for is original
    if saved is not None:
        sys.modules[name] = saved


def test_a_handler_that_outlives_its_timeout_is_answered_with_sandbox_timedout(tmp_path):
    """As Lambda does: past the function's timeout the caller gets Sandbox.Timedout; the late answer is dropped."""
    import threading

    package = tmp_path / "slow_fn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "def lambda_handler(event, context):\n"
        "    event['release'].wait(timeout=120)  # blocks until the test lets it go: no time measured\n"
        "    return {'late': True}\n"
    )
    runtime = moto_patches.InProcessLambdaRuntime(tmp_path)
    release = threading.Event()

    class Fn:
        function_name, handler, memory_size, version = "slow", "slow_fn.handler.lambda_handler", 128, "1"
        region, function_arn, timeout, environment_vars = (
            "us-east-1",
            "arn:aws:lambda:us-east-1:1:function:slow",
            0.2,
            {},
        )

    try:
        payload, errored, _ = runtime.invoke(Fn(), {"release": release})
    finally:
        release.set()
        for name in [m for m in sys.modules if m.startswith("slow_fn")]:
            del sys.modules[name]
    error = json.loads(payload)
    assert errored and error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 0.20 seconds")
    assert [record.errored for record in runtime.invocations] == [True]


def test_concurrent_invocations_publish_their_own_powertools_metrics(monkeypatch, capsys):
    """Two invocations at once (threads, as the in-process runtime runs them): each flush publishes
    exactly its own metric, and none fails because the other cleared a shared set."""
    import threading

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.metrics import Metrics as MetricsClass

    # What the patch relies on: Powertools keeps the sets as class-level dicts shared by all instances.
    shared = moto_patches.powertools_metrics.SHARED_SETS
    assert all(isinstance(vars(MetricsClass)[name], dict) for name in shared)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "rekoflow-tests")
    undo = moto_patches.install_thread_local_metrics()
    try:
        first, second = Metrics(service="first"), Metrics(service="second")
        both_added = threading.Barrier(2)
        errors = []

        def invocation(metrics, name):
            try:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
                both_added.wait(timeout=30)  # both sets hold a metric before either flushes
                metrics.flush_metrics(raise_on_empty_metrics=True)
            except Exception as error:  # noqa: BLE001 - collected for the assertion below
                errors.append(error)

        threads = [threading.Thread(target=invocation, args=a) for a in ((first, "FirstDone"), (second, "SecondDone"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        published = {
            blob["service"]: [m["Name"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]] for blob in blobs
        }
        assert published == {"first": ["FirstDone"], "second": ["SecondDone"]}
    finally:
        undo()
    assert all(isinstance(vars(MetricsClass)[name], dict) for name in shared)
