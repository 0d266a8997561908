"""`rekoflow batch FOLDER`: upload, live progress, summary table; the second run is all cache hits."""

from __future__ import annotations

import json

import pytest

from rekoflow.cli import main
from support.images import TEXT_BYTES, image_bytes
from support.stack import running_stack

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_batch_command_twice_over_a_folder(tmp_path, rekognition, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    with running_stack(state_dir=tmp_path / "state", rekognition_endpoint=rekognition.url, retry_time_scale=0.001):
        run_batches(tmp_path, rekognition, capsys)


def run_batches(tmp_path, rekognition, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(4):
        (folder / f"photo{index}.png").write_bytes(image_bytes(200 + index, 160))
    (folder / "readme.txt").write_bytes(TEXT_BYTES)
    common = ["--state-dir", str(tmp_path / "state"), "--analyses", "labels,faces"]
    assert main(["batch", str(folder), "--batch-id", "cli-one", *common]) == 0
    out = capsys.readouterr().out
    assert "photo0.png" in out and "SUCCEEDED: 4 succeeded, 0 failed, 1 skipped of 5 objects" in out
    assert "0 of 4 from cache" in out
    calls = len(rekognition.calls)
    assert calls == 8
    assert main(["batch", str(folder), "--batch-id", "cli-two", "--json", *common]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["succeeded"], summary["cached"], summary["skipped"]) == (4, 4, 1)
    assert len(rekognition.calls) == calls
    assert main(["batch", str(folder), "--batch-id", "cli-three", *common]) == 0
    assert "4 of 4 from cache (no Rekognition calls)" in capsys.readouterr().out
    # The same batch under an id used before: that batch's summary (its execution has ended, so no
    # event will come: within --timeout, not after it), nothing analysed again.
    assert main(["batch", str(folder), "--batch-id", "cli-two", "--json", "--timeout", "60", *common]) == 0
    assert json.loads(capsys.readouterr().out)["batchId"] == "cli-two" and len(rekognition.calls) == calls
    # Another batch under it: one line.
    assert (
        main(
            [
                "batch",
                str(folder),
                "--batch-id",
                "cli-two",
                "--analyses",
                "text",
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
        == 1
    )
    assert "rekoflow batch: cli-two already names an execution with another input" in capsys.readouterr().err


def test_batch_command_rejects_a_bad_batch_id(tmp_path, capsys):
    assert main(["batch", str(tmp_path), "--batch-id", "has space"]) == 1
    assert "rekoflow batch: --batch-id has space (9 characters): use 1-47 letters, digits" in capsys.readouterr().err
