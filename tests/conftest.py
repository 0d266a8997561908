"""Shared fixtures: a scripted Rekognition endpoint and the local stack (real ASL, real handlers)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.fake_rekognition import CANNED, FakeRekognition  # noqa: E402

# Tests never reach AWS: fake credentials, one region.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "RekoflowTests")


@pytest.fixture(scope="session")
def fake_rekognition():
    fake = FakeRekognition().start()
    yield fake
    fake.stop()


@pytest.fixture()
def rekognition(fake_rekognition):
    """The scripted endpoint with no faults queued and a fresh call log, for one test."""
    fake_rekognition.calls.clear()
    fake_rekognition.clear_faults()
    fake_rekognition.responses = json.loads(json.dumps(CANNED))
    yield fake_rekognition
    fake_rekognition.clear_faults()
    fake_rekognition.responses = json.loads(json.dumps(CANNED))
    fake_rekognition.resume()


@pytest.fixture()
def stack_cleanup():
    """``stack_cleanup(state_dir)``: stop the background stack a command started for that folder, after the test."""
    from rekoflow.local import process

    folders = []
    yield folders.append
    for folder in folders:
        process.stop_stack(folder)


@pytest.fixture(scope="module")
def function_environment() -> dict[str, str]:
    """Environment added to the stack's functions; a folder's conftest or a test module overrides this
    (fewer client attempts, shorter timeouts), never ``workflow`` itself."""
    return {}


@pytest.fixture(scope="module")
def workflow(fake_rekognition, function_environment):
    """The local stack against the scripted endpoint; Retry waits compressed 1000x."""
    from support.stack import running_stack

    with running_stack(
        rekognition_endpoint=fake_rekognition.url, retry_time_scale=0.001, function_environment=function_environment
    ) as workflow:
        yield workflow


# Fixtures that run the terraform binary (terraform test renders the module): a test that uses one,
# directly or through another fixture, must carry the terraform marker, so `make unit` skips it.
TERRAFORM_FIXTURES = {"renderer"}


def pytest_collection_modifyitems(config, items):
    unmarked = [
        item.nodeid
        for item in items
        if TERRAFORM_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("terraform") is None
    ]
    if unmarked:
        raise pytest.UsageError("tests that run terraform need @pytest.mark.terraform: " + ", ".join(unmarked))
