"""DetectModerationLabels: open_nsfw's top-level score merged with NudeNet's body parts (optional
`moderation-nudenet` extra) mapped onto Rekognition's taxonomy. No explicit image is committed or
generated: the mapping is tested on synthetic detections, the real model on safe photos."""

from __future__ import annotations

import importlib.util
import os

import pytest

from rekoflow.engine.models import nudity
from rekoflow.engine.operations.moderation import labels_from_parts, moderation_labels
from rekoflow.engine.taxonomy_moderation import LABELS, NUDENET_EXPOSED, ancestors

from .engine_shapes import validate

BOX = (10.0, 10.0, 50.0, 50.0)


def _parts(*pairs: tuple[str, float]) -> list[nudity.Part]:
    return [nudity.Part(name, score, BOX) for name, score in pairs]


def _by_name(labels: list[dict]) -> dict[str, dict]:
    return {label["Name"]: label for label in labels}


def test_an_exposed_part_comes_with_its_parents_and_levels():
    labels = moderation_labels(labels_from_parts(_parts(("FEMALE_BREAST_EXPOSED", 0.81), ("FACE_FEMALE", 0.9))), 50)
    assert labels == [
        {"Confidence": 81.0, "Name": "Exposed Female Nipple", "ParentName": "Explicit Nudity", "TaxonomyLevel": 3},
        {"Confidence": 81.0, "Name": "Explicit Nudity", "ParentName": "Explicit", "TaxonomyLevel": 2},
        {"Confidence": 81.0, "Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1},
    ]


def test_open_nsfw_and_parts_merge_each_parent_as_sure_as_its_surest_source():
    confidences = labels_from_parts(
        _parts(("BUTTOCKS_EXPOSED", 0.6), ("ANUS_EXPOSED", 0.7), ("MALE_BREAST_EXPOSED", 0.55))
    )
    confidences["Explicit"] = 93.0  # open_nsfw
    labels = _by_name(moderation_labels(confidences, 50))
    assert labels["Explicit"]["Confidence"] == 93.0
    assert labels["Explicit Nudity"]["Confidence"] == 70.0  # the better of buttocks/anus
    assert labels["Exposed Buttocks or Anus"]["Confidence"] == 70.0
    assert labels["Exposed Male Nipple"] == {
        "Confidence": 55.0,
        "Name": "Exposed Male Nipple",
        "ParentName": "Non-Explicit Nudity",
        "TaxonomyLevel": 3,
    }
    assert labels["Non-Explicit Nudity"]["ParentName"] == "Non-Explicit Nudity of Intimate parts and Kissing"
    assert labels["Non-Explicit Nudity of Intimate parts and Kissing"]["TaxonomyLevel"] == 1
    assert len(labels) == 6


def test_min_confidence_applies_to_every_level():
    confidences = labels_from_parts(_parts(("MALE_GENITALIA_EXPOSED", 0.45)))
    assert moderation_labels(confidences, 50) == []
    assert [label["Name"] for label in moderation_labels(confidences, 40)] == [
        "Exposed Male Genitalia",
        "Explicit Nudity",
        "Explicit",
    ]
    # open_nsfw alone gives the top-level label only, as before the extra.
    assert moderation_labels({"Explicit": 64.0}, 50) == [
        {"Confidence": 64.0, "Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1}
    ]


def test_swimwear_needs_a_covered_part_and_a_bare_belly():
    assert labels_from_parts(_parts(("FEMALE_BREAST_COVERED", 0.8))) == {}
    assert labels_from_parts(_parts(("BELLY_EXPOSED", 0.8))) == {}
    # A clothed woman's top scores about 0.3 as "covered": not swimwear, even beside a bare belly.
    assert labels_from_parts(_parts(("FEMALE_BREAST_COVERED", 0.32), ("BELLY_EXPOSED", 0.7))) == {}
    labels = moderation_labels(labels_from_parts(_parts(("FEMALE_GENITALIA_COVERED", 0.7), ("BELLY_EXPOSED", 0.6))), 50)
    assert labels == [
        {
            "Confidence": 60.0,
            "Name": "Female Swimwear or Underwear",
            "ParentName": "Swimwear or Underwear",
            "TaxonomyLevel": 2,
        },
        {"Confidence": 60.0, "Name": "Swimwear or Underwear", "ParentName": "", "TaxonomyLevel": 1},
    ]


def test_parts_that_are_no_moderation_label_give_none():
    harmless = (
        "FACE_FEMALE",
        "FACE_MALE",
        "FEET_EXPOSED",
        "FEET_COVERED",
        "ARMPITS_EXPOSED",
        "ARMPITS_COVERED",
        "BELLY_COVERED",
        "BELLY_EXPOSED",
        "ANUS_COVERED",
    )
    assert labels_from_parts(_parts(*((name, 0.95) for name in harmless))) == {}


def test_taxonomy_is_consistent():
    for label in LABELS.values():
        assert (label.parent == "") == (label.level == 1), label
        if label.parent:
            assert LABELS[label.parent].level == label.level - 1, label
    for name in NUDENET_EXPOSED.values():
        assert LABELS[name].level == 3 and len(ancestors(name)) == 2


def test_every_class_the_model_has_is_known():
    if not nudity.available():
        pytest.skip("the moderation-nudenet extra is not installed")
    from rekoflow.engine.taxonomy_moderation import NUDENET_BARE_BELLY, NUDENET_COVERED

    names = set(nudity._detector.get()._names)
    assert len(names) == 18
    assert set(NUDENET_EXPOSED) | NUDENET_COVERED | {NUDENET_BARE_BELLY} <= names


needs_nudenet = pytest.mark.skipif(not nudity.available(), reason="the moderation-nudenet extra is not installed")


@pytest.mark.engine
@needs_nudenet
def test_the_detector_sees_faces_where_they_are(photos):
    """A safe check of the real model's pre- and post-processing: its face classes land on the faces
    (the astronaut's face is around x 170-275, y 80-180 in the 512 px photo)."""
    import cv2
    import numpy as np

    bgr = cv2.imdecode(np.frombuffer(photos["astronaut"], np.uint8), cv2.IMREAD_COLOR)
    faces = [p for p in nudity.detect(bgr) if p.name == "FACE_FEMALE"]
    assert faces and faces[0].score > 0.6
    x, y, w, h = faces[0].box
    assert 170 <= x + w / 2 <= 275 and 80 <= y + h / 2 <= 180
    grace = cv2.imdecode(np.frombuffer(photos["grace_hopper"], np.uint8), cv2.IMREAD_COLOR)
    assert "FACE_FEMALE" in [p.name for p in nudity.detect(grace)]


def _safe_photos(photos) -> dict[str, bytes]:
    out = dict(photos)
    spec = importlib.util.find_spec("insightface")
    if spec and spec.submodule_search_locations:
        path = os.path.join(next(iter(spec.submodule_search_locations)), "data", "images", "t1.jpg")
        if os.path.exists(path):
            with open(path, "rb") as fh:
                out["friends"] = fh.read()  # six clothed people at a table
    return out


@pytest.mark.engine
@needs_nudenet
def test_safe_photos_stay_unflagged_with_the_body_part_model(rekognition, raw_capture, photos, service_model):
    shape = service_model.operation_model("DetectModerationLabels").output_shape
    for name, data in _safe_photos(photos).items():
        response = rekognition.detect_moderation_labels(Image={"Bytes": data})
        assert response["ModerationLabels"] == [], name
        assert validate(raw_capture.body, shape) == []
    # Even at a low threshold nothing explicit is claimed on them.
    for name, data in _safe_photos(photos).items():
        low = rekognition.detect_moderation_labels(Image={"Bytes": data}, MinConfidence=35)["ModerationLabels"]
        assert not [label for label in low if label["Name"] != "Explicit" and label["TaxonomyLevel"] == 3], (name, low)


@pytest.mark.engine
def test_without_the_extra_moderation_answers_as_before(photos, monkeypatch):
    from rekoflow.engine import Engine

    def must_not_run(_bgr):
        raise AssertionError("the body-part model must not run without the extra")

    monkeypatch.setattr(nudity, "available", lambda: False)
    monkeypatch.setattr(nudity, "detect", must_not_run)
    engine = Engine()
    assert engine.handle("DetectModerationLabels", {"Image": {"Bytes": photos["chelsea"]}})["ModerationLabels"] == []
    everything = engine.handle("DetectModerationLabels", {"Image": {"Bytes": photos["chelsea"]}, "MinConfidence": 0})
    assert [label["Name"] for label in everything["ModerationLabels"]] == ["Explicit"]
