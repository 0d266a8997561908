"""`rekoflow train` then `rekoflow analyze --model`: two commands, one saved state, the real engine."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.dataset import class_photos, variants
from rekoflow.cli import main


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

    assert main(["train", str(tmp_path / "photos"), "--project", "kitchen", "--version", "v1", "--min-f1", "0.5", "--test-split", "0.34"]) == 0
    out = capsys.readouterr().out
    arn = re.search(r"arn:aws:rekognition:\S+/version/v1/\d+", out.replace("\n", "")).group(0)
    assert "F1 score on the test split" in out and "per-label metrics" in out and "model status: STOPPED" in out

    assert main(["analyze", str(probe), "--analyses", "custom", "--model", arn, "--json", "--request-id", "cli-custom"]) == 0
    record = json.loads(capsys.readouterr().out)
    custom = record["results"]["custom"]
    assert custom["labels"][0]["name"] == "cup" and custom["modelStopped"] is True


def test_train_rejects_a_folder_without_label_folders(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["train", str(tmp_path / "empty"), "--project", "p"]) != 0
    assert "one sub-folder per label" in capsys.readouterr().err
