"""The status clock of a model version: which status may move to which, and when time moves it.

Nothing runs in the background: a version is advanced whenever it is looked at (``advance``), with the
time given (default now). A finished training is applied at ``ready_at``, STARTING becomes RUNNING and
STOPPING becomes STOPPED at ``transition_at``. Timings, for tests and demos:
``REKOFLOW_ENGINE_MIN_TRAINING_SECONDS`` (training takes at least this long, default 2),
``REKOFLOW_ENGINE_MODEL_START_SECONDS`` (STARTING -> RUNNING, default 1),
``REKOFLOW_ENGINE_MODEL_STOP_SECONDS`` (STOPPING -> STOPPED, default 0.5).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from rekoflow.engine import errors

if TYPE_CHECKING:  # the records import this module for their statuses
    from rekoflow.engine.custom_labels.store import ProjectVersion, TrainingOutcome

TRAINING_IN_PROGRESS = "TRAINING_IN_PROGRESS"
TRAINING_COMPLETED = "TRAINING_COMPLETED"
TRAINING_FAILED = "TRAINING_FAILED"
STARTING = "STARTING"
RUNNING = "RUNNING"
STOPPING = "STOPPING"
STOPPED = "STOPPED"
_STARTABLE = (TRAINING_COMPLETED, STOPPED, "FAILED")
_STOPPABLE = (RUNNING, STARTING)

TRAINING_MESSAGE = "The model is being trained."
INTERRUPTED_MESSAGE = "Training was interrupted: the engine stopped before it finished."


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def training_ready_at(now: float) -> float:
    """The earliest time a training started at ``now`` may report its result."""
    return now + _seconds("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", 2.0)


def in_use(message: str) -> errors.RekognitionError:
    return errors.RekognitionError("ResourceInUseException", message)


def not_ready(message: str) -> errors.RekognitionError:
    return errors.RekognitionError("ResourceNotReadyException", message)


def _due(at: float | None, now: float) -> bool:
    return at is not None and now >= at


def advance(version: ProjectVersion, now: float | None = None) -> None:
    """Move a version along its lifecycle as time passes (training results, start and stop delays)."""
    now = time.time() if now is None else now
    if version.status == TRAINING_IN_PROGRESS and version.outcome is not None and now >= version.ready_at:
        outcome, version.outcome = version.outcome, None
        version.status, version.status_message = outcome.status, outcome.status_message
        version.training_end, version.billable_seconds = outcome.training_end, outcome.billable_seconds
        version.model = outcome.model
    elif version.status == STARTING and _due(version.transition_at, now):
        version.status, version.status_message = RUNNING, "The model is running."
    elif version.status == STOPPING and _due(version.transition_at, now):
        version.status, version.status_message = STOPPED, "The model is stopped."


def record_outcome(version: ProjectVersion, outcome: TrainingOutcome) -> None:
    """Keep a finished training's result; it shows once the minimum training time has passed too."""
    version.outcome = outcome
    version.ready_at = max(version.ready_at, outcome.training_end)


def interrupt_if_orphaned(version: ProjectVersion) -> None:
    """A version saved mid-training with no result: the process that trained it ended before training did."""
    if version.status == TRAINING_IN_PROGRESS and version.outcome is None:
        version.status, version.status_message = TRAINING_FAILED, INTERRUPTED_MESSAGE


def start(version: ProjectVersion, min_units: int, max_units: int, now: float | None = None) -> None:
    """StartProjectVersion: STARTING now, RUNNING after the start delay."""
    if version.status not in _STARTABLE:
        raise in_use(f"The model can't be started while its status is {version.status}.")
    version.status, version.status_message = STARTING, "The model is being started."
    version.min_inference_units, version.max_inference_units = min_units, max_units
    now = time.time() if now is None else now
    version.transition_at = now + _seconds("REKOFLOW_ENGINE_MODEL_START_SECONDS", 1.0)


def stop(version: ProjectVersion, now: float | None = None) -> None:
    """StopProjectVersion: STOPPING now, STOPPED after the stop delay."""
    if version.status not in _STOPPABLE:
        raise in_use(f"The model can't be stopped while its status is {version.status}.")
    version.status, version.status_message = STOPPING, "The model is being stopped."
    now = time.time() if now is None else now
    version.transition_at = now + _seconds("REKOFLOW_ENGINE_MODEL_STOP_SECONDS", 0.5)


def require_running(version: ProjectVersion) -> None:
    """DetectCustomLabels answers only while RUNNING."""
    if version.status != RUNNING:
        raise not_ready(f"ProjectVersion {version.arn} is not ready: its status is {version.status}.")
