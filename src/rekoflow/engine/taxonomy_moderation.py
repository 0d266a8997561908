"""Rekognition's moderation taxonomy (model version 7), the part the engine's models can answer.

Each label has its parent ("" at the top) and its TaxonomyLevel (1-3), as in Rekognition's
ModerationLabel. Labels the engine has no model for (Violence, Visually Disturbing, Drugs & Tobacco,
Alcohol, Rude Gestures, Gambling, Hate Symbols, Explicit Sexual Activity, Sex Toys, Kissing on the
Lips, Bare Back, Implied Nudity, Obstructed Intimate Parts, Male Swimwear or Underwear...) are
absent on purpose: docs/engine.md, "DetectModerationLabels".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModerationLabel:
    name: str
    parent: str  # "" for a top-level (L1) label
    level: int


EXPLICIT = "Explicit"
EXPLICIT_NUDITY = "Explicit Nudity"
NON_EXPLICIT = "Non-Explicit Nudity of Intimate parts and Kissing"
NON_EXPLICIT_NUDITY = "Non-Explicit Nudity"
SWIMWEAR = "Swimwear or Underwear"
FEMALE_SWIMWEAR = "Female Swimwear or Underwear"

_TREE = [
    (EXPLICIT, "", 1),
    (EXPLICIT_NUDITY, EXPLICIT, 2),
    ("Exposed Male Genitalia", EXPLICIT_NUDITY, 3),
    ("Exposed Female Genitalia", EXPLICIT_NUDITY, 3),
    ("Exposed Buttocks or Anus", EXPLICIT_NUDITY, 3),
    ("Exposed Female Nipple", EXPLICIT_NUDITY, 3),
    (NON_EXPLICIT, "", 1),
    (NON_EXPLICIT_NUDITY, NON_EXPLICIT, 2),
    ("Exposed Male Nipple", NON_EXPLICIT_NUDITY, 3),
    (SWIMWEAR, "", 1),
    (FEMALE_SWIMWEAR, SWIMWEAR, 2),
]
LABELS: dict[str, ModerationLabel] = {name: ModerationLabel(name, parent, level) for name, parent, level in _TREE}

# NudeNet's exposed-part classes -> the most specific Rekognition label. Its other classes (faces,
# feet, armpits, belly, covered parts) are no moderation label by themselves.
NUDENET_EXPOSED = {
    "MALE_GENITALIA_EXPOSED": "Exposed Male Genitalia",
    "FEMALE_GENITALIA_EXPOSED": "Exposed Female Genitalia",
    "BUTTOCKS_EXPOSED": "Exposed Buttocks or Anus",
    "ANUS_EXPOSED": "Exposed Buttocks or Anus",
    "FEMALE_BREAST_EXPOSED": "Exposed Female Nipple",
    "MALE_BREAST_EXPOSED": "Exposed Male Nipple",
}
# Swimwear or underwear: a covered breast/genitals/buttocks is also what an ordinary top or skirt
# looks like to NudeNet (a clothed woman in insightface's t1.jpg: FEMALE_BREAST_COVERED 0.29-0.32),
# so it counts only with a bare belly beside it, and only at scores well above that.
NUDENET_COVERED = {"FEMALE_BREAST_COVERED", "FEMALE_GENITALIA_COVERED", "BUTTOCKS_COVERED"}
NUDENET_BARE_BELLY = "BELLY_EXPOSED"


def ancestors(name: str) -> list[str]:
    """The label's parents up to its L1 label, nearest first."""
    chain = []
    parent = LABELS[name].parent
    while parent:
        chain.append(parent)
        parent = LABELS[parent].parent
    return chain
