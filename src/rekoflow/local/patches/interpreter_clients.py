"""The boto3 clients moto's Step Functions interpreter calls services with: one per service, reused.

moto (``moto/stepfunctions/parser/asl/utils/boto_client.py``, ``boto_client_for``) builds a new
boto3 client for every Task state it runs, pointed at ``http://localhost:$MOTO_PORT``: ~10-30 ms of
botocore loading per Task, and ``localhost`` may first try IPv6. Here every interpreter call to a
service reuses one client per (service, region), aimed at the stack's own endpoint. botocore clients
are safe to share between threads; the pool is sized for a busy batch. (Creating a client reads the
whole environment; in-process invocations never change the real one: see ``in_process_lambda``.)
Given the stack's WSGI application, the clients reach it without a socket (``in_process_transport``).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install
from rekoflow.local.patches.in_process_transport import WSGIApp, route_in_process

# Counts clients created (a test asserts it stays at one per service, not one per Task).
CREATED: dict[tuple[str, str], int] = {}


def install_shared_interpreter_clients(endpoint_url: str, app: WSGIApp | None = None) -> Undo:
    """Make every ``boto_client_for`` in moto's Step Functions package return a shared client.

    With ``app`` (the stack's WSGI application) the clients send their requests to it in-process.
    """

    def apply(patcher: Patcher) -> None:
        import boto3
        from botocore.config import Config
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
        from moto.stepfunctions.parser.asl.utils import boto_client

        original = boto_client.boto_client_for
        clients: dict[tuple[str, str], Any] = {}
        lock = threading.Lock()

        def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            key = (service, region)
            client = clients.get(key)
            if client is None:
                with lock:
                    client = clients.get(key)
                    if client is None:
                        client = boto3.session.Session().client(
                            service,
                            region_name=region,
                            endpoint_url=endpoint_url,
                            aws_access_key_id="ak",
                            aws_secret_access_key="sk",
                            config=Config(
                                parameter_validation=False,
                                retries={"max_attempts": 0, "total_max_attempts": 1},
                                connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                                read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                                max_pool_connections=64,
                            ),
                        )
                        if app is not None:
                            route_in_process(client, app)
                        clients[key] = client
                        CREATED[key] = CREATED.get(key, 0) + 1
            return client

        # Modules that imported the function by name hold their own reference: replace it there too,
        # and in modules imported later (moto imports service integrations lazily).
        patcher.set(boto_client, "boto_client_for", boto_client_for)
        holders = [
            module
            for name, module in list(sys.modules.items())
            if name.startswith("moto.stepfunctions.") and getattr(module, "boto_client_for", None) is original
        ]
        for module in holders:
            patcher.set(module, "boto_client_for", boto_client_for)

        def restore_late_importers() -> None:
            for name, module in list(sys.modules.items()):
                if (
                    name.startswith("moto.stepfunctions.")
                    and getattr(module, "boto_client_for", None) is boto_client_for
                ):
                    setattr(module, "boto_client_for", original)
            clients.clear()

        patcher.on_undo(restore_late_importers)

    return install(apply)
