"""The API Gateway mapping templates of terraform/api/, rendered as API Gateway renders them.

API Gateway's Velocity is the local stack's (rekoflow.local.apigateway.vtl: airspeed plus $input,
$util, $context, $stageVariables), which also executes the API itself (tests/api/). The request
template's output must be a valid StartExecution request whose input the request schema and the
state machine accept; the GetItem response template must turn real records
(written by real executions on the local stack) into valid JSON carrying the record's content.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rekoflow.local.apigateway import declaration
from rekoflow.local.apigateway import vtl as apigw_vtl
from rekoflow_common.schema import validate_request_schema
from support.images import image_bytes

REPO = Path(__file__).resolve().parents[2]
STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:rekoflow-image-analysis"
VARIABLES = {"state_machine_arn": STATE_MACHINE_ARN, "table_name": "rekoflow-results"}
FILES = {
    "start_execution_template": "start_execution.request.vtl",
    "start_execution_response": "start_execution.response.vtl",
    "start_execution_error": "start_execution.error.vtl",
    "get_item_template": "get_item.request.vtl",
    "get_item_response": "get_item.response.vtl",
    "error_response": "service_error.vtl",
}
TEMPLATES = {name: declaration.template(file, VARIABLES) for name, file in FILES.items()}


class vtl:  # noqa: N801 - the render helper the tests below call
    @staticmethod
    def render(
        template: str, body: str, path_params: dict | None = None, request_id: str = "gw-request-1"
    ) -> tuple[str, int | None]:
        context = {"requestId": request_id, "domainName": "api.example.com", "stage": "v1"}
        output = apigw_vtl.render(
            template, apigw_vtl.Input(body, path_params or {}), context, {"baseUrl": "https://api.example.com/v1"}
        )
        return output, apigw_vtl.override_status(context)


def start_execution(body: dict | str, request_id: str = "gw-req-1") -> dict:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    output, status = vtl.render(TEMPLATES["start_execution_template"], text, request_id=request_id)
    assert status is None
    return json.loads(output)  # must be valid JSON for the StartExecution integration


def test_every_template_file_is_declared_and_rendered_without_placeholders():
    api = declaration.declaration()
    declared = set()
    for method in api["methods"].values():
        declared |= set(method["integration"].get("request_templates", {}).values())
        for response in method["integration_responses"].values():
            declared |= set(response["templates"].values())
    assert declared == set(FILES.values()) == {p.name for p in declaration.api_dir().glob("*.vtl")}
    for text in TEMPLATES.values():
        assert "${" not in text.replace("$!{", "")


def test_request_id_names_the_execution_and_the_input_is_the_body():
    body = {"requestId": "order-42", "image": {"bucket": "b", "key": "cats/tom.jpg"}, "analyses": ["labels", "faces"]}
    request = start_execution(body)
    assert request["stateMachineArn"] == STATE_MACHINE_ARN and request["name"] == "order-42"
    assert json.loads(request["input"]) == body


def test_without_request_id_api_gateways_request_id_is_used_and_added_to_the_input():
    body = {
        "image": {"bucket": "photos", "key": "k.png"},
        "analyses": ["text"],
        "options": {"text": {"wordFilter": {"minConfidence": 80}}},
    }
    request = start_execution(body, request_id="6f1c-aa")
    assert request["name"] == "6f1c-aa"
    executed = json.loads(request["input"])
    assert executed == {"requestId": "6f1c-aa", **body}
    validate_request_schema(executed)  # what Validate request checks first


@pytest.mark.parametrize(
    "key",
    ["o'brien's cat.jpg", 'quote"d\\back/slash.png', "Ünïcødé/日本/猫.jpeg", "emoji 🐱.png", "tab\tand\nnewline.jpg"],
)
def test_keys_with_quotes_backslashes_and_unicode_survive_both_json_layers(key):
    body = {"requestId": "k-1", "image": {"bucket": "b", "key": key}, "analyses": ["labels"]}
    assert json.loads(start_execution(body)["input"])["image"]["key"] == key
    no_id = {"image": {"bucket": "b", "key": key}, "analyses": ["labels"]}
    assert json.loads(start_execution(no_id)["input"])["image"]["key"] == key


def test_start_response_gives_the_request_id_and_status_url():
    answer = {"executionArn": f"{STATE_MACHINE_ARN.replace('stateMachine', 'execution')}:order-42", "startDate": 1.7e9}
    output, status = vtl.render(TEMPLATES["start_execution_response"], json.dumps(answer))
    response = json.loads(output)
    assert status is None
    assert response == {
        "requestId": "order-42",
        "executionArn": answer["executionArn"],
        "statusUrl": "https://api.example.com/v1/analyses/order-42",
    }


def test_a_repeated_request_id_is_a_409_with_the_service_message():
    error = {
        "__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists",
        "message": "Execution Already Exists: 'arn:...:order-42'",
    }
    output, status = vtl.render(TEMPLATES["start_execution_error"], json.dumps(error))
    assert status == 409
    assert json.loads(output) == {"error": error["__type"], "message": error["message"]}
    other = {"__type": "InvalidName", "message": "Invalid Name: 'a b'"}
    output, status = vtl.render(TEMPLATES["start_execution_error"], json.dumps(other))
    assert status is None and json.loads(output)["error"] == "InvalidName"


def test_get_item_request_escapes_the_path_parameter():
    output, _ = vtl.render(TEMPLATES["get_item_template"], "", path_params={"requestId": 'a"b'})
    request = json.loads(output)
    assert request == {"TableName": "rekoflow-results", "Key": {"pk": {"S": 'a"b'}}, "ConsistentRead": True}


@pytest.fixture(scope="module")
def stored_records(workflow):
    """Real records: one success with several analyses, one failure, as the executions stored them."""
    ok = workflow.put_bytes(image_bytes(240, 200), "api/ok.png")
    assert workflow.analyze({"requestId": "api-ok", "image": ok, "analyses": ["labels", "text"]}).succeeded
    missing = {"bucket": ok["bucket"], "key": "api/missing 'quoted'.png"}
    assert not workflow.analyze({"requestId": "api-failed", "image": missing, "analyses": ["faces"]}).succeeded
    table = workflow.config.table_name
    return {
        name: workflow.dynamodb.get_item(TableName=table, Key={"pk": {"S": name}}, ConsistentRead=True)
        for name in ("api-ok", "api-failed")
    }


def render_item(answer: dict, request_id: str) -> tuple[dict, int | None]:
    wire = json.loads(json.dumps(answer, default=str))  # what DynamoDB's JSON protocol sends
    wire.pop("ResponseMetadata", None)
    output, status = vtl.render(TEMPLATES["get_item_response"], json.dumps(wire), path_params={"requestId": request_id})
    return json.loads(output), status


def test_get_response_of_a_succeeded_record_carries_its_results(stored_records):
    from rekoflow.local.client import decode_record

    record = decode_record(stored_records["api-ok"]["Item"])
    response, status = render_item(stored_records["api-ok"], "api-ok")
    assert status is None
    assert response["requestId"] == "api-ok" and response["status"] == "SUCCEEDED"
    assert response["results"] == record["results"]
    assert response["analyses"] == record["analyses"] == ["labels", "text"]
    assert response["image"] == record["image"] and response["resultKeys"] == record["resultKeys"]
    assert response["createdAt"] == record["createdAt"] and response["executionArn"] == record["executionArn"]


def test_get_response_of_a_failed_record_carries_error_and_cause(stored_records):
    from rekoflow.local.client import decode_record

    record = decode_record(stored_records["api-failed"]["Item"])
    response, status = render_item(stored_records["api-failed"], "api-failed")
    assert status is None
    assert response["status"] == "FAILED"
    assert response["error"] == record["error"] and response["cause"] == record["cause"]
    assert "missing 'quoted'.png" in response["cause"]


def test_get_response_for_an_unknown_request_is_404():
    response, status = render_item({}, "nope")
    assert status == 404 and response == {"error": "NotFound", "message": "no analysis with requestId nope"}
