"""The local engine's Custom Labels: projects, datasets, model versions that train, start and stop.

The lifecycle follows the service (https://docs.aws.amazon.com/rekognition/latest/customlabels-dg/):

    CreateProject -> CreateDataset (TRAIN, TEST or DistributeDatasetEntries) -> CreateProjectVersion
    TRAINING_IN_PROGRESS -> TRAINING_COMPLETED | TRAINING_FAILED
    StartProjectVersion: STARTING -> RUNNING        StopProjectVersion: STOPPING -> STOPPED
    DetectCustomLabels answers only while RUNNING (else ResourceNotReadyException)

Modules, bottom up:

- ``manifest``: GroundTruth manifests (reading, parsing, validation messages) and the test split.
- ``lifecycle``: statuses, their timings and the transitions between them (the status clock).
- ``store``: the typed records (Project, Dataset, ProjectVersion, ...) and their persistence.
- ``training``: the background training thread (embeddings + softmax head, evaluation summary).

The wire API on top of them is ``rekoflow.engine.operations.custom_labels``.
"""
