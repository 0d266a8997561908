"""The engine's Custom Labels API in-process: lifecycle, Rekognition's error codes, persistence, manifests."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

pytest.importorskip("cv2", reason="the engine extra is not installed")
pytest.importorskip("skimage", reason="scikit-image (dev extra) provides the photos")

from custom_labels.dataset import class_photos, manifest_line, variants  # noqa: E402
from rekoflow.engine import Engine, RekognitionError  # noqa: E402
from rekoflow.engine.custom_labels.manifest import parse_manifest, split_entries  # noqa: E402
from rekoflow.engine.models.embeddings import with_outputs  # noqa: E402

BUCKET = "cl-engine-tests"


@pytest.fixture()
def timings(monkeypatch):
    monkeypatch.setenv("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", "0")
    monkeypatch.setenv("REKOFLOW_ENGINE_MODEL_START_SECONDS", "0.1")
    monkeypatch.setenv("REKOFLOW_ENGINE_MODEL_STOP_SECONDS", "0.1")


@pytest.fixture()
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def put_manifest(s3, name: str, per_class: int, classes=("cat", "rocket"), seed: int = 3, broken: bool = False) -> dict:
    photos = class_photos()
    lines = []
    for offset, label in enumerate(classes):
        for i, data in enumerate(variants(photos[label], per_class, seed + offset)):
            key = f"{name}/{label}/{i}.jpg"
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"not an image" if broken and i == 0 else data)
            lines.append(manifest_line(BUCKET, key, label))
    s3.put_object(Bucket=BUCKET, Key=f"{name}.manifest", Body="\n".join(lines).encode())
    return {"S3Object": {"Bucket": BUCKET, "Name": f"{name}.manifest"}}


def wait_status(engine: Engine, project_arn: str, version: str, leaving: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        described = engine.handle("DescribeProjectVersions", {"ProjectArn": project_arn, "VersionNames": [version]})[
            "ProjectVersionDescriptions"
        ][0]
        if described["Status"] != leaving or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def train(engine: Engine, s3, project: str = "pets", version: str = "v1", **manifest_args) -> tuple[str, str]:
    project_arn = engine.handle("CreateProject", {"ProjectName": project})["ProjectArn"]
    manifest = put_manifest(s3, f"{project}-{version}", **{"per_class": 4, **manifest_args})
    arn = engine.handle(
        "CreateProjectVersion",
        {
            "ProjectArn": project_arn,
            "VersionName": version,
            "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": "out/"},
            "TrainingData": {"Assets": [{"GroundTruthManifest": manifest}]},
            "TestingData": {"AutoCreate": True},
        },
    )["ProjectVersionArn"]
    return project_arn, arn


def code(excinfo) -> str:
    return excinfo.value.code


@pytest.mark.engine
def test_lifecycle_persists_across_engines(tmp_path, s3, timings):
    engine = Engine(state_dir=tmp_path)
    project_arn, arn = train(engine, s3)
    assert arn.startswith("arn:aws:rekognition:us-east-1:123456789012:project/pets/version/v1/")
    assert engine.handle("DescribeProjectVersions", {"ProjectArn": project_arn})["ProjectVersionDescriptions"][0][
        "Status"
    ] in (
        "TRAINING_IN_PROGRESS",
        "TRAINING_COMPLETED",
    )
    done = wait_status(engine, project_arn, "v1", "TRAINING_IN_PROGRESS")
    assert done["Status"] == "TRAINING_COMPLETED", done["StatusMessage"]
    assert 0 <= done["EvaluationResult"]["F1Score"] <= 1
    image = {"S3Object": {"Bucket": BUCKET, "Name": "pets-v1/rocket/1.jpg"}}
    with pytest.raises(RekognitionError) as not_ready:
        engine.handle("DetectCustomLabels", {"ProjectVersionArn": arn, "Image": image})
    assert code(not_ready) == "ResourceNotReadyException"

    # Another engine on the same state folder (another command) sees the trained model.
    other = Engine(state_dir=tmp_path)
    assert other.handle("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1}) == {
        "Status": "STARTING"
    }
    with pytest.raises(RekognitionError) as in_use:
        other.handle("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    assert code(in_use) == "ResourceInUseException"
    running = wait_status(other, project_arn, "v1", "STARTING")
    assert running["Status"] == "RUNNING" and running["MinInferenceUnits"] == 1
    labels = other.handle(
        "DetectCustomLabels", {"ProjectVersionArn": arn, "Image": image, "MinConfidence": 0, "MaxResults": 1}
    )["CustomLabels"]
    assert labels[0]["Name"] == "rocket" and len(labels) == 1
    assert other.handle("StopProjectVersion", {"ProjectVersionArn": arn}) == {"Status": "STOPPING"}
    assert wait_status(other, project_arn, "v1", "STOPPING")["Status"] == "STOPPED"
    with pytest.raises(RekognitionError) as stopped:
        other.handle("StopProjectVersion", {"ProjectVersionArn": arn})
    assert code(stopped) == "ResourceInUseException"


@pytest.mark.engine
def test_unreadable_training_images_fail_training_with_the_reason(s3, timings):
    engine = Engine()
    project_arn, _ = train(engine, s3, broken=True)
    failed = wait_status(engine, project_arn, "v1", "TRAINING_IN_PROGRESS")
    assert failed["Status"] == "TRAINING_FAILED"
    assert "could not be used" in failed["StatusMessage"] and "pets-v1/cat/0.jpg" in failed["StatusMessage"]


def test_api_errors_use_rekognition_codes(s3, timings):
    engine = Engine()
    with pytest.raises(RekognitionError) as missing:
        engine.handle(
            "DescribeProjectVersions", {"ProjectArn": "arn:aws:rekognition:us-east-1:123456789012:project/none/1"}
        )
    assert code(missing) == "ResourceNotFoundException"
    project_arn = engine.handle("CreateProject", {"ProjectName": "dup"})["ProjectArn"]
    with pytest.raises(RekognitionError) as duplicate:
        engine.handle("CreateProject", {"ProjectName": "dup"})
    assert code(duplicate) == "ResourceInUseException"
    with pytest.raises(RekognitionError) as no_data:
        engine.handle(
            "CreateProjectVersion",
            {"ProjectArn": project_arn, "VersionName": "v1", "OutputConfig": {"S3Bucket": BUCKET}},
        )
    assert code(no_data) == "InvalidParameterException"
    with pytest.raises(RekognitionError) as no_version:
        engine.handle(
            "DetectCustomLabels",
            {
                "ProjectVersionArn": "arn:aws:rekognition:us-east-1:123456789012:project/dup/version/x/1",
                "Image": {"S3Object": {"Bucket": BUCKET, "Name": "a.jpg"}},
            },
        )
    assert code(no_version) == "ResourceNotFoundException"
    with pytest.raises(RekognitionError) as no_manifest:
        engine.handle(
            "CreateDataset",
            {
                "ProjectArn": project_arn,
                "DatasetType": "TRAIN",
                "DatasetSource": {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "missing.manifest"}}},
            },
        )
    assert code(no_manifest) == "InvalidS3ObjectException"


def test_datasets_split_and_describe(s3, timings):
    engine = Engine()
    project_arn = engine.handle("CreateProject", {"ProjectName": "ds"})["ProjectArn"]
    manifest = put_manifest(s3, "ds", per_class=5)
    train = engine.handle(
        "CreateDataset",
        {"ProjectArn": project_arn, "DatasetType": "TRAIN", "DatasetSource": {"GroundTruthManifest": manifest}},
    )["DatasetArn"]
    test = engine.handle("CreateDataset", {"ProjectArn": project_arn, "DatasetType": "TEST"})["DatasetArn"]
    with pytest.raises(RekognitionError) as exists:
        engine.handle("CreateDataset", {"ProjectArn": project_arn, "DatasetType": "TEST"})
    assert code(exists) == "ResourceAlreadyExistsException"
    engine.handle("DistributeDatasetEntries", {"Datasets": [{"Arn": train}, {"Arn": test}]})
    stats = {
        arn: engine.handle("DescribeDataset", {"DatasetArn": arn})["DatasetDescription"]["DatasetStats"]
        for arn in (train, test)
    }
    assert (
        stats[train]["LabeledEntries"] == 8 and stats[test]["LabeledEntries"] == 2 and stats[test]["TotalLabels"] == 2
    )
    datasets = engine.handle("DescribeProjects", {"ProjectNames": ["ds"]})["ProjectDescriptions"][0]["Datasets"]
    assert {d["DatasetType"] for d in datasets} == {"TRAIN", "TEST"} and all(
        d["Status"] == "CREATE_COMPLETE" for d in datasets
    )
    engine.handle("DeleteDataset", {"DatasetArn": test})
    assert [
        d["DatasetType"]
        for d in engine.handle("DescribeProjects", {"ProjectNames": ["ds"]})["ProjectDescriptions"][0]["Datasets"]
    ] == ["TRAIN"]


def test_manifest_parsing_classification_multilabel_and_errors():
    lines = [
        manifest_line("b", "a.jpg", "cat"),
        json.dumps(
            {"source-ref": "s3://b/m.jpg", "tags": [0, 1], "tags-metadata": {"class-map": {"0": "cat", "1": "indoor"}}}
        ),
        json.dumps(
            {"source-ref": "s3://b/box.jpg", "bb": {"annotations": []}, "bb-metadata": {"class-map": {"0": "cat"}}}
        ),
        "{not json",
        json.dumps({"source-ref": "http://x/y.jpg", "c": 1, "c-metadata": {"class-name": "cat"}}),
    ]
    entries, problems = parse_manifest("\n".join(lines))
    assert entries == [
        {"source": "s3://b/a.jpg", "labels": ["cat"]},
        {"source": "s3://b/m.jpg", "labels": ["cat", "indoor"]},
    ]
    assert any("object-detection" in p for p in problems) and any("not valid JSON" in p for p in problems)
    assert any("source-ref" in p for p in problems)


def test_split_keeps_every_label_in_training():
    entries = [
        {"source": f"s3://b/{label}{i}", "labels": [label]}
        for label, n in (("a", 10), ("b", 2), ("c", 1))
        for i in range(n)
    ]
    train, test = split_entries(entries)
    assert sorted(e["labels"][0] for e in test) == ["a", "a", "b"]
    assert {e["labels"][0] for e in train} == {"a", "b", "c"}


def test_with_outputs_appends_graph_outputs():
    # ModelProto{ir_version=1 (field 1), graph (field 7) = GraphProto{name="g" (field 2)}}
    model = bytes([0x08, 0x01, 0x3A, 0x03, 0x12, 0x01, ord("g")])
    edited = with_outputs(model, ["feat"])
    assert edited.startswith(bytes([0x08, 0x01, 0x3A]))
    assert b"feat" in edited and edited[3] == len(edited) - 4
    with pytest.raises(ValueError):
        with_outputs(bytes([0x08, 0x01]), ["feat"])
