"""make tf-local's own logic: the retry from scratch, a fresh stack per attempt, reading terraform's output."""

from __future__ import annotations

import pytest

from rekoflow.local import tf_local

pytest.importorskip("moto")


@pytest.fixture()
def buildable(tmp_path, monkeypatch):
    (tmp_path / "layer.zip").write_bytes(b"zip")
    monkeypatch.setattr(tf_local.shutil, "which", lambda name: f"/usr/bin/{name}")
    return ["--build-dir", str(tmp_path)]


def test_a_failed_attempt_is_tried_again_from_scratch(buildable, monkeypatch, capsys):
    outcomes = iter([False, True])
    calls = []
    monkeypatch.setattr(tf_local, "run_attempt", lambda args, build_dir: calls.append(build_dir) or next(outcomes))
    assert tf_local.main(buildable) == 0
    out = capsys.readouterr().out
    assert len(calls) == 2 and "attempt 1 failed" in out and "OK on attempt 2" in out


def test_a_fault_that_repeats_fails(buildable, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(tf_local, "run_attempt", lambda args, build_dir: calls.append(1) and False)
    assert tf_local.main([*buildable, "--attempts", "3"]) == 1
    assert len(calls) == 3 and capsys.readouterr().out.rstrip().endswith("tf-local: FAILED")


def test_missing_build_is_reported_before_any_attempt(tmp_path, capsys):
    assert tf_local.main(["--build-dir", str(tmp_path)]) == 2
    assert "layer.zip is missing" in capsys.readouterr().err


def test_each_attempt_gets_an_empty_stack():
    """moto's services are per process: a second (bare) stack must not see the first one's resources."""
    from rekoflow.local.stack import Stack, StackConfig

    with Stack(StackConfig(port=0, resources=False, rekognition_endpoint="http://127.0.0.1:9")) as first:
        first.client("s3").create_bucket(Bucket="left-from-attempt-1")
    with Stack(StackConfig(port=0, resources=False, rekognition_endpoint="http://127.0.0.1:9")) as second:
        assert second.client("s3").list_buckets()["Buckets"] == []


def test_slowest_resources_reads_terraform_durations():
    output = (
        'aws_lambda_function.this["a"]: Creation complete after 1m5s [id=a]\n'
        "aws_s3_bucket.images: Creation complete after 0s [id=b]\n"
        "aws_iam_role.x: Destruction complete after 3s\n"
    )
    assert tf_local.slowest_resources(output) == ['aws_lambda_function.this["a"] 65s', "aws_iam_role.x 3s"]
