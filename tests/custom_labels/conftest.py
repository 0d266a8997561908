"""The local stack with the real engine, fast Custom Labels timings, trained models, and ways to watch them.

Nothing here synchronises on time: every wait is for an outcome (an execution ending, a status, a
lease item's content) with a generous deadline; the short idle and lease times are configuration.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from custom_labels.dataset import upload_dataset

# Engine timings (seconds) and workflow polling kept short: the loops are the same, only the waits shrink.
ENGINE_TIMINGS = {
    "REKOFLOW_ENGINE_MIN_TRAINING_SECONDS": "1",
    "REKOFLOW_ENGINE_MODEL_START_SECONDS": "0.5",
    "REKOFLOW_ENGINE_MODEL_STOP_SECONDS": "0.2",
}
# A model is stopped one second after its last use; leases outlive their last renewal by a minute
# (tests of expiry set their own), so nothing expires while a slow machine runs a burst.
FAST_MODEL = {"pollIntervalSeconds": 1, "maxPolls": 60, "idleStopSeconds": 1, "leaseSeconds": 60}
DEADLINE_S = 120.0


@pytest.fixture(scope="package")
def cl_runtime():
    from support.stack import running_stack

    saved = {k: os.environ.get(k) for k in ENGINE_TIMINGS}
    os.environ.update(ENGINE_TIMINGS)
    try:
        with running_stack(retry_time_scale=0.001, name_prefix="rekoflow-cl") as workflow:
            yield workflow
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="package")
def engine_client(cl_runtime):
    return boto3.client("rekognition", endpoint_url=cl_runtime.endpoint, region_name="us-east-1")


@pytest.fixture(scope="package")
def datasets(cl_runtime):
    """8 training variants per class, and 2 held-out variants per class made with other random seeds."""
    manifest, _ = upload_dataset(cl_runtime, "datasets/train", per_class=8, seed=1)
    _, held_out = upload_dataset(cl_runtime, "datasets/holdout", per_class=2, seed=500)
    return {"manifest": manifest, "held_out": held_out}


def training_request(image: dict, training: dict[str, Any], **custom: Any) -> dict[str, Any]:
    return {
        "image": image,
        "analyses": ["custom"],
        "options": {
            "custom": {
                **FAST_MODEL,
                **custom,
                "training": {"trainingPollIntervalSeconds": 1, "maxTrainingPolls": 60, **training},
            }
        },
    }


def custom_request(image: dict, arn: str, **custom: Any) -> dict[str, Any]:
    return {
        "image": image,
        "analyses": ["custom"],
        "useCache": False,
        "options": {"custom": {"projectVersionArn": arn, **FAST_MODEL, **custom}},
    }


@pytest.fixture(scope="package")
def trained(cl_runtime, datasets):
    """One analysis request that trains a model (the training machine, nested) and infers with it."""
    image = datasets["held_out"]["rocket"][0]
    request = training_request(
        image,
        {
            "projectName": "photos",
            "versionName": "v1",
            "trainingManifest": datasets["manifest"],
            "autoSplit": True,
            "minF1Score": 0.8,
        },
    )
    result = cl_runtime.analyze(request, timeout_s=DEADLINE_S)
    assert result.succeeded, (result.error, result.cause)
    record = cl_runtime.get_record(result.name)
    return {"result": result, "record": record, "arn": record["results"]["custom"]["projectVersionArn"]}


@pytest.fixture()
def new_model(cl_runtime, engine_client, datasets):
    """``new_model(stopped=True)``: a model version of its own for one test, trained directly on the
    engine (no state machine), STOPPED (started and stopped once) or TRAINING_COMPLETED."""
    project_arn = _project(engine_client, "leases")

    def make(stopped: bool = True) -> str:
        arn = engine_client.create_project_version(
            ProjectArn=project_arn,
            VersionName=f"v-{uuid.uuid4().hex[:12]}",
            OutputConfig={"S3Bucket": cl_runtime.results_bucket, "S3KeyPrefix": "custom-labels/leases/"},
            TrainingData={
                "Assets": [
                    {
                        "GroundTruthManifest": {
                            "S3Object": {"Bucket": datasets["manifest"]["bucket"], "Name": datasets["manifest"]["key"]}
                        }
                    }
                ]
            },
            TestingData={"AutoCreate": True},
        )["ProjectVersionArn"]
        assert wait_for_status(engine_client, arn, "TRAINING_COMPLETED") == "TRAINING_COMPLETED"
        if stopped:
            engine_client.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
            assert wait_for_status(engine_client, arn, "RUNNING") == "RUNNING"
            engine_client.stop_project_version(ProjectVersionArn=arn)
            assert wait_for_status(engine_client, arn, "STOPPED") == "STOPPED"
        return arn

    return make


def _project(client: Any, name: str) -> str:
    found = client.describe_projects(ProjectNames=[name])["ProjectDescriptions"]
    return found[0]["ProjectArn"] if found else client.create_project(ProjectName=name)["ProjectArn"]


def model_status(client: Any, arn: str) -> str:
    """The engine's status of a version, now."""
    project, version = arn.split(":project/")[1].split("/version/")
    project_arn = client.describe_projects(ProjectNames=[project])["ProjectDescriptions"][0]["ProjectArn"]
    return client.describe_project_versions(ProjectArn=project_arn, VersionNames=[version.split("/")[0]])[
        "ProjectVersionDescriptions"
    ][0]["Status"]


def wait_until(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"still waiting after {deadline_s:.0f} s for {what}"
        time.sleep(0.1)


def wait_for_status(client: Any, arn: str, wanted: str, deadline_s: float = DEADLINE_S) -> str:
    wait_until(lambda: model_status(client, arn) == wanted, f"{arn} to be {wanted}", deadline_s)
    return wanted


def lease_item(runtime: Any, arn: str) -> dict[str, Any] | None:
    return runtime.get_record(f"model#{arn}")


def executions(runtime: Any, template: str, where: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Descriptions of ``template``'s executions whose input ``where`` accepts."""
    found = []
    for page in runtime.sfn.get_paginator("list_executions").paginate(stateMachineArn=runtime.state_machines[template]):
        for execution in page["executions"]:
            described = runtime.sfn.describe_execution(executionArn=execution["executionArn"])
            if where(json.loads(described["input"])):
                found.append(described)
    return found


def watchers(runtime: Any, arn: str) -> list[dict[str, Any]]:
    """The idle-stop executions (watchers) whose input names this model."""
    return executions(runtime, "custom_labels_idle_stop", lambda given: given.get("projectVersionArn") == arn)


def wait_for_watchers_to_end(runtime: Any, arn: str) -> list[dict[str, Any]]:
    return wait_until(
        lambda: (lambda ws: ws if ws and all(w["status"] != "RUNNING" for w in ws) else None)(watchers(runtime, arn)),
        f"the idle watchers of {arn} to end",
    )


def entered_states(runtime: Any, arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in runtime.history(arn) if "stateEnteredEventDetails" in e]


def child_executions(runtime: Any, template: str, parent_arn: str) -> list[str]:
    """The executions of ``template`` that ``parent_arn`` started (their input names it, as Step Functions
    links them)."""
    return [
        d["executionArn"]
        for d in executions(
            runtime, template, lambda given: given.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") == parent_arn
        )
    ]


class EngineCalls:
    """Counts the engine's Start/StopProjectVersion calls per model version, and can hold DetectCustomLabels
    at a gate (a hanging model) until the test opens it."""

    def __init__(self, monkeypatch: Any) -> None:
        from rekoflow.engine import dispatch

        self.counts: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()  # set when a detection waits at the closed gate
        for operation in ("StartProjectVersion", "StopProjectVersion", "DetectCustomLabels"):
            monkeypatch.setitem(dispatch.OPERATIONS, operation, self._wrap(operation, dispatch.OPERATIONS[operation]))

    def _wrap(self, operation: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(params: dict[str, Any], ctx: Any) -> Any:
            if operation == "DetectCustomLabels" and not self.gate.is_set():
                self.waiting.set()
                self.gate.wait(DEADLINE_S)
            answer = original(params, ctx)
            with self.lock:
                self.counts[(operation, params["ProjectVersionArn"])] += 1
            return answer

        return call

    def reset(self) -> None:
        """Forget what was counted so far (e.g. the calls that made a test's model)."""
        with self.lock:
            self.counts.clear()

    def starts(self, arn: str) -> int:
        return self.counts[("StartProjectVersion", arn)]

    def stops(self, arn: str) -> int:
        return self.counts[("StopProjectVersion", arn)]


@pytest.fixture()
def engine_calls(monkeypatch):
    calls = EngineCalls(monkeypatch)
    yield calls
    calls.gate.set()  # never leave a detection hanging
