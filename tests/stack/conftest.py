"""Stacks in their own processes, as `rekoflow up` runs them, and the clients that use them."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from rekoflow.local import process
from rekoflow.paths import project_root


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`rekoflow ARGS` in a new process (as a person runs it)."""
    return subprocess.run(
        [sys.executable, "-m", "rekoflow.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def boto3_client(status: dict, service: str):
    return boto3.client(
        service,
        endpoint_url=status["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture()
def stack_process(tmp_path, fake_rekognition):
    """`start()` runs `rekoflow up --detach` for tmp_path/state (scripted Rekognition); stopped after the test."""
    state = tmp_path / "state"
    started = []

    def start(*extra: str) -> dict:
        result = cli(
            "up",
            "--detach",
            "--json",
            "--port",
            "0",
            "--state-dir",
            str(state),
            "--rekognition-endpoint",
            fake_rekognition.url,
            "--retry-time-scale",
            "0.001",
            "--no-fsync",
            *extra,
        )
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        started.append(status["pid"])
        return status

    start.state_dir = state  # type: ignore[attr-defined]
    yield start
    process.stop_stack(state)
    for pid in started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


def aws_cli() -> Path:
    path = project_root() / ".venv-awscli" / "bin" / "aws"
    if not path.exists():
        pytest.fail(
            f"the AWS CLI is not installed at {path}: run `make install` (it installs it into its own virtualenv)"
        )
    return path
