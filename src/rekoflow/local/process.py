"""Running the local stack as its own process: ``rekoflow up`` / ``status`` / ``down``, and the
workflow commands that start one when none runs.

A running stack writes ``<state dir>/stack.json`` (endpoint, pid, resources) once it answers, holds
an exclusive lock on ``<state dir>/stack.lock`` while it runs (so two stacks never share a folder)
and logs to ``<state dir>/stack.log`` when detached. This module imports neither moto nor boto3:
the commands that only talk to a stack start fast.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STATUS_FILE = "stack.json"
LOG_FILE = "stack.log"
DEFAULT_PORT = 4599
START_TIMEOUT_S = 120.0


class StackProcessError(RuntimeError):
    """A stack could not be started, found or stopped (a one-line reason)."""


def default_state_dir() -> Path:
    return Path(os.environ.get("REKOFLOW_HOME", ".rekoflow")).resolve()


def admin(endpoint: str, route: str, payload: dict[str, Any] | None = None, timeout: float = 5.0) -> dict[str, Any]:
    """Call the stack's own API (``/_rekoflow/<route>``): GET without a payload, POST with one."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{endpoint}/_rekoflow/{route}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a local http URL
        return json.loads(response.read())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack(state_dir: Path) -> dict[str, Any] | None:
    """The status of the stack serving ``state_dir``, or None when none answers."""
    path = Path(state_dir) / STATUS_FILE
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = int(recorded.get("pid") or 0)
    if not pid or not _pid_alive(pid):
        return None
    try:
        return admin(recorded["endpoint"], "status", timeout=5)
    except (OSError, ValueError, KeyError):
        return None


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@contextmanager
def _start_lock(state_dir: Path) -> Iterator[None]:
    """One process at a time decides whether to start a stack for ``state_dir``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "start.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_detached(
    state_dir: Path,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    extra: list[str] | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> dict[str, Any]:
    """Start ``rekoflow up`` in the background for ``state_dir``; return its status once it answers."""
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STATUS_FILE).unlink(missing_ok=True)
    log_path = state_dir / LOG_FILE
    command = [
        sys.executable,
        "-m",
        "rekoflow.local.serve",
        "--state-dir",
        str(state_dir),
        "--port",
        str(port),
        "--host",
        host,
        *(extra or []),
    ]
    with open(log_path, "ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n".encode())
        log.flush()
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            raise StackProcessError(f"the local stack exited during start-up (exit {code}): {_log_tail(log_path)}")
        status = running_stack(state_dir)
        if status is not None and status.get("pid") == child.pid:
            return status
        time.sleep(0.1)
    child.terminate()
    raise StackProcessError(f"the local stack did not answer within {timeout_s:.0f} s; see {log_path}")


def _log_tail(path: Path, lines: int = 6) -> str:
    try:
        tail = [line for line in path.read_text(errors="replace").splitlines() if line.strip()][-lines:]
    except OSError:
        return "(no log)"
    return " | ".join(tail)


def ensure_stack(
    state_dir: Path, announce: Callable[[str], None] | None = None, port: int | None = None
) -> dict[str, Any]:
    """The status of the stack for ``state_dir``, starting one in the background when none runs.

    ``REKOFLOW_ENDPOINT`` names a stack to use instead (no start). Concurrent callers start one stack:
    the first takes the start lock; the others find it running.
    """
    endpoint = os.environ.get("REKOFLOW_ENDPOINT")
    if endpoint:
        try:
            return admin(endpoint.rstrip("/"), "status")
        except (OSError, ValueError) as error:
            raise StackProcessError(f"no local stack answers at REKOFLOW_ENDPOINT={endpoint} ({error})") from error
    state_dir = Path(state_dir).resolve()
    status = running_stack(state_dir)
    if status is not None:
        return status
    with _start_lock(state_dir):
        status = running_stack(state_dir)
        if status is not None:
            return status
        wanted = port if port is not None else int(os.environ.get("REKOFLOW_PORT", DEFAULT_PORT))
        chosen = wanted if wanted == 0 or _port_free("127.0.0.1", wanted) else 0
        status = start_detached(state_dir, chosen)
    if announce:
        note = "" if chosen == wanted else f" (port {wanted} is taken)"
        announce(
            f"started the local stack at {status['endpoint']}{note} for {state_dir}; "
            "it keeps running (`rekoflow down` stops it)"
        )
    return status


def stop_stack(state_dir: Path, timeout_s: float = 30.0) -> dict[str, Any] | None:
    """Stop the stack serving ``state_dir`` (asks it, then signals it); its last status, or None if none ran."""
    state_dir = Path(state_dir).resolve()
    status = running_stack(state_dir)
    if status is None:
        (state_dir / STATUS_FILE).unlink(missing_ok=True)
        return None
    pid = int(status["pid"])
    if pid == os.getpid():
        raise StackProcessError("the stack for this folder runs inside this process; stop it there")
    try:
        admin(status["endpoint"], "shutdown", {})
    except (OSError, ValueError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
        _reap(pid)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        time.sleep(2)
        _reap(pid)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    return status


def _reap(pid: int) -> None:
    """Collect a stack this process started (else it lingers as a zombie and looks alive)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
