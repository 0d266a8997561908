"""The local stack in the test process: the same server ``rekoflow up`` runs, on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rekoflow.local.client import StackClient
from rekoflow.local.stack import Stack, StackConfig


class LocalWorkflow(StackClient):
    """A client of an in-process stack, with the stack itself at hand (its config, in-process Lambdas)."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack.status())
        self.stack = stack

    @property
    def config(self) -> StackConfig:
        return self.stack.config

    @property
    def lambda_runtime(self) -> Any:
        return self.stack.runtime


@contextmanager
def running_stack(**config: Any) -> Iterator[LocalWorkflow]:
    """``with running_stack(rekognition_endpoint=..., retry_time_scale=0.001) as workflow:``"""
    config.setdefault("port", 0)
    config.setdefault("fsync", False)
    with Stack(StackConfig(**config)) as stack:
        yield LocalWorkflow(stack)
