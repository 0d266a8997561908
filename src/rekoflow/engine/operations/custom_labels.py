"""Custom Labels: projects, datasets, model versions that train, start and stop, and DetectCustomLabels.

The lifecycle follows the service (https://docs.aws.amazon.com/rekognition/latest/customlabels-dg/):

    CreateProject -> CreateDataset (TRAIN, TEST or DistributeDatasetEntries) -> CreateProjectVersion
    TRAINING_IN_PROGRESS -> TRAINING_COMPLETED | TRAINING_FAILED
    StartProjectVersion: STARTING -> RUNNING        StopProjectVersion: STOPPING -> STOPPED
    DetectCustomLabels answers only while RUNNING (else ResourceNotReadyException)

Training is real and local: each image becomes an embedding from a CNN backbone that ships in a
package (``models/embeddings.py``) and a softmax head is fitted on them (``models/classifier.py``).
It runs on a background thread, so DescribeProjectVersions sees the status move over time. Image-level
classification only (GroundTruth manifests with ``class-name``); object-detection manifests
(bounding boxes) are rejected with a clear message.

State (projects, datasets, versions, trained heads) lives in memory, and under ``state_dir`` when
the engine has one, so a model trained by one command is there for the next. Timings, for tests
and demos: ``REKOFLOW_ENGINE_MIN_TRAINING_SECONDS`` (training takes at least this long, default 2),
``REKOFLOW_ENGINE_MODEL_START_SECONDS`` (STARTING -> RUNNING, default 1),
``REKOFLOW_ENGINE_MODEL_STOP_SECONDS`` (STOPPING -> STOPPED, default 0.5).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from rekoflow.engine import errors
from rekoflow.engine.images import decode
from rekoflow.engine.operations._common import Context

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
TEST_SHARE = 0.2  # DistributeDatasetEntries and TestingData.AutoCreate move ~20% to the test split
DEFAULT_MIN_CONFIDENCE = 50.0
_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,255}$")
_STATE_FILE = "custom_labels.json"
_TRAINING = "TRAINING_IN_PROGRESS"


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def _ms() -> int:
    return int(time.time() * 1000)


def _not_found(message: str) -> errors.RekognitionError:
    return errors.RekognitionError("ResourceNotFoundException", message)


def _in_use(message: str) -> errors.RekognitionError:
    return errors.RekognitionError("ResourceInUseException", message)


def _not_ready(message: str) -> errors.RekognitionError:
    return errors.RekognitionError("ResourceNotReadyException", message)


# ----- the store --------------------------------------------------------------------------------
class CustomLabelsStore:
    """Projects, datasets and versions of one engine; persisted as JSON + .npz heads under state_dir."""

    def __init__(self, state_dir: Path | None) -> None:
        self.dir = Path(state_dir) / "custom_labels" if state_dir else None
        self.lock = threading.RLock()
        self.projects: dict[str, dict[str, Any]] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}
        self.heads: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []
        self._load()

    def _load(self) -> None:
        if not self.dir or not (self.dir / _STATE_FILE).is_file():
            return
        state = json.loads((self.dir / _STATE_FILE).read_text())
        self.projects, self.datasets, self.versions = state["projects"], state["datasets"], state["versions"]
        for version in self.versions.values():
            if version["status"] == _TRAINING and not version.get("outcome"):
                # The process that trained it ended before training did.
                version.update(status="TRAINING_FAILED", statusMessage="Training was interrupted: the engine stopped before it finished.")

    def save(self) -> None:
        if not self.dir:
            return
        with self.lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / (_STATE_FILE + ".tmp")
            tmp.write_text(json.dumps({"projects": self.projects, "datasets": self.datasets, "versions": self.versions}))
            tmp.replace(self.dir / _STATE_FILE)

    def project(self, arn: str) -> dict[str, Any]:
        for project in self.projects.values():
            if project["arn"] == arn:
                return project
        raise _not_found(f"The project {arn} does not exist.")

    def version(self, arn: str) -> dict[str, Any]:
        version = self.versions.get(arn)
        if version is None:
            raise _not_found(f"The project version {arn} does not exist.")
        _advance(version)
        return version

    def head(self, version: dict[str, Any]):
        from rekoflow.engine.models.classifier import SoftmaxHead

        arn = version["arn"]
        if arn not in self.heads:
            if not version.get("headFile") or not self.dir:
                raise errors.internal("the trained model of this version is missing")
            self.heads[arn] = SoftmaxHead.load(self.dir / version["headFile"])
        return self.heads[arn]


_STORE_LOCK = threading.Lock()


def _store(ctx: Context) -> CustomLabelsStore:
    with _STORE_LOCK:
        store = ctx.stores.get("custom_labels")
        if store is None:
            store = ctx.stores["custom_labels"] = CustomLabelsStore(ctx.state_dir)
        return store


def _advance(version: dict[str, Any]) -> None:
    """Move a version along its lifecycle as time passes (training results, start and stop delays)."""
    now = time.time()
    if version["status"] == _TRAINING and version.get("outcome") and now >= version["readyAt"]:
        outcome = version.pop("outcome")
        version.update(outcome)
    elif version["status"] == "STARTING" and now >= version["transitionAt"]:
        version.update(status="RUNNING", statusMessage="The model is running.")
    elif version["status"] == "STOPPING" and now >= version["transitionAt"]:
        version.update(status="STOPPED", statusMessage="The model is stopped.")


# ----- projects -------------------------------------------------------------------------------------
def create_project(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = params["ProjectName"]
    if not _NAME.match(name):
        raise errors.invalid_parameter(f"ProjectName {name!r} must match [a-zA-Z0-9_.-]{{1,255}}")
    if params.get("Feature", "CUSTOM_LABELS") != "CUSTOM_LABELS":
        raise errors.invalid_parameter("the local engine supports only the CUSTOM_LABELS feature")
    store = _store(ctx)
    with store.lock:
        if name in store.projects:
            raise _in_use(f"A project with the name {name} already exists.")
        arn = f"arn:aws:rekognition:{_region()}:{ACCOUNT_ID}:project/{name}/{_ms()}"
        store.projects[name] = {"name": name, "arn": arn, "created": time.time(), "datasets": {}}
        store.save()
    return {"ProjectArn": arn}


def describe_projects(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    names = params.get("ProjectNames")
    with store.lock:
        projects = [p for p in store.projects.values() if not names or p["name"] in names]
        projects.sort(key=lambda p: -p["created"])
        descriptions = []
        for project in projects:
            datasets = [store.datasets[arn] for arn in project["datasets"].values() if arn in store.datasets]
            descriptions.append(
                {
                    "ProjectArn": project["arn"],
                    "CreationTimestamp": project["created"],
                    "Status": "CREATED",
                    "Feature": "CUSTOM_LABELS",
                    "Datasets": [
                        {
                            "CreationTimestamp": d["created"],
                            "DatasetType": d["type"],
                            "DatasetArn": d["arn"],
                            "Status": d["status"],
                            "StatusMessage": d["statusMessage"],
                            "StatusMessageCode": d["statusMessageCode"],
                        }
                        for d in datasets
                    ],
                }
            )
    limit = int(params.get("MaxResults", 100))
    return {"ProjectDescriptions": descriptions[:limit]}


# ----- datasets -------------------------------------------------------------------------------------
def _read_s3(ctx: Context, bucket: str, key: str, version: str | None = None) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    try:
        return ctx.s3_client_factory().get_object(**kwargs)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise errors.invalid_s3_object(f"Unable to read s3://{bucket}/{key}: {exc}") from exc


def _parse_manifest(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """GroundTruth image-classification lines -> entries {source, labels}; and a message per bad line."""
    entries, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"line {number}: not valid JSON")
            continue
        source = record.get("source-ref") if isinstance(record, dict) else None
        if not isinstance(source, str) or not source.startswith("s3://") or "/" not in source[5:]:
            problems.append(f"line {number}: source-ref must be an s3://bucket/key URI")
            continue
        labels: list[str] = []
        for key, meta in record.items():
            if not key.endswith("-metadata") or not isinstance(meta, dict):
                continue
            value = record.get(key[: -len("-metadata")])
            if "class-name" in meta and value is not None:
                labels.append(str(meta["class-name"]))
            elif isinstance(meta.get("class-map"), dict) and isinstance(value, list) and value and not isinstance(value[0], dict):
                labels.extend(str(meta["class-map"].get(str(v), v)) for v in value)
            elif isinstance(value, dict) and "annotations" in value:
                problems.append(f"line {number}: object-detection (bounding box) labels are not supported by the local engine")
        if not labels:
            problems.append(f"line {number}: no image-level label (a '<attribute>-metadata' with 'class-name')")
            continue
        entries.append({"source": source, "labels": sorted(set(labels))})
    return entries, problems


def _dataset_arn(project: dict[str, Any], kind: str) -> str:
    return f"arn:aws:rekognition:{_region()}:{ACCOUNT_ID}:project/{project['name']}/dataset/{kind.lower()}/{_ms()}"


def create_dataset(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    kind = params["DatasetType"]
    store = _store(ctx)
    with store.lock:
        project = store.project(params["ProjectArn"])
        if project["datasets"].get(kind):
            raise errors.RekognitionError("ResourceAlreadyExistsException", f"The project already has a {kind} dataset.")
    source = params.get("DatasetSource") or {}
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    if "GroundTruthManifest" in source:
        s3 = source["GroundTruthManifest"].get("S3Object") or {}
        if not s3.get("Bucket") or not s3.get("Name"):
            raise errors.invalid_parameter("DatasetSource.GroundTruthManifest.S3Object needs Bucket and Name")
        text = _read_s3(ctx, s3["Bucket"], s3["Name"], s3.get("Version")).decode("utf-8", errors="replace")
        entries, problems = _parse_manifest(text)
    elif "DatasetArn" in source:
        with store.lock:
            original = store.datasets.get(source["DatasetArn"])
            if original is None:
                raise _not_found(f"The dataset {source['DatasetArn']} does not exist.")
            entries = [dict(e) for e in original["entries"]]
    now = time.time()
    if problems and not entries:
        status, message, code = "CREATE_FAILED", "The manifest has no valid entries: " + "; ".join(problems[:3]), "CLIENT_ERROR"
    else:
        status, message, code = "CREATE_COMPLETE", "The dataset was created.", "SUCCESS"
    with store.lock:
        project = store.project(params["ProjectArn"])
        arn = _dataset_arn(project, kind)
        store.datasets[arn] = {
            "arn": arn,
            "project": project["name"],
            "type": kind,
            "created": now,
            "updated": now,
            "status": status,
            "statusMessage": message,
            "statusMessageCode": code,
            "entries": entries,
            "errors": len(problems),
        }
        project["datasets"][kind] = arn
        store.save()
    return {"DatasetArn": arn}


def _dataset(store: CustomLabelsStore, arn: str) -> dict[str, Any]:
    dataset = store.datasets.get(arn)
    if dataset is None:
        raise _not_found(f"The dataset {arn} does not exist.")
    return dataset


def describe_dataset(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    with store.lock:
        d = _dataset(store, params["DatasetArn"])
        labels = {label for e in d["entries"] for label in e["labels"]}
        return {
            "DatasetDescription": {
                "CreationTimestamp": d["created"],
                "LastUpdatedTimestamp": d["updated"],
                "Status": d["status"],
                "StatusMessage": d["statusMessage"],
                "StatusMessageCode": d["statusMessageCode"],
                "DatasetStats": {
                    "LabeledEntries": len(d["entries"]),
                    "TotalEntries": len(d["entries"]) + d["errors"],
                    "TotalLabels": len(labels),
                    "ErrorEntries": d["errors"],
                },
            }
        }


def delete_dataset(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    with store.lock:
        d = _dataset(store, params["DatasetArn"])
        project = store.projects.get(d["project"])
        if project and project["datasets"].get(d["type"]) == d["arn"]:
            del project["datasets"][d["type"]]
        del store.datasets[d["arn"]]
        store.save()
    return {}


def _split(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deterministic, per-label ~20% test split; a label with one image stays in training."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for entry in sorted(entries, key=lambda e: e["source"]):
        by_label.setdefault(entry["labels"][0], []).append(entry)
    train, test = [], []
    for group in by_label.values():
        count = int(round(len(group) * TEST_SHARE)) if len(group) > 1 else 0
        count = max(count, 1) if len(group) > 1 else 0
        step = len(group) / count if count else 0
        picked = {int(i * step + step / 2) for i in range(count)}
        for i, entry in enumerate(group):
            (test if i in picked else train).append(entry)
    return train, test


def distribute_dataset_entries(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    with store.lock:
        found = [_dataset(store, d["Arn"]) for d in params["Datasets"]]
        kinds = sorted(d["type"] for d in found)
        if kinds != ["TEST", "TRAIN"]:
            raise errors.invalid_parameter("Datasets must be the project's TRAIN and TEST datasets")
        train = next(d for d in found if d["type"] == "TRAIN")
        test = next(d for d in found if d["type"] == "TEST")
        if test["entries"]:
            raise errors.invalid_parameter("The TEST dataset must be empty to distribute entries into it")
        train["entries"], test["entries"] = _split(train["entries"])
        train["updated"] = test["updated"] = time.time()
        store.save()
    return {}


# ----- project versions -----------------------------------------------------------------------------
def _version_arn(project: dict[str, Any], name: str) -> str:
    return f"arn:aws:rekognition:{_region()}:{ACCOUNT_ID}:project/{project['name']}/version/{name}/{_ms()}"


def _manifest_entries(ctx: Context, data: dict[str, Any] | None) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for asset in (data or {}).get("Assets") or []:
        s3 = (asset.get("GroundTruthManifest") or {}).get("S3Object") or {}
        text = _read_s3(ctx, s3.get("Bucket", ""), s3.get("Name", ""), s3.get("Version")).decode("utf-8", errors="replace")
        entries.extend(_parse_manifest(text)[0])
    return entries


def create_project_version(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    name = params["VersionName"]
    if not _NAME.match(name):
        raise errors.invalid_parameter(f"VersionName {name!r} must match [a-zA-Z0-9_.-]{{1,255}}")
    output = params["OutputConfig"]
    if not output.get("S3Bucket"):
        raise errors.invalid_parameter("OutputConfig.S3Bucket is required")
    training_data, testing_data = params.get("TrainingData"), params.get("TestingData")
    with store.lock:
        project = store.project(params["ProjectArn"])
        if any(v["project"] == project["name"] and v["name"] == name for v in store.versions.values()):
            raise _in_use(f"A version named {name} already exists in project {project['name']}.")
        has_datasets = bool(project["datasets"])
        if training_data and has_datasets:
            raise errors.invalid_parameter("TrainingData can't be given for a project that has datasets")
        if not training_data and not project["datasets"].get("TRAIN"):
            raise errors.invalid_parameter("The project has no TRAIN dataset; create one or give TrainingData")
        if not training_data and not project["datasets"].get("TEST"):
            raise errors.invalid_parameter("The project has no TEST dataset; create one (or distribute entries into it)")
        if training_data and not testing_data:
            raise errors.invalid_parameter("TestingData is required with TrainingData (Assets or AutoCreate)")
        if has_datasets:
            train = [dict(e) for e in store.datasets[project["datasets"]["TRAIN"]]["entries"]]
            test = [dict(e) for e in store.datasets[project["datasets"]["TEST"]]["entries"]]
    if training_data:
        train = _manifest_entries(ctx, training_data)
        test = [] if testing_data.get("AutoCreate") else _manifest_entries(ctx, testing_data)
        if testing_data.get("AutoCreate"):
            train, test = _split(train)
    now = time.time()
    with store.lock:
        arn = _version_arn(project, name)
        version = {
            "arn": arn,
            "project": project["name"],
            "name": name,
            "description": params.get("VersionDescription"),
            "created": now,
            "status": _TRAINING,
            "statusMessage": "The model is being trained.",
            "readyAt": now + _seconds("REKOFLOW_ENGINE_MIN_TRAINING_SECONDS", 2.0),
            "outputConfig": {"S3Bucket": output["S3Bucket"], "S3KeyPrefix": output.get("S3KeyPrefix", "")},
            "minInferenceUnits": None,
            "trainImages": len(train),
            "testImages": len(test),
        }
        store.versions[arn] = version
        store.save()
    thread = threading.Thread(target=_train, args=(store, ctx, arn, train, test), name=f"custom-labels-train-{name}", daemon=True)
    store.threads.append(thread)
    thread.start()
    return {"ProjectVersionArn": arn}


def _train(store: CustomLabelsStore, ctx: Context, arn: str, train: list[dict[str, Any]], test: list[dict[str, Any]]) -> None:
    started = time.time()
    try:
        outcome = _fit(store, ctx, arn, train, test)
    except errors.RekognitionError as exc:
        outcome = {"status": "TRAINING_FAILED", "statusMessage": exc.message}
    except Exception as exc:  # noqa: BLE001 - any failure is the version's status, never a lost thread
        log.exception("training %s failed", arn)
        outcome = {"status": "TRAINING_FAILED", "statusMessage": f"Training failed: {type(exc).__name__}: {exc}"}
    finished = time.time()
    outcome.update(trainingEnd=finished, billableSeconds=int(round(finished - started)))
    with store.lock:
        version = store.versions[arn]
        version["outcome"] = outcome
        version["readyAt"] = max(version["readyAt"], finished)
        store.save()


def _embed_all(ctx: Context, entries: list[dict[str, Any]], what: str, flips: bool) -> list[np.ndarray]:
    from rekoflow.engine.models import embeddings

    vectors, failures = [], []
    s3 = ctx.s3_client_factory()
    for entry in entries:
        bucket, _, key = entry["source"][5:].partition("/")
        try:
            image = decode(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except errors.RekognitionError as exc:
            failures.append(f"{entry['source']}: {exc.message}")
            continue
        except Exception as exc:  # noqa: BLE001 - S3 errors name the object
            failures.append(f"{entry['source']}: cannot be read ({type(exc).__name__})")
            continue
        vectors.append(embeddings.embed(image.bgr))
        if flips:
            vectors.append(embeddings.embed(np.ascontiguousarray(image.bgr[:, ::-1])))
    if failures:
        raise errors.RekognitionError(
            "InvalidParameterException",
            f"{len(failures)} of {len(entries)} {what} images could not be used: " + "; ".join(failures[:3]),
        )
    return vectors


def _fit(store: CustomLabelsStore, ctx: Context, arn: str, train: list[dict[str, Any]], test: list[dict[str, Any]]) -> dict[str, Any]:
    from rekoflow.engine.models import embeddings
    from rekoflow.engine.models.classifier import evaluate, train_softmax

    labels = sorted({e["labels"][0] for e in train})
    if len(labels) < 2:
        found = ", ".join(labels) or "none"
        return {
            "status": "TRAINING_FAILED",
            "statusMessage": f"The training dataset must have at least 2 labels to train a classification model; it has {len(labels)} ({found}).",
        }
    if not test:
        return {"status": "TRAINING_FAILED", "statusMessage": "The test dataset is empty: add test images or use an auto-split."}
    index = {label: i for i, label in enumerate(labels)}
    features = _embed_all(ctx, train, "training", flips=True)
    targets = np.repeat([index[e["labels"][0]] for e in train], 2)
    backbone = embeddings.backbone().name
    head = train_softmax(np.stack(features), targets, labels, backbone)
    test_features = np.stack(_embed_all(ctx, test, "test", flips=False))
    test_targets = np.array([index.get(e["labels"][0], -1) for e in test])
    f1, precision, recall, per_label = evaluate(head, test_features, test_targets)
    with store.lock:
        version = store.versions[arn]
        head_file = f"models/{version['project']}--{version['name']}--{int(version['created'] * 1000)}.npz"
        store.heads[arn] = head
        if store.dir:
            (store.dir / "models").mkdir(parents=True, exist_ok=True)
            head.save(store.dir / head_file)
        output = version["outputConfig"]
    summary_key = f"{output['S3KeyPrefix']}EvaluationResultSummary-{version['project']}-{version['name']}.json"
    summary = {
        "Version": 1,
        "AggregatedEvaluationResults": {"F1Score": f1, "Precision": precision, "Recall": recall},
        "EvaluationDetails": {
            "EvaluationEndTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Labels": labels,
            "NumberOfTestingImages": len(test),
            "NumberOfTrainingImages": len(train),
            "ProjectVersionArn": arn,
            "Backbone": backbone,
        },
        "LabelEvaluationResults": [
            {
                "Label": m.label,
                "Metrics": {"F1Score": m.f1, "Precision": m.precision, "Recall": m.recall, "Threshold": DEFAULT_MIN_CONFIDENCE / 100},
                "NumberOfTestingImages": m.test_images,
            }
            for m in per_label
        ],
    }
    try:
        ctx.s3_client_factory().put_object(
            Bucket=output["S3Bucket"], Key=summary_key, Body=json.dumps(summary, indent=2).encode(), ContentType="application/json"
        )
    except Exception as exc:  # noqa: BLE001
        return {"status": "TRAINING_FAILED", "statusMessage": f"Cannot write to the output location s3://{output['S3Bucket']}/{summary_key}: {exc}"}
    return {
        "status": "TRAINING_COMPLETED",
        "statusMessage": "The model is ready to run.",
        "headFile": head_file if store.dir else None,
        "evaluation": {"F1Score": f1, "Summary": {"S3Object": {"Bucket": output["S3Bucket"], "Name": summary_key}}},
        "labels": labels,
        "backbone": backbone,
    }


def describe_project_versions(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    names = params.get("VersionNames")
    with store.lock:
        project = store.project(params["ProjectArn"])
        versions = [v for v in store.versions.values() if v["project"] == project["name"] and (not names or v["name"] in names)]
        for version in versions:
            _advance(version)
        versions.sort(key=lambda v: -v["created"])
        limit = int(params.get("MaxResults", 100))
        return {"ProjectVersionDescriptions": [_describe_version(v) for v in versions[:limit]]}


def _describe_version(v: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ProjectVersionArn": v["arn"],
        "CreationTimestamp": v["created"],
        "Status": v["status"],
        "StatusMessage": v["statusMessage"],
        "OutputConfig": v["outputConfig"],
        "Feature": "CUSTOM_LABELS",
        "BaseModelVersion": "local-" + str(v.get("backbone", "embeddings")),
    }
    if v.get("description"):
        out["VersionDescription"] = v["description"]
    if v.get("minInferenceUnits"):
        out["MinInferenceUnits"] = v["minInferenceUnits"]
        out["MaxInferenceUnits"] = v.get("maxInferenceUnits") or v["minInferenceUnits"]
    if v.get("trainingEnd"):
        out["TrainingEndTimestamp"] = v["trainingEnd"]
        out["BillableTrainingTimeInSeconds"] = v.get("billableSeconds", 0)
    if v.get("evaluation"):
        out["EvaluationResult"] = v["evaluation"]
    return out


def start_project_version(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    with store.lock:
        version = store.version(params["ProjectVersionArn"])
        if version["status"] not in ("TRAINING_COMPLETED", "STOPPED", "FAILED"):
            raise _in_use(f"The model can't be started while its status is {version['status']}.")
        units = int(params["MinInferenceUnits"])
        version.update(
            status="STARTING",
            statusMessage="The model is being started.",
            minInferenceUnits=units,
            maxInferenceUnits=params.get("MaxInferenceUnits") or units,
            transitionAt=time.time() + _seconds("REKOFLOW_ENGINE_MODEL_START_SECONDS", 1.0),
        )
        store.save()
        return {"Status": "STARTING"}


def stop_project_version(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    store = _store(ctx)
    with store.lock:
        version = store.version(params["ProjectVersionArn"])
        if version["status"] not in ("RUNNING", "STARTING"):
            raise _in_use(f"The model can't be stopped while its status is {version['status']}.")
        version.update(
            status="STOPPING",
            statusMessage="The model is being stopped.",
            transitionAt=time.time() + _seconds("REKOFLOW_ENGINE_MODEL_STOP_SECONDS", 0.5),
        )
        store.save()
        return {"Status": "STOPPING"}


def detect_custom_labels(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from rekoflow.engine.models import embeddings

    store = _store(ctx)
    with store.lock:
        version = store.version(params["ProjectVersionArn"])
        if version["status"] != "RUNNING":
            raise _not_ready(f"ProjectVersion {version['arn']} is not ready: its status is {version['status']}.")
        head = store.head(version)
    image = ctx.image(params)
    probabilities = head.probabilities(embeddings.embed(image.bgr))[0]
    min_confidence = float(params.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))
    found = sorted(zip(head.labels, probabilities), key=lambda pair: -pair[1])
    labels = [{"Name": name, "Confidence": round(float(p) * 100, 4)} for name, p in found if p * 100 >= min_confidence]
    if "MaxResults" in params:
        labels = labels[: int(params["MaxResults"])]
    return {"CustomLabels": labels}


def model_status(ctx: Context, arn: str) -> str:
    """The current status of a version (for tests and the CLI)."""
    store = _store(ctx)
    with store.lock:
        return store.version(arn)["status"]


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
