"""Region lists answered once per process, not once per botocore session (stack start-up).

Importing moto's Step Functions interpreter imports ``moto.batch`` (for its Batch integration), which
imports ``moto.ec2``, whose ``RegionsAndZonesBackend`` class body asks three new ``boto3.Session()``
objects for EC2's regions (``moto/ec2/models/availability_zones_and_regions.py``); each new session
parses botocore's endpoint data and the 3 MB EC2 model again, for one answer that only depends on
the installed botocore. moto's account backends ask again per service (``moto/core/base_backend.py``,
``_generate_regions``). ``get_available_regions`` and ``get_available_partitions`` are pure functions
of botocore's data: answered from a process-wide memo here (a copy each time). Installed before
anything imports the interpreter. No upstream issue found.

``COMPUTED`` counts real computations (a test asserts new sessions do not add any).
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

COMPUTED: collections.Counter[str] = collections.Counter()


def install_region_memo() -> Undo:
    """Memoise botocore's ``Session.get_available_regions`` / ``get_available_partitions``; returns the undo."""

    def apply(patcher: Patcher) -> None:
        import botocore.session

        session_class = botocore.session.Session
        original_regions = session_class.get_available_regions
        original_partitions = session_class.get_available_partitions
        answers: dict[tuple[Any, ...], list[str]] = {}
        lock = threading.Lock()

        def remembered(key: tuple[Any, ...], compute: Any) -> list[str]:
            answer = answers.get(key)
            if answer is None:
                answer = list(compute())
                with lock:
                    answers[key] = answer
                    COMPUTED[key[0]] += 1
            return list(answer)

        def get_available_regions(
            self: Any, service_name: str, partition_name: str = "aws", allow_non_regional: bool = False
        ) -> list[str]:
            return remembered(
                ("regions", service_name, partition_name, bool(allow_non_regional)),
                lambda: original_regions(self, service_name, partition_name, allow_non_regional),
            )

        def get_available_partitions(self: Any) -> list[str]:
            return remembered(("partitions",), lambda: original_partitions(self))

        patcher.set(session_class, "get_available_regions", get_available_regions)
        patcher.set(session_class, "get_available_partitions", get_available_partitions)
        patcher.on_undo(answers.clear)

    return install(apply)
