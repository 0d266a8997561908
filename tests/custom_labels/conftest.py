"""The local stack with the real engine, fast Custom Labels timings, and one trained model shared by the tests."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
import pytest

from custom_labels.dataset import upload_dataset

# Engine timings (seconds) and workflow polling kept short: the loop is the same, only the waits shrink.
ENGINE_TIMINGS = {
    "REKOFLOW_ENGINE_MIN_TRAINING_SECONDS": "1",
    "REKOFLOW_ENGINE_MODEL_START_SECONDS": "0.5",
    "REKOFLOW_ENGINE_MODEL_STOP_SECONDS": "0.2",
}
FAST_MODEL_POLLING = {"pollIntervalSeconds": 1, "maxPolls": 10}


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
                **FAST_MODEL_POLLING,
                **custom,
                "training": {"trainingPollIntervalSeconds": 1, "maxTrainingPolls": 60, **training},
            }
        },
    }


@pytest.fixture(scope="package")
def trained(cl_runtime, datasets):
    """One full train -> evaluate -> start -> detect -> stop run through the state machine."""
    image = datasets["held_out"]["rocket"][0]
    request = training_request(
        image,
        {"projectName": "photos", "versionName": "v1", "trainingManifest": datasets["manifest"], "autoSplit": True, "minF1Score": 0.8},
    )
    started = time.monotonic()
    result = cl_runtime.analyze(request, timeout_s=180)
    elapsed = time.monotonic() - started
    assert result.succeeded, (result.error, result.cause)
    record = cl_runtime.get_record(result.name)
    return {"result": result, "record": record, "arn": record["results"]["custom"]["projectVersionArn"], "elapsed": elapsed}


def model_status(client: Any, arn: str, settle_s: float = 3.0, wanted: str | None = None) -> str:
    """The engine's status of a version; waits out STOPPING/STARTING (or until ``wanted``) for up to ``settle_s``."""
    project, version = arn.split(":project/")[1].split("/version/")
    version_name = version.split("/")[0]
    project_arn = client.describe_projects(ProjectNames=[project])["ProjectDescriptions"][0]["ProjectArn"]
    deadline = time.monotonic() + settle_s
    while True:
        status = client.describe_project_versions(ProjectArn=project_arn, VersionNames=[version_name])["ProjectVersionDescriptions"][0]["Status"]
        done = status == wanted if wanted else status not in ("STOPPING", "STARTING")
        if done or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def entered_states(runtime: Any, arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in runtime.history(arn) if "stateEnteredEventDetails" in e]
