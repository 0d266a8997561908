"""Accuracy of the local Rekognition engine on labelled photos that ship inside packages.

    .venv/bin/python bench/accuracy.py [--json out.json] [--compare before.json]

The photos come from scikit-image, matplotlib, insightface (its wheel's sample photos, installed
without dependencies as test data) and the demo photo; text images are rendered with the DejaVu
fonts matplotlib ships. Ground truth is written below, per photo, by a person who looked at it.

Metrics, per capability (the engine is called in-process, `Engine().handle`):
- labels: precision = reported labels that are in the photo's accepted set / labels reported;
  recall = required label groups (any name of the group counts) found / required groups.
  Labels at Rekognition's default MinConfidence (55).
- faces: face-count exactness per photo, false faces on photos without people, and per labelled
  face: gender agreement, true age inside AgeRange, AgeRange width, top emotion, Smile, EyesOpen.
  An attribute the engine omits counts as "not answered", not as wrong; both are reported.
- text: lines read exactly (case-sensitive), words read exactly.
Writes a Markdown table to stdout and bench/results/accuracy.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rekoflow.engine import Engine, RekognitionError


# ----- the labelled set -------------------------------------------------------------------------------
@dataclass
class FaceTruth:
    center: tuple[float, float]  # pixels of the photo as shipped
    gender: str | None = None
    age: float | None = None  # the person's age when photographed (approximate, from public dates)
    smile: bool | None = None
    happy: bool | None = None  # top emotion HAPPY
    eyes_open: bool | None = None


@dataclass
class Photo:
    name: str
    load: Any  # () -> PNG/JPEG bytes
    required: list[set[str]] = field(default_factory=list)  # each group: any one name counts
    accepted: set[str] = field(default_factory=set)  # every label that is right for this photo
    faces: list[FaceTruth] | None = None  # None: faces not labelled for this photo
    lines: list[str] | None = None  # exact text lines, top to bottom


PEOPLE = {
    "Person",
    "Human",
    "Face",
    "Head",
    "Adult",
    "Man",
    "Woman",
    "Male",
    "Female",
    "Portrait",
    "Photography",
    "Selfie",
}


def _png(array) -> bytes:
    import numpy as np
    from PIL import Image

    if array.dtype != np.uint8:
        array = (array * 255).astype(np.uint8) if array.max() <= 1 else array.astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def _skimage(name: str):
    def load() -> bytes:
        from skimage import data

        value = getattr(data, name)()
        return _png(value[0] if isinstance(value, tuple) else value)

    return load


def _file(path_parts: tuple[str, ...], package: str):
    def load() -> bytes:
        import importlib.util

        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(package)
        return Path(next(iter(spec.submodule_search_locations)), *path_parts).read_bytes()

    return load


def _demo() -> bytes:
    return (Path(__file__).resolve().parents[1] / "src" / "rekoflow" / "data" / "sample_astronaut.jpg").read_bytes()


def _font(name: str) -> str:
    import matplotlib

    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", name)


def _rendered(lines: list[str], font: str, size: int, fg: str, bg: str, width: int = 900):
    def load() -> bytes:
        from PIL import Image, ImageDraw, ImageFont

        face = ImageFont.truetype(_font(font), size)
        image = Image.new("RGB", (width, 60 + len(lines) * int(size * 1.9)), bg)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((40, 30 + i * int(size * 1.9)), line, font=face, fill=fg)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        return buf.getvalue()

    return load


def _sign() -> bytes:
    """A station sign: white capitals on a dark blue plate, on a grey wall."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (960, 400), (128, 128, 120))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((60, 110, 900, 290), radius=18, fill=(20, 40, 110), outline=(240, 240, 240), width=6)
    draw.text((110, 160), "PLATFORM 9 CLOSED", font=ImageFont.truetype(_font("DejaVuSans-Bold.ttf"), 72), fill="white")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=88)
    return buf.getvalue()


SPACE = {
    "Space Shuttle",
    "Spaceship",
    "Aircraft",
    "Vehicle",
    "Transportation",
    "Astronaut",
    "Flag",
    "Symbol",
    "Space",
    "Outer Space",
}
CLOTHES = {
    "Clothing",
    "Apparel",
    "Uniform",
    "Military Uniform",
    "Military",
    "Hat",
    "Cap",
    "Coat",
    "Jacket",
    "Suit",
    "Formal Wear",
    "Tie",
    "Accessories",
}
PAGE_LINES = [
    "Region-based segmentation",
    "Let us first determine markers of the coins and the",
    "background. These markers are pixels that we can label",
    "unambiguously as either object or background. Here,",
    "the markers are found at the two extreme parts of the",
    "histogram of grey values:",
]

PHOTOS = [
    Photo("astronaut (demo)", _demo, [{"Person"}, {"Face"}, SPACE | CLOTHES],
          PEOPLE | SPACE | CLOTHES | {"Text", "Spacesuit", "Helmet"},
          [FaceTruth((223, 119), "Female", 42, smile=True, happy=True, eyes_open=True)]),
    Photo("astronaut", _skimage("astronaut"), [{"Person"}, {"Face"}, SPACE | CLOTHES],
          PEOPLE | SPACE | CLOTHES | {"Spacesuit", "Helmet"},
          [FaceTruth((223, 119), "Female", 42, smile=True, happy=True, eyes_open=True)]),
    Photo("cameraman", _skimage("camera"),
          [{"Person"}, {"Tripod", "Camera", "Photography", "Electronics", "Video Camera"}],
          PEOPLE | CLOTHES | {"Tripod", "Camera", "Electronics", "Video Camera", "Photographer", "Outdoors", "Grass",
                              "Plant", "Nature", "City", "Building", "Architecture", "Overcoat", "Field", "Lawn",
                              "Sky"},
          [FaceTruth((226, 153), "Male")]),
    Photo("grace_hopper", _file(("mpl-data", "sample_data", "grace_hopper.jpg"), "matplotlib"),
          [{"Person"}, {"Face"}],
          PEOPLE | CLOTHES | {"Flag", "Symbol", "Glasses", "Accessories", "Officer", "Captain", "Military Officer",
                              "Military Uniform", "Elderly", "American Flag", "Medal", "Badge"},
          [FaceTruth((268, 226), "Female", 78, smile=False, happy=False, eyes_open=True)]),
    Photo("friends (insightface t1)", _file(("data", "images", "t1.jpg"), "insightface"),
          [{"Person"}, {"Face"}, {"Table", "Furniture", "Glass", "Cup", "Game", "Poker", "Gambling", "Lamp", "Cards"}],
          PEOPLE | CLOTHES | {"Table", "Dining Table", "Furniture", "Glass", "Cup", "Beverage", "Alcohol", "Drink",
                              "Whisky", "Liquor", "Game", "Poker", "Gambling", "Lamp", "Cards", "Chair", "Bowl",
                              "Bottle", "Wine Glass", "Indoors", "Room", "Lighting", "Light", "Kitchen", "Tableware",
                              "Party", "Plant", "Sleeve", "Pottery", "Coin", "Chip", "Money", "Tabletop", "Cafe",
                              "Restaurant", "Pub", "Bar", "Drinking Glass"},
          [FaceTruth((100, 310), "Female", 30, eyes_open=None),
           FaceTruth((330, 195), "Female", 35, smile=False, happy=False),
           FaceTruth((515, 315), "Male", 33, smile=True, happy=True, eyes_open=True),
           FaceTruth((800, 395), "Male", 30, smile=True, happy=True),
           FaceTruth((965, 125), "Male", 32, smile=False, happy=False, eyes_open=True),
           FaceTruth((1180, 320), "Female", 36, smile=True, happy=True)]),
    Photo("tom_hanks crop (insightface)", _file(("data", "images", "Tom_Hanks_54745.png"), "insightface"),
          [{"Person"}, {"Face"}],
          PEOPLE, [FaceTruth((56, 56), "Male", smile=True, happy=True, eyes_open=True)]),
    Photo("coffee", _skimage("coffee"), [{"Cup", "Coffee Cup"}, {"Coffee", "Beverage", "Espresso", "Drink", "Latte"}],
          {"Cup", "Coffee Cup", "Coffee", "Beverage", "Espresso", "Drink", "Latte", "Food", "Saucer", "Spoon",
           "Cutlery", "Table", "Dining Table", "Furniture", "Tableware", "Pottery", "Kitchen", "Plate", "Dish",
           "Cappuccino", "Mug"}, []),
    Photo("chelsea", _skimage("chelsea"), [{"Cat"}],
          {"Cat", "Animal", "Mammal", "Pet", "Kitten", "Tabby", "Tiger Cat", "Abyssinian"}, []),
    Photo("rocket", _skimage("rocket"), [{"Rocket", "Missile", "Spaceship", "Space Shuttle", "Launch"}],
          {"Rocket", "Missile", "Spaceship", "Space Shuttle", "Launch", "Aircraft", "Vehicle", "Transportation",
           "Weaponry", "Weapon", "Night", "Sky", "Outdoors", "Tower", "Light", "Lighting", "Nature", "Space",
           "Outer Space", "Electrical Device"}, []),
    Photo("motorcycle", _skimage("stereo_motorcycle"), [{"Motorcycle", "Motor Scooter", "Moped"}],
          {"Motorcycle", "Motor Scooter", "Moped", "Vehicle", "Transportation", "Wheel", "Machine", "Tire", "Spoke",
           "Garage", "Indoors", "Bicycle", "Car", "Chair", "Furniture", "Bench", "Box", "Cardboard", "Shelf",
           "Carton", "Crash Helmet", "Helmet"}, []),
    Photo("coins", _skimage("coins"), [], {"Coin", "Money", "Metal", "Treasure", "Silver", "Gold", "Button"}, []),
    Photo("hubble deep field", _skimage("hubble_deep_field"), [],
          {"Space", "Outer Space", "Astronomy", "Universe", "Night", "Sky", "Star", "Galaxy", "Nature"}, []),
    Photo("horse silhouette", _skimage("horse"), [{"Horse", "Animal", "Mammal"}],
          {"Horse", "Animal", "Mammal", "Silhouette", "Stallion", "Colt Horse"}, []),
    Photo("moon surface", _skimage("moon"), [],
          {"Moon", "Nature", "Outer Space", "Space", "Astronomy", "Rock", "Crater"}, []),
    Photo("immunohistochemistry", _skimage("immunohistochemistry"), [], set(), []),
    Photo("colorwheel", _skimage("colorwheel"), [], {"Pattern", "Art", "Graphics", "Light", "Sphere"}, []),
    Photo("page (scan)", _skimage("page"), [{"Text", "Document", "Page"}],
          {"Text", "Document", "Page", "Paper", "Letter", "Menu", "Book", "Publication"}, [], PAGE_LINES),
    Photo("sign PLATFORM 9 CLOSED", _sign, [],
          {"Text", "Sign", "Symbol", "Label", "Logo", "Scoreboard", "Street Sign", "Road Sign"}, [],
          ["PLATFORM 9 CLOSED"]),
    Photo("rendered DejaVu Sans",
          _rendered(["Hello rekoflow world", "Invoice 2024 TOTAL", "Learning Python the hard way"],
                    "DejaVuSans.ttf", 40, "black", "white"),
          [], {"Text", "Document", "Page", "Paper", "Letter", "Menu", "Receipt", "Label", "Font"}, [],
          ["Hello rekoflow world", "Invoice 2024 TOTAL", "Learning Python the hard way"]),
    Photo("rendered DejaVu Serif Bold (book cover)",
          _rendered(["Python Programming", "Second Edition"], "DejaVuSerif-Bold.ttf", 56, (250, 240, 200),
                    (120, 20, 30)),
          [], {"Text", "Book", "Publication", "Poster", "Label", "Logo", "Font", "Sign", "Symbol", "Novel", "Page",
               "Document"}, [],
          ["Python Programming", "Second Edition"]),
    Photo("rendered DejaVu Sans Mono",
          _rendered(["ORDER #A-1187", "QTY 3 x 12.50 EUR"], "DejaVuSansMono.ttf", 44, "black", (235, 235, 225)),
          [], {"Text", "Document", "Page", "Paper", "Receipt", "Label", "Menu", "Font"}, [],
          ["ORDER #A-1187", "QTY 3 x 12.50 EUR"]),
]  # fmt: skip


# ----- measuring --------------------------------------------------------------------------------------
def _call(engine: Engine, operation: str, params: dict) -> tuple[dict | None, float]:
    started = time.perf_counter()
    try:
        result = engine.handle(operation, params)
    except RekognitionError as exc:
        print(f"    {operation}: {exc.code}: {exc.message}", file=sys.stderr)
        result = None
    return result, (time.perf_counter() - started) * 1000


def _match(
    truths: list[FaceTruth], details: list[dict], width: int, height: int
) -> list[tuple[FaceTruth, dict | None]]:
    """Each labelled face with the detected face whose box contains its centre (nearest box centre)."""
    pairs, used = [], set()
    for truth in truths:
        best, best_dist = None, None
        for i, d in enumerate(details):
            box = d["BoundingBox"]
            x1, y1 = box["Left"] * width, box["Top"] * height
            x2, y2 = x1 + box["Width"] * width, y1 + box["Height"] * height
            if i in used or not (
                x1 - 0.2 * (x2 - x1) <= truth.center[0] <= x2 + 0.2 * (x2 - x1)
                and y1 - 0.3 * (y2 - y1) <= truth.center[1] <= y2 + 0.3 * (y2 - y1)
            ):
                continue
            dist = (truth.center[0] - (x1 + x2) / 2) ** 2 + (truth.center[1] - (y1 + y2) / 2) ** 2
            if best_dist is None or dist < best_dist:
                best, best_dist = i, dist
        if best is not None:
            used.add(best)
        pairs.append((truth, details[best] if best is not None else None))
    return pairs


class Tally:
    def __init__(self) -> None:
        self.right = self.wrong = self.unanswered = 0

    def add(self, expected, got) -> None:
        if expected is None:
            return
        if got is None:
            self.unanswered += 1
        elif got == expected:
            self.right += 1
        else:
            self.wrong += 1

    def text(self) -> str:
        answered = self.right + self.wrong
        total = answered + self.unanswered
        if not total:
            return "–"
        return f"{self.right}/{total} right" + (f" ({self.unanswered} not answered)" if self.unanswered else "")

    def value(self) -> float:
        total = self.right + self.wrong + self.unanswered
        return round(self.right / total, 4) if total else 0.0


def evaluate(verbose: bool = False) -> dict[str, Any]:
    from PIL import Image

    engine = Engine()
    metrics: dict[str, Any] = {}
    reported = correct = 0
    required = found_required = 0
    face_count_exact = face_count_photos = false_faces = false_person = 0
    gender, age_in, smile, happy, eyes = Tally(), Tally(), Tally(), Tally(), Tally()
    widths: list[int] = []
    age_errors: list[float] = []
    lines_total = lines_exact = words_total = words_exact = 0
    per_photo = []
    latencies: dict[str, list[float]] = {"DetectLabels": [], "DetectFaces": [], "DetectText": []}
    for photo in PHOTOS:
        try:
            data = photo.load()
        except (FileNotFoundError, ImportError, ModuleNotFoundError) as exc:
            print(f"  skipped {photo.name}: {exc}", file=sys.stderr)
            continue
        width, height = Image.open(io.BytesIO(data)).size
        row: dict[str, Any] = {"photo": photo.name}
        result, ms = _call(engine, "DetectLabels", {"Image": {"Bytes": data}})
        latencies["DetectLabels"].append(ms)
        names = [label["Name"] for label in (result or {}).get("Labels", [])]
        row["labels"] = names
        reported += len(names)
        correct += sum(1 for n in names if n in photo.accepted)
        for group in photo.required:
            required += 1
            found_required += bool(group & set(names))
        if not photo.faces and photo.faces is not None and {"Person", "Face"} & set(names):
            false_person += 1
        if photo.faces is not None:
            result, ms = _call(engine, "DetectFaces", {"Image": {"Bytes": data}, "Attributes": ["ALL"]})
            latencies["DetectFaces"].append(ms)
            details = (result or {}).get("FaceDetails", [])
            row["faces"] = len(details)
            face_count_photos += 1
            face_count_exact += len(details) == len(photo.faces)
            if not photo.faces:
                false_faces += len(details)
            for truth, detail in _match(photo.faces, details, width, height):
                if detail is None:
                    for tally, expected in (
                        (gender, truth.gender),
                        (smile, truth.smile),
                        (happy, truth.happy),
                        (eyes, truth.eyes_open),
                    ):
                        tally.add(expected, None)
                    if truth.age is not None:
                        age_in.add(True, None)
                    continue
                gender.add(truth.gender, (detail.get("Gender") or {}).get("Value"))
                smile.add(truth.smile, (detail.get("Smile") or {}).get("Value"))
                eyes.add(truth.eyes_open, (detail.get("EyesOpen") or {}).get("Value"))
                emotions = detail.get("Emotions")
                top = max(emotions, key=lambda e: e["Confidence"])["Type"] if emotions else None
                happy.add(truth.happy, None if top is None else top == "HAPPY")
                age_range = detail.get("AgeRange")
                if age_range:
                    widths.append(age_range["High"] - age_range["Low"])
                if truth.age is not None:
                    age_in.add(True, None if not age_range else age_range["Low"] <= truth.age <= age_range["High"])
                    if age_range:
                        age_errors.append(abs((age_range["Low"] + age_range["High"]) / 2 - truth.age))
        if photo.lines is not None:
            result, ms = _call(engine, "DetectText", {"Image": {"Bytes": data}})
            latencies["DetectText"].append(ms)
            detections = (result or {}).get("TextDetections", [])
            got_lines = [d["DetectedText"] for d in detections if d["Type"] == "LINE"]
            got_words = [d["DetectedText"] for d in detections if d["Type"] == "WORD"]
            row["text"] = got_lines
            lines_total += len(photo.lines)
            lines_exact += sum(1 for line in photo.lines if line in got_lines)
            want_words = " ".join(photo.lines).split()
            words_total += len(want_words)
            remaining = list(got_words)
            for word in want_words:
                if word in remaining:
                    remaining.remove(word)
                    words_exact += 1
        per_photo.append(row)
        if verbose:
            print(f"  {photo.name}: {json.dumps({k: v for k, v in row.items() if k != 'photo'})}", file=sys.stderr)
    metrics["labels_precision"] = round(correct / reported, 4) if reported else 0.0
    metrics["labels_recall"] = round(found_required / required, 4) if required else 0.0
    metrics["labels_per_photo"] = round(reported / len(per_photo), 2) if per_photo else 0.0
    metrics["person_on_photos_without_people"] = false_person
    metrics["face_count_exact"] = f"{face_count_exact}/{face_count_photos}"
    metrics["false_faces"] = false_faces
    metrics["gender"] = gender.text()
    metrics["gender_value"] = gender.value()
    metrics["age_in_range"] = age_in.text()
    metrics["age_in_range_value"] = age_in.value()
    metrics["age_mae_years"] = round(statistics.mean(age_errors), 1) if age_errors else None
    metrics["age_range_width_median"] = statistics.median(widths) if widths else None
    metrics["smile"] = smile.text()
    metrics["smile_value"] = smile.value()
    metrics["top_emotion_happy"] = happy.text()
    metrics["top_emotion_happy_value"] = happy.value()
    metrics["eyes_open"] = eyes.text()
    metrics["eyes_open_value"] = eyes.value()
    metrics["text_lines_exact"] = f"{lines_exact}/{lines_total}"
    metrics["text_words_exact"] = f"{words_exact}/{words_total}"
    metrics["latency_ms_median"] = {op: round(statistics.median(v)) for op, v in latencies.items() if v}
    metrics["photos"] = per_photo
    return metrics


ROWS = [
    ("labels", "precision (reported labels that are right)", "labels_precision"),
    ("labels", "recall (required labels found)", "labels_recall"),
    ("labels", "labels per photo", "labels_per_photo"),
    ("labels", "Person/Face on photos without people", "person_on_photos_without_people"),
    ("faces", "face count exact (photos)", "face_count_exact"),
    ("faces", "faces on photos without people", "false_faces"),
    ("faces", "gender", "gender"),
    ("faces", "true age inside AgeRange", "age_in_range"),
    ("faces", "age error of the range midpoint (years, mean)", "age_mae_years"),
    ("faces", "AgeRange width (years, median)", "age_range_width_median"),
    ("faces", "top emotion HAPPY or not", "top_emotion_happy"),
    ("faces", "Smile", "smile"),
    ("faces", "EyesOpen", "eyes_open"),
    ("text", "lines exact", "text_lines_exact"),
    ("text", "words exact", "text_words_exact"),
]


def table(after: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    head = (
        "| capability | metric | before | after |\n|---|---|---|---|"
        if before
        else "| capability | metric | value |\n|---|---|---|"
    )
    lines = [head]
    for capability, label, key in ROWS:
        value = after.get(key, "–")
        if before:
            lines.append(f"| {capability} | {label} | {before.get(key, '–')} | {value} |")
        else:
            lines.append(f"| {capability} | {label} | {value} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the metrics (and per-photo answers) as JSON here")
    parser.add_argument("--compare", type=Path, help="a previous --json file: print before/after columns")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each photo's answers")
    args = parser.parse_args()
    metrics = evaluate(args.verbose)
    before = json.loads(args.compare.read_text()) if args.compare else None
    out = f"Local engine accuracy on {len(metrics['photos'])} labelled photos shipped in packages.\n\n" + table(
        metrics, before
    )
    print(out)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "accuracy.md").write_text(out)
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
