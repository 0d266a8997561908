"""Where the project's files are: the repository tree when run from a checkout."""

from __future__ import annotations

import os
from pathlib import Path


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


def manifest_path() -> Path:
    return functions_dir() / "manifest.json"
