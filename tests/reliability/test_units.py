"""The pieces the suite's guarantees rest on, tested alone (fast; `make mutate` runs these on each mutant).

Readable, bounded causes; the answer-shape check that keeps a broken answer out of the cache; the
schema's finite numbers and bounded quotes; the error translation of Rekognition calls.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from rekoflow_common.analysis import ANSWER_MEMBERS, answer_problems, check_answer
from rekoflow_common.errors import (
    RekognitionRequestError,
    RekognitionThrottlingError,
    RekognitionTransientError,
    RequestTooLargeError,
    RequestValidationError,
    rekognition_errors,
)
from rekoflow_common.failures import MAX_CAUSE_CHARS, readable_cause
from rekoflow_common.records import MAX_SUMMARY_JSON_BYTES, fit_summary, to_dynamodb_item
from rekoflow_common.schema import MAX_REQUEST_BYTES, quote, validate_request_schema, validation_errors
from support.fake_rekognition import CANNED

IMAGE = {"bucket": "my-images", "key": "a.png"}


# ----- causes -------------------------------------------------------------------------------------------
def lambda_cause(message: str) -> str:
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": "ImageValidationError",
            "requestId": "x",
            "stackTrace": ['  File "/var/task/handler.py", line 3, in handler\n'],
        }
    )


@pytest.mark.parametrize(
    "cause,expected",
    [
        (lambda_cause("image is empty (0 bytes)"), "image is empty (0 bytes)"),
        (json.dumps({"Error": "X", "Cause": lambda_cause("nested message")}), "nested message"),
        (json.dumps({"cause": "lower-case cause"}), "lower-case cause"),
        (json.dumps({"message": "a message"}), "a message"),
        (json.dumps({"errorType": "MemoryError"}), "MemoryError (no message)"),
        ("States.Timeout after 90 s", "States.Timeout after 90 s"),
        (None, "no cause given"),
        ("", "no cause given"),
        ({"errorMessage": "given as an object"}, "given as an object"),
        (lambda_cause('cut short, with \\"quotes\\"')[:60], 'cut short, with \\"'),
        (
            'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    boom()\nValueError: boom',
            "ValueError: boom",
        ),
        ("[1, 2]", "[1, 2]"),
    ],
    ids=[
        "lambda",
        "nested",
        "cause",
        "message",
        "type-only",
        "text",
        "none",
        "empty",
        "object",
        "cut-short",
        "traceback",
        "json-list",
    ],
)
def test_a_cause_is_the_message_without_stack_traces(cause, expected):
    text = readable_cause(cause)
    assert text == expected or (expected in text and "Traceback" not in text), text
    assert "stackTrace" not in text and 'File "' not in text


def test_a_cause_is_bounded_and_says_how_long_it_was():
    text = readable_cause(lambda_cause("m" * 50_000))
    assert len(text) <= MAX_CAUSE_CHARS and text.endswith("(50,000 characters in all)")
    assert readable_cause("x" * 100, limit=60) == "x" * 20 + "... (100 characters in all)"
    assert readable_cause("x" * 60, limit=60) == "x" * 60


# ----- answers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("operation", sorted(ANSWER_MEMBERS))
def test_a_well_formed_answer_has_no_problems(operation):
    answer = CANNED.get(operation, {ANSWER_MEMBERS[operation]: []})
    assert answer_problems(operation, {**answer, "ResponseMetadata": {"HTTPStatusCode": 200}}) == []
    check_answer(operation, answer)


@pytest.mark.parametrize(
    "answer,problem",
    [
        ({}, "Labels is missing"),
        ([], "the answer is a list, not an object"),
        ({"Labels": [{"Name": "Cat", "Confidence": float("nan")}]}, "Labels[0].Confidence is not a finite number"),
        ({"Labels": [{"Name": "Cat", "Confidence": float("inf")}]}, "Labels[0].Confidence is not a finite number"),
        ({"Labels": "Cat"}, "Invalid type for Labels"),
        ({"Labels": [{"Name": 7}]}, "Invalid type for Labels[0].Name"),
    ],
    ids=["empty", "list", "nan", "inf", "not-a-list", "wrong-type"],
)
def test_a_broken_answer_is_refused_with_what_is_wrong(answer, problem):
    problems = answer_problems("DetectLabels", answer)
    assert any(problem in p for p in problems), problems
    with pytest.raises(
        RekognitionTransientError, match=r"DetectLabels failed: the answer is not a DetectLabels response"
    ):
        check_answer("DetectLabels", answer)


def test_members_newer_than_the_model_are_tolerated():
    assert answer_problems("DetectLabels", {"Labels": [], "SomethingAddedLater": {"x": 1}}) == []


def test_many_problems_are_summarised():
    answer = {"Labels": [{"Name": n, "Confidence": float("nan")} for n in range(6)]}
    with pytest.raises(RekognitionTransientError, match=r"\(and \d+ more\)$"):
        check_answer("DetectLabels", answer)


# ----- the errors Rekognition calls raise ---------------------------------------------------------------
def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "msg"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "DetectLabels"
    )


@pytest.mark.parametrize(
    "raised,error,message",
    [
        (
            client_error("ThrottlingException", 400),
            RekognitionThrottlingError,
            "DetectLabels failed: ThrottlingException: msg",
        ),
        (
            client_error("ProvisionedThroughputExceededException", 400),
            RekognitionThrottlingError,
            "ProvisionedThroughputExceededException",
        ),
        (client_error("InternalServerError", 500), RekognitionTransientError, "InternalServerError: msg"),
        (client_error("SomethingNew", 503), RekognitionTransientError, "SomethingNew: msg"),
        (client_error("InvalidImageFormatException", 400), RekognitionRequestError, "InvalidImageFormatException: msg"),
        (
            ReadTimeoutError(endpoint_url="http://x"),
            RekognitionTransientError,
            "Rekognition timed out (read timeout, BUDGET)",
        ),
        (
            ConnectTimeoutError(endpoint_url="http://x"),
            RekognitionTransientError,
            "Rekognition timed out (connect timeout, BUDGET)",
        ),
        (EndpointConnectionError(endpoint_url="http://x"), RekognitionTransientError, "cannot reach Rekognition"),
        (ConnectionClosedError(endpoint_url="http://x"), RekognitionTransientError, "cannot reach Rekognition"),
        (
            AttributeError("'list' object has no attribute 'get'"),
            RekognitionTransientError,
            "answer could not be read (AttributeError)",
        ),
    ],
    ids=[
        "throttling",
        "throughput",
        "500",
        "503",
        "rejected",
        "read-timeout",
        "connect-timeout",
        "unreachable",
        "reset",
        "unreadable",
    ],
)
def test_rekognition_errors_become_the_names_the_state_machine_retries(raised, error, message):
    with pytest.raises(error) as caught, rekognition_errors("DetectLabels", "BUDGET"):
        raise raised
    assert type(caught.value) is error and message in str(caught.value)


def test_a_long_service_message_is_bounded():
    with pytest.raises(RekognitionRequestError) as caught, rekognition_errors("DetectLabels"):
        raise ClientError(
            {"Error": {"Code": "X", "Message": "m" * 10_000}, "ResponseMetadata": {"HTTPStatusCode": 400}},
            "DetectLabels",
        )
    assert len(str(caught.value)) == 2000


# ----- schema --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("field", ["minConfidence", "maxLabels"])
def test_non_finite_numbers_are_refused_by_name(field, value):
    problems = validation_errors({"image": IMAGE, "analyses": ["labels"], "options": {"labels": {field: value}}})
    assert problems == [f"options.labels.{field}: {value!r} is not a finite number (JSON has no NaN or Infinity)"]


def test_finite_numbers_at_the_limits_pass():
    request = {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"minConfidence": 0.0, "maxLabels": 1000}}}
    assert validation_errors(request) == []
    assert validation_errors({**request, "options": {"labels": {"minConfidence": 100, "maxLabels": 1}}}) == []


def test_quotes_are_bounded_and_say_the_length():
    assert quote("short") == "'short'"
    assert quote("x" * 500) == "'" + "x" * 79 + "... (500 characters)"
    assert quote(["a"] * 100).endswith("characters as text)")
    assert len(quote("y" * 81)) > 81 and quote("y" * 78) == "'" + "y" * 78 + "'"


def test_a_request_over_the_size_limit_is_refused_before_it_is_validated():
    request = {"image": IMAGE, "analyses": ["labels"], "padding": "p" * MAX_REQUEST_BYTES}
    with pytest.raises(
        RequestTooLargeError, match=r"invalid request: 131,1\d\d bytes as JSON; a request is at most 131,072 bytes"
    ):
        validate_request_schema(request)
    assert issubclass(RequestTooLargeError, RequestValidationError)
    # At the limit, the schema speaks (about the unknown field), not the size check.
    request["padding"] = "p" * (MAX_REQUEST_BYTES - len(json.dumps({**request, "padding": ""}, separators=(",", ":"))))
    with pytest.raises(RequestValidationError, match="unknown field"):
        validate_request_schema(request)


def test_at_most_three_problems_are_listed():
    with pytest.raises(RequestValidationError) as error:
        validate_request_schema({"image": 1, "analyses": 2, "options": 3, "useCache": 4, "batchId": 5})
    assert str(error.value).count(";") == 2 and str(error.value).endswith("(and 2 more)")


# ----- records -------------------------------------------------------------------------------------------
def test_a_summary_over_its_budget_becomes_a_pointer():
    small = {"count": 1, "labels": ["a"]}
    assert fit_summary(small, "k") == small
    big = {"count": 5000, "labels": ["x" * 10] * 5000}
    assert fit_summary(big, "results/r/labels.json") == {
        "truncated": True,
        "count": 5000,
        "summaryBytes": len(json.dumps(big, separators=(",", ":"))),
        "resultKey": "results/r/labels.json",
    }
    edge = {"labels": "x" * (MAX_SUMMARY_JSON_BYTES - len('{"labels":""}'))}
    assert fit_summary(edge, "k") == edge and "truncated" in fit_summary({"labels": edge["labels"] + "x"}, "k")


def test_dynamodb_items_leave_out_none_and_keep_floats_exact():
    item = to_dynamodb_item({"a": None, "b": 0.1, "c": "s", "d": 3})
    assert item == {"b": {"N": "0.1"}, "c": {"S": "s"}, "d": {"N": "3"}}


# ----- an analysis' output: the cache expiry it asks for, what it stores ---------------------------------
class FakeS3:
    def __init__(self):
        self.puts = []

    def put_object(self, **kwargs):
        self.puts.append(kwargs)


def run_labels(monkeypatch, response, ttl_days=None, now=1_700_000_000.9):
    import rekoflow_common.analysis as analysis
    from rekoflow_common.config import ResultsLocation

    monkeypatch.setattr(analysis.time, "time", lambda: now)
    if ttl_days is not None:
        monkeypatch.setenv("CACHE_TTL_DAYS", str(ttl_days))
    else:
        monkeypatch.delenv("CACHE_TTL_DAYS", raising=False)
    s3 = FakeS3()
    item = {"type": "labels", "requestId": "req-1", "image": IMAGE, "options": {"minConfidence": 50}}
    output = analysis.run_analysis(
        analysis="labels",
        operation="DetectLabels",
        call=lambda **params: response,
        params={},
        summarize=lambda answer, options: {
            "count": len(answer["Labels"]),
            "labels": [l["Name"] for l in answer["Labels"]],
        },
        s3=s3,
        results=ResultsLocation("results", "results/"),
        item=item,
    )
    return output, s3


def test_an_analysis_asks_the_cache_to_keep_its_answer_for_the_ttl(monkeypatch):
    output, s3 = run_labels(
        monkeypatch, {"Labels": [{"Name": "Cat", "Confidence": 99.0}], "ResponseMetadata": {"RequestId": "x"}}
    )
    assert output == {
        "type": "labels",
        "cached": False,
        "summary": {"count": 1, "labels": ["Cat"]},
        "resultKey": "results/req-1/labels.json",
        "cacheExpiresAt": 1_700_000_000 + 30 * 86400,
    }
    output, _ = run_labels(monkeypatch, {"Labels": []}, ttl_days=1)
    assert output["cacheExpiresAt"] == 1_700_000_000 + 86400


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_a_cache_ttl_below_one_day_is_a_configuration_error(monkeypatch, value):
    from rekoflow_common.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="CACHE_TTL_DAYS must be"):
        run_labels(monkeypatch, {"Labels": []}, ttl_days=value)


def test_an_analysis_stores_the_full_answer_and_its_summary(monkeypatch):
    _, s3 = run_labels(
        monkeypatch, {"Labels": [{"Name": "Cat", "Confidence": 99.0}], "ResponseMetadata": {"RequestId": "x"}}
    )
    (put,) = s3.puts
    assert (put["Bucket"], put["Key"], put["ContentType"]) == (
        "results",
        "results/req-1/labels.json",
        "application/json",
    )
    assert put["Body"] == (
        b'{"requestId":"req-1","analysis":"labels","summary":{"count":1,"labels":["Cat"]},'
        b'"response":{"Labels":[{"Name":"Cat","Confidence":99.0}]}}'
    )


def test_a_broken_answer_is_neither_stored_nor_summarised(monkeypatch):
    with pytest.raises(RekognitionTransientError, match="Labels is missing"):
        run_labels(monkeypatch, {"ResponseMetadata": {"RequestId": "x"}})


def test_a_large_summary_leaves_the_state_as_a_pointer(monkeypatch):
    labels = [{"Name": "L" * 40 + str(i), "Confidence": 90.0} for i in range(2000)]
    output, s3 = run_labels(monkeypatch, {"Labels": labels})
    assert output["summary"]["truncated"] is True and output["summary"]["resultKey"] == "results/req-1/labels.json"
    assert output["summary"]["count"] == 2000 and len(json.loads(s3.puts[0]["Body"])["summary"]["labels"]) == 2000


def test_a_timeout_message_names_the_budget_of_the_environment(monkeypatch):
    monkeypatch.setenv("REKOGNITION_READ_TIMEOUT_S", "3")
    monkeypatch.setenv("REKOGNITION_CONNECT_TIMEOUT_S", "0.5")
    monkeypatch.setenv("REKOGNITION_MAX_ATTEMPTS", "2")

    def hang(**params):
        raise ReadTimeoutError(endpoint_url="http://x")

    import rekoflow_common.analysis as analysis
    from rekoflow_common.config import ResultsLocation

    with pytest.raises(RekognitionTransientError) as error:
        analysis.run_analysis(
            analysis="labels",
            operation="DetectLabels",
            call=hang,
            params={},
            summarize=lambda a, o: {},
            s3=FakeS3(),
            results=ResultsLocation("r", "results/"),
            item={"requestId": "r", "options": {}},
        )
    assert (
        str(error.value)
        == "DetectLabels failed: Rekognition timed out (read timeout, 3 s read and 0.5 s connect timeout, 2 attempt(s))"
    )


# ----- budgets and settings --------------------------------------------------------------------------------
def test_budgets_default_to_the_declared_values_and_take_the_environment(monkeypatch):
    from rekoflow_common.clients import (
        REKOGNITION_DEFAULT,
        STORAGE_DEFAULT,
        ClientBudget,
        rekognition_budget,
        storage_budget,
    )

    for name in (
        "REKOGNITION_READ_TIMEOUT_S",
        "REKOGNITION_CONNECT_TIMEOUT_S",
        "REKOGNITION_MAX_ATTEMPTS",
        "STORAGE_READ_TIMEOUT_S",
        "STORAGE_CONNECT_TIMEOUT_S",
    ):
        monkeypatch.delenv(name, raising=False)
    assert rekognition_budget() == REKOGNITION_DEFAULT == ClientBudget(2.0, 12.0, 3)
    assert storage_budget() == STORAGE_DEFAULT == ClientBudget(2.0, 5.0, 3)
    monkeypatch.setenv("STORAGE_READ_TIMEOUT_S", "0.1")
    monkeypatch.setenv("STORAGE_CONNECT_TIMEOUT_S", "0.2")
    monkeypatch.setenv("REKOGNITION_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("REKOGNITION_READ_TIMEOUT_S", "0.1")
    monkeypatch.setenv("REKOGNITION_CONNECT_TIMEOUT_S", "0.1")
    assert storage_budget() == ClientBudget(0.2, 0.1, 3)
    assert rekognition_budget() == ClientBudget(0.1, 0.1, 1)
    assert ClientBudget(0.5, 1.5, 2).describe() == "1.5 s read and 0.5 s connect timeout, 2 attempt(s)"


@pytest.mark.parametrize(
    "name,value",
    [("REKOGNITION_MAX_ATTEMPTS", "0"), ("REKOGNITION_READ_TIMEOUT_S", "0.05"), ("REKOGNITION_CONNECT_TIMEOUT_S", "0")],
)
def test_budgets_below_their_minimum_are_configuration_errors(monkeypatch, name, value):
    from rekoflow_common.clients import rekognition_budget
    from rekoflow_common.config import ConfigurationError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"^environment variable {name} must be"):
        rekognition_budget()


def test_the_storage_clients_take_the_storage_budget(monkeypatch):
    from rekoflow_common.clients import dynamodb_client, s3_client

    monkeypatch.setenv("STORAGE_READ_TIMEOUT_S", "4")
    for client in (s3_client(), dynamodb_client()):
        config = client.meta.config
        assert (config.read_timeout, config.connect_timeout, config.retries) == (
            4.0,
            2.0,
            {"mode": "standard", "total_max_attempts": 3},
        )


def test_settings_are_read_with_their_defaults_and_minimums(monkeypatch):
    from rekoflow_common.config import ConfigurationError, ResultsLocation, env_float, env_int, env_str

    monkeypatch.delenv("X_SETTING", raising=False)
    assert env_int("X_SETTING", 7) == 7 and env_float("X_SETTING", 1.5) == 1.5
    monkeypatch.setenv("X_SETTING", "")
    assert env_int("X_SETTING", 7) == 7 and env_float("X_SETTING", 1.5) == 1.5
    with pytest.raises(ConfigurationError, match="^environment variable X_SETTING is required$"):
        env_str("X_SETTING", "an empty value is not the default")
    monkeypatch.delenv("X_SETTING")
    assert env_str("X_SETTING", "fallback") == "fallback"
    monkeypatch.setenv("X_SETTING", "3")
    assert env_int("X_SETTING", 7, minimum=3) == 3 and env_float("X_SETTING", 1.0, minimum=3) == 3.0
    with pytest.raises(ConfigurationError, match="^environment variable X_SETTING must be >= 4, got 3$"):
        env_int("X_SETTING", 7, minimum=4)
    with pytest.raises(
        ConfigurationError, match=r"^environment variable X_SETTING must be a finite number >= 4, got '3'$"
    ):
        env_float("X_SETTING", 7, minimum=4)
    monkeypatch.setenv("X_SETTING", "three")
    with pytest.raises(ConfigurationError, match="^environment variable X_SETTING must be an integer, got 'three'$"):
        env_int("X_SETTING", 7)
    with pytest.raises(ConfigurationError, match="^environment variable X_SETTING must be a number, got 'three'$"):
        env_float("X_SETTING", 7)
    monkeypatch.setenv("RESULTS_BUCKET", "b")
    monkeypatch.setenv("RESULTS_PREFIX", "out")
    assert ResultsLocation.from_env() == ResultsLocation("b", "out/")
    monkeypatch.delenv("RESULTS_PREFIX")
    assert ResultsLocation.from_env() == ResultsLocation("b", "results/")
    monkeypatch.setenv("RESULTS_PREFIX", "")
    assert ResultsLocation.from_env() == ResultsLocation("b", "")


# ----- records --------------------------------------------------------------------------------------------
def test_records_are_compact_sorted_json_and_expire_only_with_a_ttl(monkeypatch):
    import datetime as dt

    import rekoflow_common.records as records

    assert (
        records.compact_json({"b": 1, "a": [1, 2], "when": dt.date(2024, 1, 2)})
        == '{"a":[1,2],"b":1,"when":"2024-01-02"}'
    )
    monkeypatch.setattr(records.time, "time", lambda: 1_000.5)
    assert records.expires_at(2) == 1_000 + 2 * 86400 and records.expires_at(1) == 1_000 + 86400
    assert records.expires_at(0) is None and records.expires_at(-3) is None
    assert re_iso(records.now_iso())


def re_iso(text: str) -> bool:
    import re

    return re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text) is not None


# ----- schema messages --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "request_,message",
    [
        (
            {"image": {"bucket": "b" * 64, "key": "k"}, "analyses": ["labels"]},
            "image.bucket: 64 characters; at most 63 allowed",
        ),
        ({"image": {**IMAGE, "key": ""}, "analyses": ["labels"]}, "image.key: 0 characters; at least 1 allowed"),
        ({"image": IMAGE, "analyses": ["labels"] * 7}, "analyses: 7 items; at most 6 allowed"),
        (
            {"image": IMAGE, "analyses": ["labels"], "k" * 50: 1},
            "request: unknown field(s) 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... (50 characters)",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], **{f"x{i}": 1 for i in range(7)}},
            "request: unknown field(s) x0, x1, x2, x3, x4 and 2 more (allowed: ",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"minConfidence": True}}},
            "options.labels.minConfidence: expected number, got bool True",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"maxLabels": 2.0**70}}},
            "options.labels.maxLabels: 1.1805916207174113e+21 is greater than the maximum of 1000",
        ),
        (
            {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"inclusionFilters": ["x" * 101]}}},
            "options.labels.inclusionFilters[0]: 101 characters; at most 100 allowed",
        ),
    ],
)
def test_schema_messages_name_the_field_and_the_limit(request_, message):
    problems = validation_errors(request_)
    assert any(p.startswith(message) for p in problems), problems


def test_a_long_field_name_in_a_path_is_shortened():
    request = {"image": IMAGE, "analyses": ["labels"], "options": {"labels": {"minConfidence": 1}, "f" * 60: {}}}
    problems = validation_errors(request)
    assert problems == [
        "options: unknown field(s) '"
        + "f" * 39
        + "... (60 characters) (allowed: compare, custom, faces, labels, moderation, text)"
    ]


def test_one_problem_is_given_whole_and_three_are_joined():
    with pytest.raises(RequestValidationError) as one:
        validate_request_schema({"image": IMAGE, "analyses": []})
    assert str(one.value) == "invalid request: analyses: [] should be non-empty"
    with pytest.raises(RequestValidationError) as three:
        validate_request_schema({"image": IMAGE, "analyses": [], "useCache": 1, "batchId": 2})
    assert str(three.value) == (
        "invalid request: analyses: [] should be non-empty; batchId: expected string, got int 2; "
        "useCache: expected boolean, got int 1"
    )


def test_a_cause_keeps_its_nested_message_and_limit():
    nested = json.dumps({"Cause": json.dumps({"errorMessage": "m" * 100})})
    assert readable_cause(nested, limit=60) == "m" * 20 + "... (100 characters in all)"
    assert readable_cause(json.dumps({"CAUSE": "x", "message": "the message"})) == "the message"
    assert readable_cause({"when": object()}).startswith('{"when": "<object object')
    traceback_only = 'Traceback (most recent call last):\n  File "a.py", line 1\n    x\n'
    assert readable_cause(traceback_only) == traceback_only.strip("\n") or "Traceback" in readable_cause(traceback_only)
    assert readable_cause("line one\nline two") == "line one\nline two"
    assert readable_cause('{"errorMessage": "cut \\u00e9', limit=100) == "cut é"


def test_image_properties_alone_are_answered_without_labels():
    """DetectLabels asked only for IMAGE_PROPERTIES answers ImageProperties, no Labels (as the engine does)."""
    properties = {"ImageProperties": {"Quality": {"Brightness": 50.0}}}
    assert answer_problems("DetectLabels", properties, {"Features": ["IMAGE_PROPERTIES"]}) == []
    assert answer_problems("DetectLabels", {}, {"Features": ["IMAGE_PROPERTIES"]}) == ["ImageProperties is missing"]
    assert answer_problems("DetectLabels", properties, {"Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"]}) == [
        "Labels is missing"
    ]
    assert answer_problems("DetectLabels", properties, {}) == ["Labels is missing"]
