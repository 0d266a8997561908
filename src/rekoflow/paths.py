"""Where the project's files are (the repository tree when run from a checkout), and the function manifest."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any


def project_root() -> Path:
    """The directory holding functions/ and statemachines/ (REKOFLOW_ROOT overrides)."""
    override = os.environ.get("REKOFLOW_ROOT")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "functions" / "manifest.json").is_file() and (parent / "statemachines").is_dir():
            return parent
    raise FileNotFoundError("cannot find the rekoflow project root (set REKOFLOW_ROOT)")


def functions_dir() -> Path:
    return project_root() / "functions"


def statemachines_dir() -> Path:
    return project_root() / "statemachines"


@functools.cache
def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def read_request_schema() -> dict[str, Any]:
    """The request schema validate_request checks (read once per process; do not change the dict)."""
    return _read_json((functions_dir() / "rekoflow_common" / "schemas" / "analysis_request.schema.json").resolve())


def read_manifest(functions: Path | None = None) -> dict[str, Any]:
    """``functions/manifest.json`` (read once per process): the functions and their environment."""
    return _read_json(((functions or functions_dir()) / "manifest.json").resolve())
