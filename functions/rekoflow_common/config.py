"""Environment configuration, read and validated once at cold start."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed: the deployment is wrong, not the request."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ConfigurationError(f"environment variable {name} is required")
    return value


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise ConfigurationError(f"environment variable {name} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class ResultsLocation:
    bucket: str
    prefix: str

    @classmethod
    def from_env(cls) -> ResultsLocation:
        prefix = os.environ.get("RESULTS_PREFIX", "results/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket=env_str("RESULTS_BUCKET"), prefix=prefix)


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise ConfigurationError(f"environment variable {name} must be a number, got {raw!r}") from error
    if not math.isfinite(value) or value < minimum:
        raise ConfigurationError(f"environment variable {name} must be a finite number >= {minimum:g}, got {raw!r}")
    return value
