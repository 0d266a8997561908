"""Custom Labels' wire API: CreateProject ... DetectCustomLabels, thinly on ``rekoflow.engine.custom_labels``.

Each operation checks what the botocore model cannot (names, sources, which datasets), calls the store,
the lifecycle, the manifest reader or the trainer, and answers in Rekognition's shapes (the ``*_wire``
functions here are the only place those shapes are built). The lifecycle, the timings and the
training method are described in ``rekoflow.engine.custom_labels``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.custom_labels import lifecycle
from rekoflow.engine.custom_labels.manifest import ManifestEntry, parse_manifest, read_manifest, split_entries
from rekoflow.engine.custom_labels.store import (
    CustomLabelsStore,
    Dataset,
    OutputConfig,
    Project,
    ProjectVersion,
    store_of,
)
from rekoflow.engine.custom_labels.training import DEFAULT_MIN_CONFIDENCE, start_training
from rekoflow.engine.operations._common import Context

_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,255}$")


def _check_name(field: str, name: str) -> None:
    if not _NAME.match(name):
        raise errors.invalid_parameter(f"{field} {name!r} must match [a-zA-Z0-9_.-]{{1,255}}")


# ----- the wire shapes --------------------------------------------------------------------------
def _dataset_metadata_wire(d: Dataset) -> dict[str, Any]:
    return {
        "CreationTimestamp": d.created,
        "DatasetType": d.dataset_type,
        "DatasetArn": d.arn,
        "Status": d.status,
        "StatusMessage": d.status_message,
        "StatusMessageCode": d.status_message_code,
    }


def _project_wire(project: Project, datasets: list[Dataset]) -> dict[str, Any]:
    return {
        "ProjectArn": project.arn,
        "CreationTimestamp": project.created,
        "Status": "CREATED",
        "Feature": "CUSTOM_LABELS",
        "Datasets": [_dataset_metadata_wire(d) for d in datasets],
    }


def _dataset_description_wire(d: Dataset) -> dict[str, Any]:
    labels = {label for e in d.entries for label in e["labels"]}
    return {
        "CreationTimestamp": d.created,
        "LastUpdatedTimestamp": d.updated,
        "Status": d.status,
        "StatusMessage": d.status_message,
        "StatusMessageCode": d.status_message_code,
        "DatasetStats": {
            "LabeledEntries": len(d.entries),
            "TotalEntries": len(d.entries) + d.error_entries,
            "TotalLabels": len(labels),
            "ErrorEntries": d.error_entries,
        },
    }


def _version_wire(v: ProjectVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ProjectVersionArn": v.arn,
        "CreationTimestamp": v.created,
        "Status": v.status,
        "StatusMessage": v.status_message,
        "OutputConfig": v.output_config.to_wire(),
        "Feature": "CUSTOM_LABELS",
        "BaseModelVersion": "local-" + (v.model.backbone if v.model else "embeddings"),
    }
    if v.description:
        out["VersionDescription"] = v.description
    if v.min_inference_units:
        out["MinInferenceUnits"] = v.min_inference_units
        out["MaxInferenceUnits"] = v.max_inference_units or v.min_inference_units
    if v.training_end:
        out["TrainingEndTimestamp"] = v.training_end
        out["BillableTrainingTimeInSeconds"] = v.billable_seconds
    if v.model:
        out["EvaluationResult"] = v.model.evaluation.to_wire()
    return out


# ----- projects ---------------------------------------------------------------------------------
def create_project(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = params["ProjectName"]
    _check_name("ProjectName", name)
    if params.get("Feature", "CUSTOM_LABELS") != "CUSTOM_LABELS":
        raise errors.invalid_parameter("the local engine supports only the CUSTOM_LABELS feature")
    return {"ProjectArn": store_of(ctx).add_project(name).arn}


def describe_projects(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    names = params.get("ProjectNames")
    with store.lock:
        projects = [p for p in store.projects.values() if not names or p.name in names]
        projects.sort(key=lambda p: -p.created)
        descriptions = [_project_wire(p, store.datasets_of(p)) for p in projects]
    limit = int(params.get("MaxResults", 100))
    return {"ProjectDescriptions": descriptions[:limit]}


# ----- datasets ---------------------------------------------------------------------------------
def create_dataset(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    kind = params["DatasetType"]
    store = store_of(ctx)
    with store.lock:
        if store.project(params["ProjectArn"]).datasets.get(kind):
            message = f"The project already has a {kind} dataset."
            raise errors.RekognitionError("ResourceAlreadyExistsException", message)
    source = params.get("DatasetSource") or {}
    entries: list[ManifestEntry] = []
    problems: list[str] = []
    if "GroundTruthManifest" in source:
        s3 = source["GroundTruthManifest"].get("S3Object") or {}
        if not s3.get("Bucket") or not s3.get("Name"):
            raise errors.invalid_parameter("DatasetSource.GroundTruthManifest.S3Object needs Bucket and Name")
        entries, problems = parse_manifest(read_manifest(ctx, s3["Bucket"], s3["Name"], s3.get("Version")))
    elif "DatasetArn" in source:
        with store.lock:
            entries = [e.copy() for e in store.dataset(source["DatasetArn"]).entries]
    return {"DatasetArn": store.add_dataset(params["ProjectArn"], kind, entries, problems).arn}


def describe_dataset(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    with store.lock:
        return {"DatasetDescription": _dataset_description_wire(store.dataset(params["DatasetArn"]))}


def delete_dataset(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    with store.lock:
        store.remove_dataset(store.dataset(params["DatasetArn"]))
    return {}


def distribute_dataset_entries(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    with store.lock:
        found = [store.dataset(d["Arn"]) for d in params["Datasets"]]
        if sorted(d.dataset_type for d in found) != ["TEST", "TRAIN"]:
            raise errors.invalid_parameter("Datasets must be the project's TRAIN and TEST datasets")
        train = next(d for d in found if d.dataset_type == "TRAIN")
        test = next(d for d in found if d.dataset_type == "TEST")
        if test.entries:
            raise errors.invalid_parameter("The TEST dataset must be empty to distribute entries into it")
        train.entries, test.entries = split_entries(train.entries)
        train.updated = test.updated = time.time()
        store.save()
    return {}


# ----- project versions -------------------------------------------------------------------------
def _asset_entries(ctx: Context, data: dict[str, Any]) -> list[ManifestEntry]:
    """The usable entries of TrainingData/TestingData.Assets manifests (bad lines are skipped)."""
    entries: list[ManifestEntry] = []
    for asset in data.get("Assets") or []:
        s3 = (asset.get("GroundTruthManifest") or {}).get("S3Object") or {}
        text = read_manifest(ctx, s3.get("Bucket", ""), s3.get("Name", ""), s3.get("Version"))
        entries.extend(parse_manifest(text)[0])
    return entries


def _dataset_entries(store: CustomLabelsStore, project: Project, kind: str) -> list[ManifestEntry]:
    return [e.copy() for e in store.datasets[project.datasets[kind]].entries]


def _check_training_data(project: Project, training_data: dict[str, Any], testing_data: dict[str, Any]) -> None:
    """Project datasets or TrainingData + TestingData, as the service requires."""
    if training_data and project.datasets:
        raise errors.invalid_parameter("TrainingData can't be given for a project that has datasets")
    if not training_data and not project.datasets.get("TRAIN"):
        raise errors.invalid_parameter("The project has no TRAIN dataset; create one or give TrainingData")
    if not training_data and not project.datasets.get("TEST"):
        raise errors.invalid_parameter("The project has no TEST dataset; create one (or distribute entries into it)")
    if training_data and not testing_data:
        raise errors.invalid_parameter("TestingData is required with TrainingData (Assets or AutoCreate)")


def create_project_version(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    name = params["VersionName"]
    _check_name("VersionName", name)
    output = params["OutputConfig"]
    if not output.get("S3Bucket"):
        raise errors.invalid_parameter("OutputConfig.S3Bucket is required")
    training_data, testing_data = params.get("TrainingData") or {}, params.get("TestingData") or {}
    with store.lock:
        project = store.project(params["ProjectArn"])
        if store.has_version(project, name):
            raise lifecycle.in_use(f"A version named {name} already exists in project {project.name}.")
        _check_training_data(project, training_data, testing_data)
        if not training_data:
            train, test = _dataset_entries(store, project, "TRAIN"), _dataset_entries(store, project, "TEST")
    if training_data:
        train = _asset_entries(ctx, training_data)
        if testing_data.get("AutoCreate"):
            train, test = split_entries(train)
        else:
            test = _asset_entries(ctx, testing_data)
    config = OutputConfig(s3_bucket=output["S3Bucket"], s3_key_prefix=output.get("S3KeyPrefix", ""))
    version = store.add_version(project, name, params.get("VersionDescription"), config, len(train), len(test))
    start_training(store, ctx, version, train, test)
    return {"ProjectVersionArn": version.arn}


def describe_project_versions(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    with store.lock:
        versions = store.versions_of(store.project(params["ProjectArn"]), params.get("VersionNames"))
        versions.sort(key=lambda v: -v.created)
        limit = int(params.get("MaxResults", 100))
        return {"ProjectVersionDescriptions": [_version_wire(v) for v in versions[:limit]]}


def start_project_version(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    with store.lock:
        version = store.version(params["ProjectVersionArn"])
        units = int(params["MinInferenceUnits"])
        lifecycle.start(version, units, params.get("MaxInferenceUnits") or units)
        store.save()
        return {"Status": version.status}


def stop_project_version(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = store_of(ctx)
    with store.lock:
        version = store.version(params["ProjectVersionArn"])
        lifecycle.stop(version)
        store.save()
        return {"Status": version.status}


def detect_custom_labels(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from rekoflow.engine.models import embeddings

    store = store_of(ctx)
    with store.lock:
        version = store.version(params["ProjectVersionArn"])
        lifecycle.require_running(version)
        head = store.head(version)
    image = ctx.image(params)
    probabilities = head.probabilities(embeddings.embed(image.bgr))[0]
    min_confidence = float(params.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))
    found = sorted(zip(head.labels, probabilities, strict=True), key=lambda pair: -pair[1])
    labels = [{"Name": name, "Confidence": round(float(p) * 100, 4)} for name, p in found if p * 100 >= min_confidence]
    if "MaxResults" in params:
        labels = labels[: int(params["MaxResults"])]
    return {"CustomLabels": labels}


OPERATIONS = {
    "CreateProject": create_project,
    "DescribeProjects": describe_projects,
    "CreateDataset": create_dataset,
    "DescribeDataset": describe_dataset,
    "DeleteDataset": delete_dataset,
    "DistributeDatasetEntries": distribute_dataset_entries,
    "CreateProjectVersion": create_project_version,
    "DescribeProjectVersions": describe_project_versions,
    "StartProjectVersion": start_project_version,
    "StopProjectVersion": stop_project_version,
    "DetectCustomLabels": detect_custom_labels,
}
