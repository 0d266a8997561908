"""The Custom Labels records of one engine and their persistence.

Owns the typed records (``Project``, ``Dataset``, ``ProjectVersion`` with its ``OutputConfig``,
``TrainedModel``/``Evaluation`` and pending ``TrainingOutcome``), their ARNs, one re-entrant lock for
all of them, and the state folder: ``custom_labels.json`` (rewritten whole on every change, through a
temporary file) plus one ``.npz`` per trained head under ``models/``. Without a state folder
everything stays in memory.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rekoflow.engine import errors
from rekoflow.engine.custom_labels import lifecycle
from rekoflow.engine.custom_labels.manifest import ManifestEntry
from rekoflow.engine.operations._common import Context

if TYPE_CHECKING:
    from rekoflow.engine.models.classifier import SoftmaxHead

ACCOUNT_ID = "123456789012"
_STATE_FILE = "custom_labels.json"
_CONTEXT_KEY = "custom_labels"  # this store's slot in Context.stores


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _arn(path: str) -> str:
    """A Custom Labels ARN under ``project/``, made unique by the current millisecond as the service does."""
    return f"arn:aws:rekognition:{_region()}:{ACCOUNT_ID}:project/{path}/{int(time.time() * 1000)}"


def not_found(message: str) -> errors.RekognitionError:
    return errors.RekognitionError("ResourceNotFoundException", message)


# ----- records ----------------------------------------------------------------------------------
# Each record's to_json/from_json is its form in custom_labels.json (the keys the engine has always
# written, so state folders from earlier versions load). OutputConfig and Evaluation are kept in the
# service's own shape, which is also what DescribeProjectVersions answers.


@dataclass(slots=True)
class Project:
    name: str
    arn: str
    created: float
    datasets: dict[str, str] = field(default_factory=dict)  # DatasetType (TRAIN/TEST) -> DatasetArn

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "arn": self.arn, "created": self.created, "datasets": self.datasets}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Project:
        return cls(name=data["name"], arn=data["arn"], created=data["created"], datasets=dict(data["datasets"]))


@dataclass(slots=True)
class Dataset:
    arn: str
    project: str  # the project's name
    dataset_type: str  # TRAIN or TEST
    created: float
    updated: float
    status: str
    status_message: str
    status_message_code: str
    entries: list[ManifestEntry]
    error_entries: int  # manifest lines that could not be used

    def to_json(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "project": self.project,
            "type": self.dataset_type,
            "created": self.created,
            "updated": self.updated,
            "status": self.status,
            "statusMessage": self.status_message,
            "statusMessageCode": self.status_message_code,
            "entries": self.entries,
            "errors": self.error_entries,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dataset:
        return cls(
            arn=data["arn"],
            project=data["project"],
            dataset_type=data["type"],
            created=data["created"],
            updated=data["updated"],
            status=data["status"],
            status_message=data["statusMessage"],
            status_message_code=data["statusMessageCode"],
            entries=list(data["entries"]),
            error_entries=data["errors"],
        )


@dataclass(slots=True)
class OutputConfig:
    s3_bucket: str
    s3_key_prefix: str = ""

    def to_wire(self) -> dict[str, str]:
        return {"S3Bucket": self.s3_bucket, "S3KeyPrefix": self.s3_key_prefix}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> OutputConfig:
        return cls(s3_bucket=data["S3Bucket"], s3_key_prefix=data.get("S3KeyPrefix", ""))


@dataclass(slots=True)
class Evaluation:
    f1_score: float
    summary_bucket: str  # where EvaluationResultSummary-<project>-<version>.json was written
    summary_key: str

    def to_wire(self) -> dict[str, Any]:
        summary = {"S3Object": {"Bucket": self.summary_bucket, "Name": self.summary_key}}
        return {"F1Score": self.f1_score, "Summary": summary}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Evaluation:
        s3_object = data["Summary"]["S3Object"]
        return cls(f1_score=data["F1Score"], summary_bucket=s3_object["Bucket"], summary_key=s3_object["Name"])


@dataclass(slots=True)
class TrainedModel:
    """What a completed training leaves: the head (a file under the state folder, if any) and its scores."""

    head_file: str | None  # relative to the store's folder; None when the store is in memory
    evaluation: Evaluation
    labels: list[str]
    backbone: str

    def to_json(self) -> dict[str, Any]:
        evaluation = self.evaluation.to_wire()
        return {"headFile": self.head_file, "evaluation": evaluation, "labels": self.labels, "backbone": self.backbone}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainedModel | None:
        """The model part of a version or outcome record; None when it has none (not trained, or failed)."""
        if not data.get("evaluation"):
            return None
        return cls(
            head_file=data.get("headFile"),
            evaluation=Evaluation.from_wire(data["evaluation"]),
            labels=data["labels"],
            backbone=data["backbone"],
        )


@dataclass(slots=True)
class TrainingOutcome:
    """A finished training, held until the version's ready_at (lifecycle.advance applies it)."""

    status: str  # TRAINING_COMPLETED or TRAINING_FAILED
    status_message: str
    training_end: float
    billable_seconds: int
    model: TrainedModel | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"status": self.status, "statusMessage": self.status_message}
        data.update(self.model.to_json() if self.model else {})
        return {**data, "trainingEnd": self.training_end, "billableSeconds": self.billable_seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingOutcome:
        return cls(
            status=data["status"],
            status_message=data["statusMessage"],
            training_end=data["trainingEnd"],
            billable_seconds=data["billableSeconds"],
            model=TrainedModel.from_json(data),
        )


@dataclass(slots=True)
class ProjectVersion:
    arn: str
    project: str  # the project's name
    name: str
    description: str | None
    created: float
    output_config: OutputConfig
    train_images: int
    test_images: int
    ready_at: float  # a training outcome is applied no earlier than this
    status: str = lifecycle.TRAINING_IN_PROGRESS
    status_message: str = lifecycle.TRAINING_MESSAGE
    outcome: TrainingOutcome | None = None
    transition_at: float | None = None  # when STARTING/STOPPING ends
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    training_end: float | None = None
    billable_seconds: int = 0
    model: TrainedModel | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "arn": self.arn,
            "project": self.project,
            "name": self.name,
            "description": self.description,
            "created": self.created,
            "status": self.status,
            "statusMessage": self.status_message,
            "readyAt": self.ready_at,
            "outputConfig": self.output_config.to_wire(),
            "minInferenceUnits": self.min_inference_units,
            "trainImages": self.train_images,
            "testImages": self.test_images,
        }
        optional = {
            "outcome": self.outcome.to_json() if self.outcome else None,
            "transitionAt": self.transition_at,
            "maxInferenceUnits": self.max_inference_units,
            "trainingEnd": self.training_end,
            "billableSeconds": self.billable_seconds if self.training_end is not None else None,
            **(self.model.to_json() if self.model else {}),
        }
        return {**data, **{key: value for key, value in optional.items() if value is not None}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProjectVersion:
        outcome = data.get("outcome")
        return cls(
            arn=data["arn"],
            project=data["project"],
            name=data["name"],
            description=data.get("description"),
            created=data["created"],
            output_config=OutputConfig.from_wire(data["outputConfig"]),
            train_images=data["trainImages"],
            test_images=data["testImages"],
            ready_at=data["readyAt"],
            status=data["status"],
            status_message=data["statusMessage"],
            outcome=TrainingOutcome.from_json(outcome) if outcome else None,
            transition_at=data.get("transitionAt"),
            min_inference_units=data.get("minInferenceUnits"),
            max_inference_units=data.get("maxInferenceUnits"),
            training_end=data.get("trainingEnd"),
            billable_seconds=data.get("billableSeconds", 0),
            model=TrainedModel.from_json(data),
        )


# ----- the store --------------------------------------------------------------------------------
class CustomLabelsStore:
    """Projects, datasets and versions of one engine; persisted as JSON + .npz heads under state_dir.

    Callers hold ``lock`` around any read-modify-write of the records and call ``save`` after a change.
    """

    def __init__(self, state_dir: Path | None) -> None:
        self.dir = Path(state_dir) / "custom_labels" if state_dir else None
        self.lock = threading.RLock()
        self.projects: dict[str, Project] = {}  # by name
        self.datasets: dict[str, Dataset] = {}  # by ARN
        self.versions: dict[str, ProjectVersion] = {}  # by ARN
        self.heads: dict[str, SoftmaxHead] = {}  # by version ARN: trained here, or loaded on first use
        self._load()

    def _load(self) -> None:
        if not self.dir or not (self.dir / _STATE_FILE).is_file():
            return
        state = json.loads((self.dir / _STATE_FILE).read_text())
        self.projects = {name: Project.from_json(p) for name, p in state["projects"].items()}
        self.datasets = {arn: Dataset.from_json(d) for arn, d in state["datasets"].items()}
        self.versions = {arn: ProjectVersion.from_json(v) for arn, v in state["versions"].items()}
        for version in self.versions.values():
            lifecycle.interrupt_if_orphaned(version)

    def save(self) -> None:
        if not self.dir:
            return
        with self.lock:
            state = {
                "projects": {name: p.to_json() for name, p in self.projects.items()},
                "datasets": {arn: d.to_json() for arn, d in self.datasets.items()},
                "versions": {arn: v.to_json() for arn, v in self.versions.items()},
            }
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / (_STATE_FILE + ".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(self.dir / _STATE_FILE)

    # ----- lookups (raise ResourceNotFoundException) -----
    def project(self, arn: str) -> Project:
        for project in self.projects.values():
            if project.arn == arn:
                return project
        raise not_found(f"The project {arn} does not exist.")

    def dataset(self, arn: str) -> Dataset:
        dataset = self.datasets.get(arn)
        if dataset is None:
            raise not_found(f"The dataset {arn} does not exist.")
        return dataset

    def datasets_of(self, project: Project) -> list[Dataset]:
        return [self.datasets[arn] for arn in project.datasets.values() if arn in self.datasets]

    def version(self, arn: str) -> ProjectVersion:
        """The version, advanced to now on its lifecycle."""
        version = self.versions.get(arn)
        if version is None:
            raise not_found(f"The project version {arn} does not exist.")
        lifecycle.advance(version)
        return version

    def has_version(self, project: Project, name: str) -> bool:
        """Whether the project has a version of that name (a plain look, not advanced)."""
        return any(v.project == project.name and v.name == name for v in self.versions.values())

    def versions_of(self, project: Project, names: list[str] | None = None) -> list[ProjectVersion]:
        """The project's versions (those named, if names are given), advanced to now."""
        found = [v for v in self.versions.values() if v.project == project.name and (not names or v.name in names)]
        for version in found:
            lifecycle.advance(version)
        return found

    def head(self, version: ProjectVersion) -> SoftmaxHead:
        from rekoflow.engine.models.classifier import SoftmaxHead

        if version.arn not in self.heads:
            head_file = version.model.head_file if version.model else None
            if not head_file or not self.dir:
                raise errors.internal("the trained model of this version is missing")
            self.heads[version.arn] = SoftmaxHead.load(self.dir / head_file)
        return self.heads[version.arn]

    # ----- new records (saved) -----
    def add_project(self, name: str) -> Project:
        with self.lock:
            if name in self.projects:
                raise lifecycle.in_use(f"A project with the name {name} already exists.")
            project = self.projects[name] = Project(name=name, arn=_arn(name), created=time.time())
            self.save()
            return project

    def add_dataset(
        self, project_arn: str, dataset_type: str, entries: list[ManifestEntry], problems: list[str]
    ) -> Dataset:
        """A dataset of the given entries; CREATE_FAILED when the manifest had problems and no usable entry."""
        now = time.time()
        if problems and not entries:
            message = "The manifest has no valid entries: " + "; ".join(problems[:3])
            status, code = "CREATE_FAILED", "CLIENT_ERROR"
        else:
            status, message, code = "CREATE_COMPLETE", "The dataset was created.", "SUCCESS"
        with self.lock:
            project = self.project(project_arn)
            arn = _arn(f"{project.name}/dataset/{dataset_type.lower()}")
            dataset = self.datasets[arn] = Dataset(
                arn=arn,
                project=project.name,
                dataset_type=dataset_type,
                created=now,
                updated=now,
                status=status,
                status_message=message,
                status_message_code=code,
                entries=entries,
                error_entries=len(problems),
            )
            project.datasets[dataset_type] = arn
            self.save()
            return dataset

    def remove_dataset(self, dataset: Dataset) -> None:
        with self.lock:
            project = self.projects.get(dataset.project)
            if project and project.datasets.get(dataset.dataset_type) == dataset.arn:
                del project.datasets[dataset.dataset_type]
            del self.datasets[dataset.arn]
            self.save()

    def add_version(
        self,
        project: Project,
        name: str,
        description: str | None,
        output: OutputConfig,
        train_images: int,
        test_images: int,
    ) -> ProjectVersion:
        """A new version, TRAINING_IN_PROGRESS from now."""
        now = time.time()
        with self.lock:
            version = ProjectVersion(
                arn=_arn(f"{project.name}/version/{name}"),
                project=project.name,
                name=name,
                description=description,
                created=now,
                output_config=output,
                train_images=train_images,
                test_images=test_images,
                ready_at=lifecycle.training_ready_at(now),
            )
            self.versions[version.arn] = version
            self.save()
            return version


_STORES_LOCK = threading.Lock()


def store_of(ctx: Context) -> CustomLabelsStore:
    """The engine's store, created (and loaded from its state folder) on first use."""
    with _STORES_LOCK:
        store: CustomLabelsStore | None = ctx.stores.get(_CONTEXT_KEY)
        if store is None:
            store = ctx.stores[_CONTEXT_KEY] = CustomLabelsStore(ctx.state_dir)
        return store
