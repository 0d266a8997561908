"""`rekoflow train` then `rekoflow analyze --model`: two commands, one saved state, the real engine."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.dataset import class_photos, variants
from rekoflow.cli import main
from rekoflow.local.client import StackClient


@pytest.mark.engine
def test_train_folder_then_analyze_with_the_model(tmp_path, monkeypatch, capsys, stack_cleanup):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKOFLOW_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("REKOFLOW_PORT", "0")
    stack_cleanup(tmp_path / "state")  # the first command starts a stack (with these engine timings)
    monkeypatch.setenv("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", "1")
    monkeypatch.setenv("REKOFLOW_ENGINE_MODEL_START_SECONDS", "0.3")
    monkeypatch.setenv("REKOFLOW_ENGINE_MODEL_STOP_SECONDS", "0.1")
    photos = class_photos()
    for label in ("cup", "rocket"):
        folder = tmp_path / "photos" / label
        folder.mkdir(parents=True)
        for i, data in enumerate(variants(photos[label], 6, seed=11 if label == "cup" else 22)):
            (folder / f"{i}.jpg").write_bytes(data)
    probe = tmp_path / "probe.jpg"
    probe.write_bytes(variants(photos["cup"], 1, seed=77)[0])

    assert (
        main(
            [
                "train",
                str(tmp_path / "photos"),
                "--project",
                "kitchen",
                "--version",
                "v1",
                "--min-f1",
                "0.5",
                "--test-split",
                "0.34",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # Not a terminal: the ARN is on one line of its own, never wrapped.
    [arn] = re.findall(r"^model ARN: (arn:aws:rekognition:\S+/version/v1/\d+)$", out, re.M)
    assert (
        "F1 score on the test split" in out and "per-label metrics" in out and "model status: TRAINING_COMPLETED" in out
    )
    assert f"use it: rekoflow analyze IMAGE --model {arn}" in out

    assert (
        main(
            [
                "analyze",
                str(probe),
                "--analyses",
                "custom",
                "--model",
                arn,
                "--idle-stop",
                "1",
                "--json",
                "--request-id",
                "cli-custom",
            ]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    custom = record["results"]["custom"]
    assert custom["labels"][0]["name"] == "cup" and custom["projectVersionArn"] == arn

    stack = StackClient.connect(tmp_path / "state")
    starts_before = stack.get_record(f"model#{arn}")["starts"]
    batch_folder = tmp_path / "batch"
    batch_folder.mkdir()
    for i, data in enumerate(variants(photos["rocket"], 3, seed=33)):
        (batch_folder / f"rocket-{i}.jpg").write_bytes(data)
    assert (
        main(
            [
                "batch",
                str(batch_folder),
                "--analyses",
                "custom",
                "--model",
                arn,
                "--idle-stop",
                "1",
                "--batch-id",
                "cli-custom-batch",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "SUCCEEDED" and summary["succeeded"] == 3
    records = [r for r in stack.query_batch("cli-custom-batch") if r.get("recordType") == "ANALYSIS"]
    assert len(records) == 3 and {r["results"]["custom"]["labels"][0]["name"] for r in records} == {"rocket"}
    # The batch started the model at most once (not at all if the analysis had left it running).
    lease = stack.get_record(f"model#{arn}")
    assert lease["holders"] == {} and lease["starts"] - starts_before in (0, 1)


def test_train_json_prints_the_model_and_its_metrics(tmp_path, monkeypatch, capsys, stack_cleanup):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKOFLOW_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("REKOFLOW_PORT", "0")
    stack_cleanup(tmp_path / "state")
    monkeypatch.setenv("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", "1")
    photos = class_photos()
    for label in ("cat", "rocket"):
        folder = tmp_path / "photos" / label
        folder.mkdir(parents=True)
        for i, data in enumerate(variants(photos[label], 5, seed=3 if label == "cat" else 4)):
            (folder / f"{i}.jpg").write_bytes(data)
    assert main(["train", str(tmp_path / "photos"), "--project", "pets", "--version", "v1", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert re.fullmatch(r"arn:aws:rekognition:us-east-1:\d{12}:project/pets/version/v1/\d+", model["projectVersionArn"])
    assert model["status"] == "TRAINING_COMPLETED" and {m["label"] for m in model["labelMetrics"]} == {"cat", "rocket"}
    # A failure says why, without a stack trace.
    assert main(["train", str(tmp_path / "photos"), "--project", "pets", "--version", "v1", "--json"]) != 0
    assert "already has a version named 'v1'" in capsys.readouterr().err


def test_batch_custom_needs_a_model(capsys):
    assert main(["batch", ".", "--analyses", "custom"]) != 0
    assert "'custom' needs --model ARN" in capsys.readouterr().err


def test_train_rejects_a_folder_without_label_folders(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["train", str(tmp_path / "empty"), "--project", "p"]) != 0
    assert "one sub-folder per label" in capsys.readouterr().err
