"""The batch id check: children are named <batchId>-<32 hex>, and Step Functions allows 80 characters."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from validate_batch.batch_input import MAX_BATCH_ID_CHARS, InvalidBatchInput, check_batch

ROOT = Path(__file__).resolve().parents[2]


def child_name(batch_id: str, key: str) -> str:
    # As the batch ASL names it: States.Format('{}-{}', $.batchId, States.Hash($.image.key, 'MD5')).
    return f"{batch_id}-{hashlib.md5(key.encode()).hexdigest()}"


def test_the_longest_accepted_batch_id_names_children_within_80_characters():
    longest = "a" * MAX_BATCH_ID_CHARS
    assert check_batch({"batchId": longest}) == {
        "batchId": longest,
        "resultsPrefix": f"batches/{longest}",
        "model": None,
    }
    assert len(child_name(longest, "any/key.png")) == 80


@pytest.mark.parametrize(
    "batch_id, expected",
    [
        ("a" * 48, "48 characters"),
        ("", "must be 1-47 characters"),
        ("-starts-with-dash", "starting with a letter or digit"),
        ("has space", "letters, digits"),
        (None, "batchId None"),
    ],
)
def test_bad_batch_ids_are_rejected_naming_the_limit(batch_id, expected):
    with pytest.raises(InvalidBatchInput, match=re.escape(expected)):
        check_batch({"batchId": batch_id})


def test_the_request_schema_allows_the_same_batch_ids():
    schema = json.loads((ROOT / "functions/rekoflow_common/schemas/analysis_request.schema.json").read_text())
    pattern = schema["properties"]["batchId"]["pattern"]
    assert re.fullmatch(pattern, "a" * MAX_BATCH_ID_CHARS) and not re.fullmatch(pattern, "a" * (MAX_BATCH_ID_CHARS + 1))
