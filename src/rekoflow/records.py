"""What the CLI, the local stack and the smoke test know of executions and of the results table's keys."""

from __future__ import annotations

# The Step Functions execution statuses that do not change again.
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

BATCH_KEY_PREFIX = "batch#"


def batch_record_key(batch_id: str) -> str:
    """The results table key of a batch's record: the key ``summarize_batch`` writes (a test ties the two)."""
    return f"{BATCH_KEY_PREFIX}{batch_id}"
