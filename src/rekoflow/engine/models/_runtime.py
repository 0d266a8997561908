"""Shared plumbing for the engine's models: lazy loading, thread limits, bundled file lookup."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

# The target machines have 2 cores; more threads per session only oversubscribes them.
THREADS = max(1, int(os.environ.get("REKOFLOW_ENGINE_THREADS", "2")))


class ModelUnavailable(RuntimeError):
    """The package that carries a model is not installed (e.g. the optional `objects` extra)."""


class Lazy(Generic[T]):
    """Build a value on first use, exactly once, even under concurrent first requests."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
        return self._value


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


def onnx_session(path: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def configure_opencv() -> None:
    import cv2

    cv2.setNumThreads(THREADS)
