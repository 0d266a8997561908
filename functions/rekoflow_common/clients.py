"""AWS clients with the retry behaviour the workflow relies on.

boto3's standard retry mode already retries throttling and transient errors with backoff and jitter
inside one Lambda invocation; what is still failing after that surfaces as a named error that the
state machine retries on a longer time scale (see errors.py).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from rekoflow_common.config import env_int


def rekognition_client() -> Any:
    attempts = env_int("REKOGNITION_MAX_ATTEMPTS", 3, minimum=1)
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=5,
        read_timeout=60,
        user_agent_appid="rekoflow",
    )
    return boto3.client("rekognition", config=config)


def s3_client() -> Any:
    return boto3.client("s3", config=Config(retries={"mode": "standard", "total_max_attempts": 5}))


def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions", config=Config(retries={"mode": "standard", "total_max_attempts": 5}))


def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 5}))
