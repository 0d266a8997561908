"""Readable terminal summaries of an analysis record (rich tables), shared by analyze, demo and batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rekoflow.annotate import face_caption
from rekoflow.commands.common import printable


def _safe(value: Any) -> str:
    """Text from a request or an answer, shown as text: no terminal escapes, no rich markup."""
    return escape(printable(str(value)))


FACE_ATTRIBUTES = [
    ("smile", "smile"),
    ("eyesOpen", "eyes open"),
    ("mouthOpen", "mouth open"),
    ("eyeglasses", "eyeglasses"),
    ("sunglasses", "sunglasses"),
    ("beard", "beard"),
    ("mustache", "mustache"),
]


def _yes(attribute: Mapping[str, Any] | None) -> str:
    if not attribute:
        return "-"
    return f"{'yes' if attribute['value'] else 'no'} ({attribute['confidence']:.0f}%)"


def print_record(console: Console, record: Mapping[str, Any], duration_s: float | None = None) -> None:
    results = record.get("results", {})
    image = record.get("image", {})
    cached = set(record.get("cachedAnalyses", []))
    location = f"s3://{image.get('bucket')}/{image.get('key')}"
    console.print(
        f"[bold]Request[/bold] {_safe(record['requestId'])}  [bold]image[/bold] {_safe(location)} "
        f"({image.get('format')}, {image.get('width')}x{image.get('height')} px)"
    )

    def title(name: str, text: str) -> str:
        return f"{text} [dim](from cache)[/dim]" if name in cached else text

    labels = results.get("labels")
    if labels:
        table = Table(title=title("labels", f"Labels ({labels['count']})"), title_justify="left")
        table.add_column("label")
        table.add_column("confidence", justify="right")
        table.add_column("parents")
        table.add_column("instances", justify="right")
        for label in labels["labels"][:20]:
            table.add_row(
                _safe(label["name"]),
                f"{label['confidence']:.1f}%",
                _safe(", ".join(label["parents"])),
                str(len(label["instances"])),
            )
        console.print(table)
        colors = labels.get("imageProperties", {}).get("dominantColors", [])
        if colors:
            console.print(
                "Dominant colours: "
                + ", ".join(f"{c['simplified'] or c['name']} {c['hex']} {c['pixelPercent']:.0f}%" for c in colors)
            )
    faces = results.get("faces")
    if faces:
        table = Table(title=title("faces", f"Faces ({faces['count']})"), title_justify="left")
        # Only the attributes the service returned for some face: the local engine omits what it cannot measure.
        present = [(key, heading) for key, heading in FACE_ATTRIBUTES if any(key in face for face in faces["faces"])]
        for column in ["#", "face", "confidence", *(heading for _, heading in present), "pose (yaw/pitch/roll)"]:
            table.add_column(column)
        for index, face in enumerate(faces["faces"], 1):
            pose = face.get("pose")
            table.add_row(
                str(index),
                face_caption(face).removeprefix("face ").strip() or "-",
                f"{face['confidence']:.1f}%",
                *(_yes(face.get(key)) for key, _ in present),
                f"{pose['yaw']:.0f}/{pose['pitch']:.0f}/{pose['roll']:.0f}" if pose else "-",
            )
        console.print(table)
    text = results.get("text")
    if text:
        heading = title("text", f"Text ({len(text['lines'])} lines, {text['count']} words)")
        console.print(f"[bold]{heading}[/bold]")
        console.print(_safe(text["fullText"]) if text["fullText"] else "(none)")
    compare = results.get("compare")
    if compare:
        verdict = f"match, similarity {compare['bestSimilarity']:.1f}%" if compare["matched"] else "no match"
        target = _safe("s3://" + compare["target"]["bucket"] + "/" + compare["target"]["key"])
        console.print(
            f"[bold]{title('compare', 'Face comparison')}[/bold] with {target}: "
            f"{verdict} (threshold {compare['similarityThreshold']:g}%, {compare['unmatchedCount']} other face(s))"
        )
    moderation = results.get("moderation")
    if moderation:
        verdict = "flagged: " + ", ".join(moderation["categories"]) if moderation["flagged"] else "nothing unsafe found"
        console.print(f"[bold]{title('moderation', 'Moderation')}[/bold]: {verdict}")
    custom = results.get("custom")
    if custom:
        console.print(
            f"[bold]{title('custom', 'Custom labels')}[/bold]: "
            + (", ".join(f"{_safe(l['name'])} {l['confidence']:.1f}%" for l in custom.get("labels", [])) or "none")
        )
        if custom.get("projectVersionArn"):
            # soft_wrap: the ARN stays whole when the output is not a terminal.
            console.print(
                f"  model {_safe(custom['projectVersionArn'])}: "
                "shared by a lease, stopped once idle (docs/custom-labels.md)",
                soft_wrap=True,
            )
        if custom.get("training"):
            t = custom["training"]
            console.print(
                f"  trained in this run: F1 {t['f1Score']:.3f} on {t['testImages']} test images "
                f"({t['trainingImages']} training), {t['trainingPolls']} polls"
            )
    footer = f"[dim]status {record['status']}"
    if duration_s is not None:
        footer += f", {duration_s:.2f} s"
    if cached:
        footer += f", cached: {', '.join(sorted(cached))}"
    console.print(footer + "[/dim]")
    cost = describe_cost(record.get("billing"))
    if cost:
        console.print(f"[dim]{cost}[/dim]")


def describe_cost(billing: Mapping[str, Any] | None) -> str:
    """One line: the billable Rekognition calls, the estimate, what the cache saved, and whose prices."""
    if not isinstance(billing, Mapping):
        return ""
    pricing = billing.get("pricing") or {}
    calls = int(billing.get("billableCallCount") or 0)
    estimated = float(billing.get("estimatedCostUSD") or 0)
    line = f"Rekognition: {calls} billable call{'s' if calls != 1 else ''}, estimated ${estimated:.4f}"
    saved = float(billing.get("savedByCacheUSD") or 0)
    if saved:
        line += f"; the cache saved ${saved:.4f}"
    if pricing:
        line += f" ({pricing.get('region', '')} list prices of {pricing.get('asOf')})"
    return line
