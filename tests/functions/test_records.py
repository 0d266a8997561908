"""The DynamoDB records: the aggregated success record and the failure record."""

import json

import boto3
import pytest
from moto import mock_aws

from aggregate_results.aggregate import aggregate
from record_failure.failure import record_failure
from rekoflow_common.failures import fail_state_error, readable_cause
from rekoflow_common.records import MAX_RESULTS_JSON_BYTES

OUTPUTS = [
    {
        "type": "labels",
        "cached": False,
        "summary": {"count": 1, "labels": [{"name": "Cat", "confidence": 97.5}]},
        "resultKey": "results/r/labels.json",
    },
    {"type": "text", "cached": True, "summary": {"count": 0, "fullText": ""}, "resultKey": "results/old/text.json"},
]
EVENT = {
    "requestId": "r",
    "batchId": None,
    "image": {"bucket": "b", "key": "k"},
    "results": OUTPUTS,
    "executionArn": "arn:x",
    "startedAt": "2026-01-01T00:00:00Z",
}


def test_aggregate_builds_record_and_typed_item():
    out = aggregate(EVENT, record_ttl_days=0)
    record, item = out["record"], out["item"]
    results = json.loads(item["results"]["S"])
    assert results["labels"]["labels"][0]["name"] == "Cat" and results["text"] == OUTPUTS[1]["summary"]
    assert record["cachedAnalyses"] == ["text"] and record["analyses"] == ["labels", "text"]
    assert item["pk"] == {"S": "r"} and item["status"] == {"S": "SUCCEEDED"} and item["cacheHits"] == {"N": "1"}
    # The summaries are in the state once: in the item, not again in the execution's output record.
    assert "results" not in record and record["resultsTruncated"] is False
    assert json.loads(item["resultKeys"]["S"]) == {"labels": "results/r/labels.json", "text": "results/old/text.json"}
    # Absent optional attributes are left out: a GSI key may be missing, never empty or null.
    assert "batchId" not in item and "expiresAt" not in item


def test_aggregate_sets_batch_and_ttl():
    item = aggregate({**EVENT, "batchId": "nightly"}, record_ttl_days=7)["item"]
    assert item["batchId"] == {"S": "nightly"} and int(item["expiresAt"]["N"]) > 0


def test_oversized_results_are_replaced_by_pointers():
    big = [
        {
            "type": "text",
            "cached": False,
            "summary": {"fullText": "x" * (MAX_RESULTS_JSON_BYTES + 10)},
            "resultKey": "results/r/text.json",
        }
    ]
    out = aggregate({**EVENT, "results": big}, 0)
    assert json.loads(out["item"]["results"]["S"]) == {"text": {"truncated": True, "resultKey": "results/r/text.json"}}
    assert out["item"]["resultsTruncated"] == {"BOOL": True} and out["record"]["resultsTruncated"] is True


def test_the_offload_threshold_leaves_room_in_the_state():
    """The item's summaries (escaped once more inside the state) plus the record stay under 256 KiB."""
    from rekoflow_common.records import MAX_SUMMARY_JSON_BYTES, STATE_LIMIT_BYTES, state_bytes

    assert MAX_RESULTS_JSON_BYTES < STATE_LIMIT_BYTES * 0.7
    # Six analyses at their summary budget fit the record threshold, so only pathological cases go to S3.
    assert 6 * MAX_SUMMARY_JSON_BYTES <= MAX_RESULTS_JSON_BYTES
    # A quote-dense summary just under the threshold: the whole aggregate output still fits.
    dense = {"labels": [{"n": '"' * 40} for _ in range(700)]}
    outputs = [{"type": "labels", "cached": False, "summary": dense, "resultKey": "results/r/labels.json"}]
    out = aggregate({**EVENT, "results": outputs}, 0)
    assert state_bytes(out) < STATE_LIMIT_BYTES


def test_a_summary_over_its_budget_is_a_pointer_to_s3():
    from rekoflow_common.records import MAX_SUMMARY_JSON_BYTES, fit_summary

    small = {"count": 1, "labels": [{"name": "Cat"}]}
    assert fit_summary(small, "results/r/labels.json") == small
    big = {"count": 3000, "labels": [{"name": "x" * 20}] * 3000}
    fitted = fit_summary(big, "results/r/labels.json")
    assert fitted["truncated"] is True and fitted["count"] == 3000 and fitted["resultKey"] == "results/r/labels.json"
    assert fitted["summaryBytes"] > MAX_SUMMARY_JSON_BYTES


@pytest.mark.parametrize(
    "cause,expected",
    [
        (
            json.dumps({"errorMessage": "image is 50x50 px", "errorType": "ImageValidationError", "stackTrace": []}),
            "image is 50x50 px",
        ),
        (json.dumps({"Cause": json.dumps({"errorMessage": "inner"})}), "inner"),
        ("States.Timeout after 90 s", "States.Timeout after 90 s"),
        (None, "no cause given"),
    ],
)
def test_readable_cause(cause, expected):
    assert readable_cause(cause) == expected


def test_reserved_error_names_are_renamed_for_the_fail_state():
    assert fail_state_error("States.Timeout") == "Workflow.Timeout"
    assert fail_state_error("ImageValidationError") == "ImageValidationError"


def test_record_failure_writes_the_failed_record():
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        event = {
            "requestId": "r-1",
            "executionArn": "arn:aws:states:us-east-1:1:execution:m:r-1",
            "startedAt": "2026-01-01T00:00:00Z",
            "input": {"image": {"bucket": "b", "key": "k"}, "analyses": ["labels"], "batchId": "b-7"},
            "failure": {"Error": "States.Runtime", "Cause": "boom"},
        }
        out = record_failure(ddb, "t", event)
        assert out == {"requestId": "r-1", "status": "FAILED", "error": "Workflow.Runtime", "cause": "boom"}
        item = ddb.get_item(TableName="t", Key={"pk": {"S": "r-1"}})["Item"]
        assert item["status"]["S"] == "FAILED" and item["error"]["S"] == "States.Runtime"
        assert item["batchId"]["S"] == "b-7" and json.loads(item["request"]["S"])["analyses"] == ["labels"]


def test_the_cli_reads_batch_records_under_the_key_summarize_batch_writes():
    from rekoflow.records import batch_record_key
    from summarize_batch.summary import batch_pk

    for batch_id in ("nightly-2026-12-01", "a", "x" * 64):
        assert batch_record_key(batch_id) == batch_pk(batch_id)


def test_terminal_statuses_are_the_execution_statuses_that_end():
    import botocore.session

    from rekoflow.records import TERMINAL_STATUSES

    statuses = set(botocore.session.get_session().get_service_model("stepfunctions").shape_for("ExecutionStatus").enum)
    # RUNNING goes on; PENDING_REDRIVE is a failed execution that a redrive is about to restart.
    assert statuses - {"RUNNING", "PENDING_REDRIVE"} == TERMINAL_STATUSES
