"""The moto patches that make the Terraform AWS provider work against moto's server (make tf-local)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from rekoflow.local import patches as moto_patches
from rekoflow.local.patches import terraform_compat

pytest.importorskip("moto")

MINIMAL_ASL = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture()
def server():
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.stop()


def _sfn(url: str):
    # One attempt: moto's 500 for a missing API would otherwise be retried with backoff.
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def test_without_the_patch_moto_lacks_the_provider_apis(server):
    """Guards the reason for the patch: if a moto upgrade adds these, the patch can go."""
    sfn = _sfn(server)
    arn = sfn.create_state_machine(name="sm", definition=MINIMAL_ASL, roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(ClientError) as missing:
        sfn.list_state_machine_versions(stateMachineArn=arn)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises(ClientError) as missing:
        sfn.validate_state_machine_definition(definition=MINIMAL_ASL)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_list_state_machine_versions(server):
    undo = moto_patches.install_terraform_compat()
    try:
        sfn = _sfn(server)
        arn = sfn.create_state_machine(name="sm", definition=MINIMAL_ASL, roleArn=ROLE)["stateMachineArn"]
        assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
        published = sfn.create_state_machine(name="pub", definition=MINIMAL_ASL, roleArn=ROLE, publish=True)
        versions = sfn.list_state_machine_versions(stateMachineArn=published["stateMachineArn"])["stateMachineVersions"]
        assert [v["stateMachineVersionArn"] for v in versions] == [published["stateMachineVersionArn"]]
    finally:
        undo()


def test_validate_state_machine_definition(server):
    undo = moto_patches.install_terraform_compat()
    try:
        sfn = _sfn(server)
        ok = sfn.validate_state_machine_definition(definition=MINIMAL_ASL, type="STANDARD")
        assert ok["result"] == "OK" and ok["diagnostics"] == []
        bad = sfn.validate_state_machine_definition(definition="{not json")
        assert bad["result"] == "FAIL" and bad["diagnostics"][0]["severity"] == "ERROR"
        no_states = sfn.validate_state_machine_definition(definition='{"StartAt": "x"}')
        assert no_states["result"] == "FAIL"
    finally:
        undo()


def test_undo_restores_moto(server):
    from moto.stepfunctions.responses import StepFunctionResponse

    undo = moto_patches.install_terraform_compat()
    assert hasattr(StepFunctionResponse, "list_state_machine_versions")
    undo()
    assert "list_state_machine_versions" not in StepFunctionResponse.__dict__
    assert "validate_state_machine_definition" not in StepFunctionResponse.__dict__


def _s3(url: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _tls_only(bucket: str, extra: list | None = None) -> str:
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements + (extra or [])})


def test_tls_only_bucket_policy_denies_everything_without_the_patch(server):
    s3 = _s3(server)
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(Bucket="tls-only", Policy=_tls_only("tls-only"))
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="tls-only", Key="a.png", Body=b"x")
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403  # denied, not any other failure


def test_tls_only_bucket_policy_allows_requests_with_the_patch(server):
    undo = moto_patches.install_terraform_compat()
    try:
        s3 = _s3(server)
        s3.create_bucket(Bucket="tls-only")
        deny_other = [
            {
                "Sid": "DenyOther",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::tls-only/secret/*",
            }
        ]
        s3.put_bucket_policy(Bucket="tls-only", Policy=_tls_only("tls-only", deny_other))
        s3.put_object(Bucket="tls-only", Key="a.png", Body=b"x")
        assert s3.get_object(Bucket="tls-only", Key="a.png")["Body"].read() == b"x"
        s3.put_object(Bucket="tls-only", Key="secret/b", Body=b"y")
        with pytest.raises(ClientError) as denied:  # unconditional Deny statements still apply
            s3.get_object(Bucket="tls-only", Key="secret/b")
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403  # denied, not any other failure
    finally:
        undo()
    from moto.s3.models import FakeBucket

    assert "get_permission" in FakeBucket.__dict__  # moto's own method is back


def test_drop_secure_transport_denials_keeps_other_statements():
    policy = json.loads(
        _tls_only("b", [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}])
    )
    kept = terraform_compat._drop_secure_transport_denials(policy)["Statement"]
    assert [st["Effect"] for st in kept] == ["Allow"]


def _zip(text: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", text)
    return buffer.getvalue()


def _lambda_and_role(url: str):
    kwargs = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    iam = boto3.client("iam", **kwargs)
    role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    client = boto3.client("lambda", config=Config(retries={"mode": "standard", "total_max_attempts": 1}), **kwargs)
    return client, role["Role"]["Arn"]


def _create(client, role: str, code: str, name: str = "fn"):
    return client.create_function(
        FunctionName=name,
        Role=role,
        Handler="handler.lambda_handler",
        Runtime="python3.12",
        Code={"ZipFile": _zip(code)},
        Environment={"Variables": {"A": "1"}},
    )


def test_an_identical_create_function_replay_gets_the_function_not_a_conflict(server):
    """The provider retries a create whose answer was lost; the replay must not loop on 409 for 5 minutes."""
    client, role = _lambda_and_role(server)
    _create(client, role, "x = 1")
    with pytest.raises(ClientError) as conflict:  # moto alone: the replay conflicts
        _create(client, role, "x = 1")
    assert conflict.value.response["Error"]["Code"] == "ResourceConflictException"

    undo = moto_patches.install_terraform_compat()
    try:
        moto_patches.REPLAYED_CREATES.clear()
        first = _create(client, role, "y = 2", name="replayed")
        again = _create(client, role, "y = 2", name="replayed")
        assert again["FunctionArn"] == first["FunctionArn"] and again["CodeSha256"] == first["CodeSha256"]
        assert moto_patches.REPLAYED_CREATES == ["replayed"]
        # Anything but an exact replay still conflicts, as on AWS.
        with pytest.raises(ClientError) as different_code:
            _create(client, role, "y = 3", name="replayed")
        assert different_code.value.response["Error"]["Code"] == "ResourceConflictException"
        client.update_function_configuration(FunctionName="replayed", Timeout=30)
        with pytest.raises(ClientError) as changed_since:
            _create(client, role, "y = 2", name="replayed")
        assert changed_since.value.response["Error"]["Code"] == "ResourceConflictException"
        assert moto_patches.REPLAYED_CREATES == ["replayed"]
    finally:
        undo()
        moto_patches.REPLAYED_CREATES.clear()
    from moto.awslambda.responses import LambdaResponse

    assert LambdaResponse.create_function.__qualname__ == "LambdaResponse.create_function"


def test_incident_recorder_keeps_server_errors_exceptions_and_slow_requests():
    from rekoflow.local.incidents import IncidentRecorder

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("dictionary changed size during iteration")
        status = "500 Internal Server Error" if environ["PATH_INFO"] == "/fail" else "200 OK"
        start_response(status, [])
        return [b"internal failure" if status.startswith("5") else b"fine"]

    recorder = IncidentRecorder(app, slow_seconds=0.0)
    environ = {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartExecution"}
    assert recorder({**environ, "PATH_INFO": "/fail"}, lambda *a: None) == [b"internal failure"]
    with pytest.raises(RuntimeError):
        recorder({**environ, "PATH_INFO": "/boom"}, lambda *a: None)
    recorder({"REQUEST_METHOD": "GET", "PATH_INFO": "/ok"}, lambda *a: None)
    failed, raised, slow = recorder.incidents
    assert failed.status.startswith("500") and failed.detail == "internal failure"
    assert "AWSStepFunctions.StartExecution: 500" in failed.describe()
    assert raised.status == "exception" and "dictionary changed size" in raised.detail
    assert slow.status == "slow (200 OK)" and slow.describe().startswith("GET /ok")
