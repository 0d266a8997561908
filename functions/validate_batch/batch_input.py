"""Checks of a batch run's input that the batch state machine's Choice rules cannot state.

Step Functions names every child execution ``<batchId>-<MD5 of the image key>`` (32 hex
characters), and execution names are limited to 80 characters: a batch id over 47 characters
would make every child fail to start. JSONPath Choice rules have no string length, so the batch
machine asks this function before it lists anything (docs/batch-and-tracing.md).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

MAX_EXECUTION_NAME_CHARS = 80
CHILD_NAME_SUFFIX_CHARS = 1 + 32  # "-" + the MD5 hex digest of the image key
MAX_BATCH_ID_CHARS = MAX_EXECUTION_NAME_CHARS - CHILD_NAME_SUFFIX_CHARS
BATCH_ID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_BATCH_ID_CHARS - 1}}}$")
BATCH_RESULTS_PREFIX = "batches/"


class InvalidBatchInput(Exception):
    """The batch input cannot be run; the message names the field and the limit."""


def check_batch(batch: Mapping[str, Any]) -> dict[str, str]:
    """Raise InvalidBatchInput for a batch id children cannot be named after; else where results go."""
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
    return {"batchId": batch_id, "resultsPrefix": f"{BATCH_RESULTS_PREFIX}{batch_id}"}
