"""Checks of a batch run's input that the batch state machine's Choice rules cannot state.

Step Functions names every child execution ``<batchId>-<MD5 of the image key>`` (32 hex
characters), and execution names are limited to 80 characters: a batch id over 47 characters
would make every child fail to start. JSONPath Choice rules have no string length, so the batch
machine asks this function before it lists anything (docs/batch-and-tracing.md).

A batch with ``custom`` names an existing model (``options.custom.projectVersionArn``; training in
a batch would train once per image) and gets it back with the lease options' defaults: the batch
leases the model for the whole run (docs/custom-labels.md, "Batches").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rekoflow_common.options import with_defaults

MAX_EXECUTION_NAME_CHARS = 80
CHILD_NAME_SUFFIX_CHARS = 1 + 32  # "-" + the MD5 hex digest of the image key
MAX_BATCH_ID_CHARS = MAX_EXECUTION_NAME_CHARS - CHILD_NAME_SUFFIX_CHARS
BATCH_ID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_BATCH_ID_CHARS - 1}}}$")
BATCH_RESULTS_PREFIX = "batches/"


class InvalidBatchInput(Exception):
    """The batch input cannot be run; the message names the field and the limit."""


def check_batch(batch: Mapping[str, Any]) -> dict[str, Any]:
    """Raise InvalidBatchInput for a batch id children cannot be named after, or a custom analysis
    without a model; else where results go and the model the batch leases (or None)."""
    batch_id = batch.get("batchId")
    if not isinstance(batch_id, str) or not BATCH_ID.fullmatch(batch_id):
        shown = batch_id if not isinstance(batch_id, str) else f"{batch_id!r} ({len(batch_id)} characters)"
        raise InvalidBatchInput(
            f"batchId {shown} must be 1-{MAX_BATCH_ID_CHARS} characters of letters, digits, '-' and '_', "
            f"starting with a letter or digit: each image runs as an execution named <batchId>-<32-character "
            f"hash of its key>, and execution names are limited to {MAX_EXECUTION_NAME_CHARS} characters "
            "(without batchId the batch id is the execution name)"
        )
    # The ResultWriter prefix, as a plain value: ResultWriter's Prefix.$ takes a reference path.
    return {"batchId": batch_id, "resultsPrefix": f"{BATCH_RESULTS_PREFIX}{batch_id}", "model": custom_model(batch)}


def custom_model(batch: Mapping[str, Any]) -> dict[str, Any] | None:
    """The model a batch with 'custom' leases for its whole run, with the lease options' defaults."""
    analyses = batch.get("analyses") or []
    if "custom" not in analyses:
        return None
    options = batch.get("options") or {}
    custom = options.get("custom") if isinstance(options, Mapping) else None
    if not isinstance(custom, Mapping) or not isinstance(custom.get("projectVersionArn"), str):
        raise InvalidBatchInput(
            "a batch with 'custom' needs options.custom.projectVersionArn: "
            "the model version every image is analysed with"
        )
    if "training" in custom:
        raise InvalidBatchInput(
            "options.custom.training is not allowed in a batch (it would train one model per image): "
            "train first, then pass options.custom.projectVersionArn"
        )
    return {"projectVersionArn": custom["projectVersionArn"], "options": with_defaults("custom", custom)}
