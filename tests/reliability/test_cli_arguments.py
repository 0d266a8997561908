"""The CLI refuses bad arguments before any work starts (no stack is started, nothing uploaded), in one line.

Then, with a stack: ``--timeout`` says the execution goes on and how to follow it, names with control
characters are shown escaped, identifiers are not wrapped when the output is not a terminal, and a
failing handler prints no Powertools warning.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rekoflow.cli import main
from support.images import image_bytes
from support.stack import running_stack


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A folder with one photo, a subfolder and a plain file; the stack's state folder must stay empty."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKOFLOW_HOME", str(tmp_path / "state"))
    (tmp_path / "photo.png").write_bytes(image_bytes())
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a folder\n")
    yield tmp_path
    assert not (tmp_path / "state").exists(), "a refused command must not start a stack"


ANALYZE_ERRORS = [
    (["analyze", "photo.png", "--request-id", "r" * 3000], "--request-id rrrrrrrr"),
    (["analyze", "photo.png", "--request-id", "r" * 3000], "(3,000 characters): use 1-80 letters, digits"),
    (["analyze", "photo.png", "--request-id", "../x"], "--request-id ../x (4 characters): use 1-80 letters"),
    (["analyze", "photo.png", "--request-id", "has space"], "--request-id has space"),
    (["analyze", "photo.png", "--request-id", ""], "--request-id  (0 characters)"),
    (["analyze", "folder"], "image folder is a folder, not a file"),
    (["analyze", "missing.png"], "image missing.png does not exist"),
    (["analyze", "photo.png", "--target", "folder"], "target image folder is a folder, not a file"),
    (["analyze", "photo.png", "--out", "notes.txt"], "--out notes.txt is a file, not a folder"),
    (["analyze", "evil\x1b[31mred.png"], "image evil\\x1b[31mred.png does not exist"),
    (["analyze", "photo.png", "--analyses", "colours"], "unknown analysis colours"),
    (["analyze", "photo.png", "--analyses", "compare"], "'compare' needs --target IMAGE"),
    (["batch", "folder", "--batch-id", "b" * 48], "--batch-id bbbb"),
    (["batch", "folder", "--batch-id", "../up"], "--batch-id ../up (5 characters): use 1-47 letters"),
    (["batch", "notes.txt"], "notes.txt is a file, not a folder"),
    (["batch", "nowhere"], "nowhere does not exist"),
    (["batch", "s3://"], "s3://: expected s3://BUCKET/PREFIX"),
    (["batch", "folder", "--analyses", "compare"], "unknown analysis compare for a batch"),
]


@pytest.mark.parametrize("argv,message", ANALYZE_ERRORS, ids=[f"{a[0]}-{i}" for i, (a, _) in enumerate(ANALYZE_ERRORS)])
def test_bad_arguments_are_refused_in_one_line_before_any_work(home, capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rekoflow {argv[0]}: "), err
    assert message in err, err
    assert "\x1b" not in err and "Traceback" not in err


NUMBER_ERRORS = [
    (["analyze", "photo.png", "--min-confidence", "nan"], "--min-confidence: 'nan' is not a finite number"),
    (["analyze", "photo.png", "--min-confidence", "inf"], "--min-confidence: 'inf' is not a finite number"),
    (["analyze", "photo.png", "--min-confidence", "120"], "--min-confidence: 120 must be at most 100"),
    (["analyze", "photo.png", "--min-confidence", "-5"], "--min-confidence: -5 must be at least 0"),
    (["analyze", "photo.png", "--timeout", "0"], "--timeout: 0 must be greater than 0"),
    (["analyze", "photo.png", "--timeout", "NaN"], "--timeout: 'NaN' is not a finite number"),
    (
        ["batch", "folder", "--tolerated-failure-percentage", "nan"],
        "--tolerated-failure-percentage: 'nan' is not a finite number",
    ),
    (
        ["batch", "folder", "--tolerated-failure-percentage", "150"],
        "--tolerated-failure-percentage: 150 must be at most 100",
    ),
    (["batch", "folder", "--max-concurrency", "0"], "--max-concurrency: 0 must be between 1 and 1000"),
    (["batch", "folder", "--max-concurrency", "many"], "--max-concurrency: 'many' is not a whole number"),
]


@pytest.mark.parametrize("argv,message", NUMBER_ERRORS, ids=[f"{a[0]}-{a[2]}-{a[3]}" for a, _ in NUMBER_ERRORS])
def test_numbers_must_be_finite_and_in_range(home, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2  # argparse's usage error
    assert message in capsys.readouterr().err


@pytest.fixture()
def cli(tmp_path, rekognition, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKOFLOW_HOME", str(tmp_path / "state"))
    with running_stack(
        state_dir=tmp_path / "state", rekognition_endpoint=rekognition.url, retry_time_scale=0.001
    ) as workflow:
        yield workflow


def test_timeout_says_the_execution_goes_on_and_how_to_follow_it(cli, tmp_path, capsys, rekognition):
    (tmp_path / "slow.png").write_bytes(image_bytes(220, 170))
    rekognition.pause_after("DetectLabels", 0)
    try:
        assert main(["analyze", "slow.png", "--analyses", "labels", "--request-id", "slow-1", "--timeout", "0.5"]) == 1
    finally:
        rekognition.resume()
    err = capsys.readouterr().err
    assert "rekoflow analyze: analysis slow-1 is still running after 0.5 s (--timeout)" in err
    assert "it goes on in the local stack: follow it with `rekoflow trace slow-1`" in err
    assert "no cause given" not in err
    # It did go on: the execution ends and its record is stored.
    arn = cli.state_machines["image_analysis"].replace(":stateMachine:", ":execution:") + ":slow-1"
    assert cli.wait(arn, timeout_s=120).status == "SUCCEEDED"
    assert cli.get_record("slow-1")["status"] == "SUCCEEDED"


def test_batch_timeout_says_the_batch_goes_on(cli, tmp_path, capsys, rekognition):
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "a.png").write_bytes(image_bytes(230, 170))
    rekognition.pause_after("DetectLabels", 0)
    try:
        assert main(["batch", str(folder), "--analyses", "labels", "--batch-id", "slow-batch", "--timeout", "1"]) == 1
    finally:
        rekognition.resume()
    err = capsys.readouterr().err
    assert "rekoflow batch: batch slow-batch is still running after 1 s (--timeout): 0 of 1 images done" in err
    assert "follow it with `rekoflow trace slow-batch`" in err
    arn = cli.state_machines["batch_analysis"].replace(":stateMachine:", ":execution:") + ":slow-batch"
    assert cli.wait(arn, timeout_s=120).status == "SUCCEEDED"


def test_names_with_control_characters_are_shown_escaped(cli, tmp_path, capsys):
    (tmp_path / "evil\x1b[2Jname.png").write_bytes(image_bytes(210, 170))
    assert main(["analyze", "evil\x1b[2Jname.png", "--analyses", "labels", "--request-id", "evil-1"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "evil\\x1b[2Jname.png" in out


def test_identifiers_are_not_wrapped_when_output_is_not_a_terminal(cli, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    request_id = "a-request-id-long-enough-to-cross-eighty-columns-" + "x" * 30
    (tmp_path / "wide.png").write_bytes(image_bytes(240, 170))
    assert main(["analyze", "wide.png", "--analyses", "labels", "--request-id", request_id]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("Request "))
    assert request_id in line and "uploads/" in line and line.rstrip().endswith(")")
    assert f"record: {tmp_path / 'out' / request_id / 'record.json'}" in out.replace("\n", "\n")


def test_batch_json_is_one_document_and_counts_every_object_when_the_batch_fails(cli, tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "ok.png").write_bytes(image_bytes(200, 160))
    for index in range(3):
        (folder / f"broken{index}.png").write_bytes(b"not an image at all " * 10)
    (folder / "notes.txt").write_text("notes\n")
    (folder / "empty.jpg").write_bytes(b"")
    assert (
        main(
            [
                "batch",
                str(folder),
                "--analyses",
                "labels",
                "--batch-id",
                "mixed-1",
                "--json",
                "--tolerated-failure-percentage",
                "10",
            ]
        )
        == 1
    )
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["status"] == "FAILED" and summary["error"] == "Workflow.ExceedToleratedFailureThreshold"
    assert (summary["total"], summary["succeeded"], summary["failed"], summary["skipped"]) == (6, 1, 3, 2)
    assert summary["skippedReasons"] == {"not a .jpg, .jpeg or .png file": 1, "empty object (0 bytes)": 1}
    assert "rekoflow batch: batch mixed-1 failed: Workflow.ExceedToleratedFailureThreshold" in captured.err
    record = cli.get_record("batch#mixed-1")
    assert (record["total"], record["skipped"], record["failed"]) == (6, 2, 3)


def test_a_failing_handler_prints_no_metrics_warning():
    """Powertools warns "No application metrics to publish" when a handler fails before adding one."""
    code = (
        "import warnings; warnings.simplefilter('default')\n"
        "from rekoflow_common import observability\n"
        "from aws_lambda_powertools import Metrics\n"
        "metrics = Metrics(namespace='Test', service='test')\n"
        "@metrics.log_metrics\n"
        "def handler(event, context):\n"
        "    raise ValueError('bad request')\n"
        "try:\n    handler({}, None)\nexcept ValueError:\n    print('failed as expected')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": "functions", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and "failed as expected" in result.stdout, result.stderr
    assert "No application metrics" not in result.stderr and "UserWarning" not in result.stderr, result.stderr
