"""AWS clients with the retry behaviour and timeouts the workflow relies on.

boto3's standard retry mode already retries throttling and transient errors with backoff and jitter
inside one Lambda invocation; what is still failing after that surfaces as a named error that the
state machine retries on a longer time scale (see errors.py).

Timeouts nest (docs/reliability.md): every client's worst case (attempts x (connect + read timeout)
+ the backoff between attempts) is shorter than the Lambda timeout of every function that uses it
(``timeout_s`` in functions/manifest.json), which is shorter than the Task's ``TimeoutSeconds`` in
the ASL. So a hanging endpoint ends as a named, retried error inside the Lambda, not as a Lambda
killed mid-call or a Task timeout. tests/workflow/test_timeouts.py checks the inequality for every
Task of every state machine from the numbers here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from rekoflow_common.config import env_float, env_int

# botocore's standard retry mode waits at most this long between two attempts (its max backoff).
STANDARD_MODE_MAX_BACKOFF_S = 20.0


@dataclass(frozen=True)
class ClientBudget:
    """One client's timeouts and attempts, and the longest one call can take with them."""

    connect_timeout_s: float
    read_timeout_s: float
    max_attempts: int

    def worst_case_s(self) -> float:
        # Standard mode: before retry n (n >= 1) it sleeps up to min(2 ** (n - 1), 20) seconds.
        backoff = sum(min(2.0 ** (n - 1), STANDARD_MODE_MAX_BACKOFF_S) for n in range(1, self.max_attempts))
        return self.max_attempts * (self.connect_timeout_s + self.read_timeout_s) + backoff

    def describe(self) -> str:
        return (
            f"{self.read_timeout_s:g} s read and {self.connect_timeout_s:g} s connect timeout, "
            f"{self.max_attempts} attempt(s)"
        )

    def config(self, **extra: Any) -> Config:
        return Config(
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            **extra,
        )


# The defaults, one place (the environment may lower them, e.g. in tests; see budgets()).
# Rekognition's detect calls answer in about a second; 12 s leaves room for large images.
REKOGNITION_DEFAULT = ClientBudget(connect_timeout_s=2.0, read_timeout_s=12.0, max_attempts=3)
# S3 reads of an image header and DynamoDB item writes are small.
STORAGE_DEFAULT = ClientBudget(connect_timeout_s=2.0, read_timeout_s=5.0, max_attempts=3)


def rekognition_budget() -> ClientBudget:
    return ClientBudget(
        connect_timeout_s=env_float(
            "REKOGNITION_CONNECT_TIMEOUT_S", REKOGNITION_DEFAULT.connect_timeout_s, minimum=0.1
        ),
        read_timeout_s=env_float("REKOGNITION_READ_TIMEOUT_S", REKOGNITION_DEFAULT.read_timeout_s, minimum=0.1),
        max_attempts=env_int("REKOGNITION_MAX_ATTEMPTS", REKOGNITION_DEFAULT.max_attempts, minimum=1),
    )


def storage_budget() -> ClientBudget:
    return ClientBudget(
        connect_timeout_s=env_float("STORAGE_CONNECT_TIMEOUT_S", STORAGE_DEFAULT.connect_timeout_s, minimum=0.1),
        read_timeout_s=env_float("STORAGE_READ_TIMEOUT_S", STORAGE_DEFAULT.read_timeout_s, minimum=0.1),
        max_attempts=STORAGE_DEFAULT.max_attempts,
    )


def rekognition_client() -> Any:
    return boto3.client("rekognition", config=rekognition_budget().config(user_agent_appid="rekoflow"))


def s3_client() -> Any:
    return boto3.client("s3", config=storage_budget().config())


def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions", config=Config(retries={"mode": "standard", "total_max_attempts": 5}))


def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=storage_budget().config())
