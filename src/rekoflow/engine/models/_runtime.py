"""Shared plumbing for the engine's models: lazy loading, thread settings, pools, bundled file lookup.

Thread settings live here and only here: every ONNX Runtime session (intra-op threads), OpenCV
(`cv2.setNumThreads`) and every LiteRT interpreter (`num_threads`) reads `threads()`. The default
comes from `REKOFLOW_ENGINE_THREADS` (else 1); `Engine(threads=N)` overrides it. Measured on the
2-core target (docs/engine.md, "Threads"): with two concurrent callers, one thread per call gives
more throughput than two, which oversubscribe the cores.

Thread safety: ONNX Runtime sessions are safe to share. OpenCV dnn objects, LiteRT interpreters and
RapidOCR pipelines keep per-call state, so each sits in a `Pool`: a caller borrows an instance,
another caller gets another one (created on demand up to the pool's size) or waits for one.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

_DEFAULT_THREADS = 1
_settings_lock = threading.Lock()
_threads: int | None = None
_lazies: list[Lazy] = []


def _from_environment() -> int:
    raw = os.environ.get("REKOFLOW_ENGINE_THREADS", "").strip()
    if not raw:
        return _DEFAULT_THREADS
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"REKOFLOW_ENGINE_THREADS must be a positive integer, not {raw!r}") from exc
    if value < 1:
        raise ValueError(f"REKOFLOW_ENGINE_THREADS must be a positive integer, not {raw!r}")
    return value


def threads() -> int:
    """Threads each model call may use (ORT intra-op, OpenCV, LiteRT)."""
    global _threads
    if _threads is None:
        with _settings_lock:
            if _threads is None:
                _threads = _from_environment()
    return _threads


def set_threads(value: int | None) -> int:
    """Set the per-call thread count (None: from the environment). Models built with another count
    are rebuilt on next use; calls already running keep the instances they hold."""
    global _threads
    wanted = _from_environment() if value is None else int(value)
    if wanted < 1:
        raise ValueError(f"threads must be a positive integer, not {value!r}")
    with _settings_lock:
        changed = _threads is not None and _threads != wanted
        _threads = wanted
    if changed:
        for lazy in list(_lazies):
            lazy.reset()
    return wanted


class ModelUnavailable(RuntimeError):
    """The package that carries a model is not installed (e.g. the optional `objects` extra)."""


class Lazy(Generic[T]):
    """Build a value on first use, exactly once, even under concurrent first requests."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()
        _lazies.append(self)

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
                value = self._value
        return value

    def reset(self) -> None:
        with self._lock:
            self._value = None


class Pool(Generic[T]):
    """Instances of a non-thread-safe model, lent one caller at a time, created on demand."""

    def __init__(self, factory: Callable[[], T], size: int) -> None:
        self._factory = factory
        self._size = max(1, size)
        self._free: list[T] = []
        self._created = 0
        self._available = threading.Condition()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[T]:
        with self._available:
            while not self._free and self._created >= self._size:
                self._available.wait()
            item = self._free.pop() if self._free else None
            if item is None:
                self._created += 1
        if item is None:
            try:
                item = self._factory()
            except BaseException:
                with self._available:
                    self._created -= 1
                    self._available.notify()
                raise
        try:
            yield item
        finally:
            with self._available:
                self._free.append(item)
                self._available.notify()


def pool_size() -> int:
    """Instances per pool: enough for every core to be busy, bounded for memory."""
    return max(2, min(8, (os.cpu_count() or 2)))


def package_dir(package: str) -> Path:
    """Locate an installed package's folder without importing it (some load models on import)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_file(package: str, *parts: str) -> str:
    path = package_dir(package).joinpath(*parts)
    if not path.is_file():
        raise ModelUnavailable(f"{package} does not contain {'/'.join(parts)}")
    return str(path)


def is_installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def onnx_session(path_or_bytes: str | bytes):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads()
    options.inter_op_num_threads = 1
    # Spinning workers burn the cores other concurrent calls need (measured, docs/engine.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(path_or_bytes, sess_options=options, providers=["CPUExecutionProvider"])


def litert_interpreter(path: str):
    """A LiteRT (TFLite) interpreter with the engine's thread count, tensors allocated."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads())
    interpreter.allocate_tensors()
    return interpreter


def configure_opencv() -> None:
    import cv2

    cv2.setNumThreads(threads())
