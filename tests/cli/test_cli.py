"""`rekoflow analyze` / `demo`: one real local execution, the record, the annotated image, exit codes."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from rekoflow.annotate import COLORS
from rekoflow.cli import main
from support.images import GIF_BYTES, image_bytes
from support.stack import running_stack


@pytest.fixture()
def cli(tmp_path, rekognition, monkeypatch):
    """The CLI against a running stack (in this process) for ./state, Rekognition scripted."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKOFLOW_HOME", str(tmp_path / "state"))
    with running_stack(state_dir=tmp_path / "state", rekognition_endpoint=rekognition.url, retry_time_scale=0.001):
        yield lambda *argv: main(list(argv))


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_analyze_prints_json_writes_record_and_annotated_image(cli, tmp_path, capsys, rekognition):
    photo = write(tmp_path, "photo.png", image_bytes(320, 240))
    assert cli("analyze", str(photo), "--analyses", "labels,faces,text", "--json", "--request-id", "cli-1") == 0
    record = json.loads(capsys.readouterr().out)  # the JSON only: the workflow's own output stays in its logs
    assert record["requestId"] == "cli-1" and record["status"] == "SUCCEEDED"
    assert record["results"]["labels"]["labels"][0]["name"] == "Cat"
    assert (tmp_path / "out/cli-1/record.json").is_file()
    annotated = Image.open(tmp_path / "out/cli-1/annotated.png")
    assert annotated.size == (320, 240)
    # The face box was drawn: a pixel on its left edge is an annotation colour, not the photo's.
    box = record["results"]["faces"]["faces"][0]["boundingBox"]
    edge = (int(box["Left"] * 320) + 1, int((box["Top"] + box["Height"] / 2) * 240))
    assert annotated.getpixel(edge) in COLORS.values()
    assert Image.open(photo).convert("RGB").getpixel(edge) not in COLORS.values()


def test_second_run_is_served_from_the_saved_cache(cli, tmp_path, capsys, rekognition):
    photo = write(tmp_path, "again.png", image_bytes(300, 200, color=(1, 2, 3)))
    assert cli("analyze", str(photo), "--analyses", "labels", "--json") == 0
    calls = rekognition.count("DetectLabels")
    capsys.readouterr()
    # A second command: the running stack answers from the cache it keeps.
    assert cli("analyze", str(photo), "--analyses", "labels") == 0
    out = capsys.readouterr().out
    assert "from cache" in out and "cached: labels" in out
    assert rekognition.count("DetectLabels") == calls


def test_a_request_id_used_again_gives_that_analysis_or_a_one_line_refusal(cli, tmp_path, capsys, rekognition):
    photo = write(tmp_path, "same.png", image_bytes(310, 200, color=(4, 5, 6)))
    assert cli("analyze", str(photo), "--analyses", "labels", "--json", "--request-id", "again-1") == 0
    first = json.loads(capsys.readouterr().out)
    calls = rekognition.count("DetectLabels")
    # The same request under the same id: that execution's record, nothing analysed again.
    assert cli("analyze", str(photo), "--analyses", "labels", "--json", "--request-id", "again-1") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["executionArn"] == first["executionArn"] and rekognition.count("DetectLabels") == calls
    # Another request under that id: refused in one line (no traceback), naming the id.
    assert cli("analyze", str(photo), "--analyses", "text", "--request-id", "again-1") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("rekoflow analyze: again-1 already names an execution with another input (SUCCEEDED")


def test_human_summary(cli, tmp_path, capsys):
    photo = write(tmp_path, "p.jpg", image_bytes(300, 200, "JPEG"))
    target = write(tmp_path, "t.jpg", image_bytes(200, 300, "JPEG"))
    assert cli("analyze", str(photo), "--target", str(target), "--analyses", "labels,text,faces") == 0
    out = capsys.readouterr().out
    assert "Labels (2)" in out and "Cat" in out and "HELLO WORLD" in out
    # Face columns only for attributes the service returned (the scripted one gives Smile, not Eyeglasses).
    assert "Faces (1)" in out and "30-40 female happy" in out and "smile" in out and "eyeglasses" not in out
    assert "Face comparison" in out and "match, similarity 98.7%" in out


def test_failure_exits_non_zero_with_one_line_reason(cli, tmp_path, capsys):
    gif = write(tmp_path, "anim.png", GIF_BYTES)
    assert cli("analyze", str(gif), "--request-id", "bad-1") == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("rekoflow analyze: analysis bad-1 failed: ImageValidationError:")
    assert "not a PNG or JPEG image (GIF)" in err
    assert json.loads((tmp_path / "out/bad-1/record.json").read_text())["status"] == "FAILED"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["analyze", "missing.png"], "image missing.png does not exist"),
        (["analyze", "x.png", "--analyses", "colours"], "unknown analysis colours"),
        (["analyze", "x.png", "--analyses", "compare"], "'compare' needs --target IMAGE"),
    ],
)
def test_bad_arguments_are_explained(cli, tmp_path, capsys, argv, message):
    write(tmp_path, "x.png", image_bytes())
    assert cli(*argv) == 1
    assert message in capsys.readouterr().err


@pytest.mark.engine
def test_demo_starts_a_stack_and_runs_the_real_engine_on_the_sample_photo(tmp_path, monkeypatch, capsys, stack_cleanup):
    """`make demo` on a fresh machine: no stack runs, the command starts one (saying so) and uses it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKOFLOW_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("REKOFLOW_PORT", "0")
    monkeypatch.delenv("REKOFLOW_REKOGNITION_ENDPOINT", raising=False)
    stack_cleanup(tmp_path / "state")
    assert main(["demo", "--json", "--request-id", "demo-1"]) == 0
    captured = capsys.readouterr()
    assert "started the local stack at http://127.0.0.1:" in captured.err
    record = json.loads(captured.out)
    results = record["results"]
    assert record["status"] == "SUCCEEDED"
    assert results["faces"]["count"] == 1 and results["faces"]["faces"][0]["gender"]["value"] == "Female"
    assert "Person" in [l["name"] for l in results["labels"]["labels"]]
    assert results["text"]["fullText"] == "ASTRONAUT EILEEN COLLINS"
    assert results["moderation"]["flagged"] is False
    assert (tmp_path / "out/demo-1/annotated.png").is_file()
