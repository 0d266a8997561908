"""What the stack answered with HTTP 5xx, raised on, or took long over: recorded for the logs and tf-local.

moto's werkzeug server logs its own failures at a level the stack silences, and a client that
retries (the Terraform provider does) hides them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerIncident:
    """A request the emulator answered with HTTP 5xx, raised on, or took long over."""

    method: str
    path: str
    target: str
    status: str
    seconds: float
    detail: str

    def describe(self) -> str:
        operation = self.target or f"{self.method} {self.path}"
        return f"{operation}: {self.status} after {self.seconds:.1f}s {self.detail}".rstrip()


class IncidentRecorder:
    """WSGI middleware around moto's server app: remembers 5xx answers, exceptions and slow requests.

    moto's werkzeug server logs its own failures at a level the emulator silences, and a client
    that retries (the Terraform provider does) hides them; ``make tf-local`` prints these on failure.
    """

    def __init__(self, app: Any, slow_seconds: float = 20.0) -> None:
        self.app = app
        self.slow_seconds = slow_seconds
        self.incidents: deque[ServerIncident] = deque(maxlen=1000)  # bounded: the stack runs for days
        self._lock = threading.Lock()

    def _record(self, environ: dict[str, Any], status: str, started: float, detail: str) -> None:
        incident = ServerIncident(
            method=environ.get("REQUEST_METHOD", ""),
            path=environ.get("PATH_INFO", ""),
            target=environ.get("HTTP_X_AMZ_TARGET", ""),
            status=status,
            seconds=time.perf_counter() - started,
            detail=detail[:2000],
        )
        with self._lock:
            self.incidents.append(incident)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            seen["status"] = status
            return start_response(status, headers, *args)

        try:
            body = self.app(environ, recording_start_response)
        except Exception:
            self._record(environ, "exception", started, traceback.format_exc())
            raise
        status = seen.get("status", "")
        if status.startswith("5"):
            chunks = list(body)
            self._record(environ, status, started, b"".join(chunks).decode("utf-8", "replace"))
            return chunks
        if time.perf_counter() - started > self.slow_seconds:
            self._record(environ, f"slow ({status})", started, "")
        return body
