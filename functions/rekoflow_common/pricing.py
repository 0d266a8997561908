"""What an analysis costs, from one price table (``pricing.json``): billable Rekognition calls and an estimate.

Each analysis type makes a known set of billable calls (labels: DetectLabels with its image
properties; a comparison: CompareFaces...). A cache hit makes none: what it would have cost is
what the cache saved. Prices are per region, dated; a region missing from the table is priced as
the table's default region, and the estimate says so.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import rekoflow_common

# The billable Rekognition calls one fresh analysis of each type makes.
CALLS_BY_ANALYSIS: dict[str, dict[str, int]] = {
    "labels": {"DetectLabels": 1, "DetectLabels.ImageProperties": 1},
    "faces": {"DetectFaces": 1},
    "text": {"DetectText": 1},
    "compare": {"CompareFaces": 1},
    "moderation": {"DetectModerationLabels": 1},
    "custom": {"DetectCustomLabels": 1},
}


@functools.cache
def price_table() -> dict[str, Any]:
    # The package object, not its name: see rekoflow_common.schema.
    return json.loads(resources.files(rekoflow_common).joinpath("pricing.json").read_text())


def prices_for(region: str | None) -> tuple[str, Mapping[str, float]]:
    table = price_table()
    regions = table["regions"]
    chosen: str = region if region is not None and region in regions else table["defaultRegion"]
    return chosen, regions[chosen]


def _total(calls: Mapping[str, int], prices: Mapping[str, float]) -> float:
    return round(sum(count * prices.get(name, 0.0) for name, count in calls.items()), 6)


def add(into: dict[str, int], calls: Mapping[str, int]) -> dict[str, int]:
    for name, count in calls.items():
        into[name] = into.get(name, 0) + int(count)
    return into


def billing(outputs: Iterable[Mapping[str, Any]], region: str | None = None) -> dict[str, Any]:
    """The billing of one request from its analyses' outputs (``type``, ``cached``)."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    priced_as, prices = prices_for(region)
    calls: dict[str, int] = {}
    saved: dict[str, int] = {}
    for output in outputs:
        made = CALLS_BY_ANALYSIS.get(str(output.get("type")), {})
        add(saved if output.get("cached") else calls, made)
    table = price_table()
    result: dict[str, Any] = {
        "billableCalls": calls,
        "billableCallCount": sum(calls.values()),
        "estimatedCostUSD": _total(calls, prices),
        "savedByCacheUSD": _total(saved, prices),
        "pricing": {"region": priced_as, "asOf": table["asOf"], "currency": table["currency"]},
    }
    if region and region != priced_as:
        result["pricing"]["note"] = f"no prices for {region} in the table; priced as {priced_as}"
    return result


def total(billings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The billings of many requests (a batch) added up."""
    calls: dict[str, int] = {}
    cost = saved = 0.0
    pricing: Mapping[str, Any] | None = None
    for item in billings:
        if not item:
            continue
        add(calls, item.get("billableCalls") or {})
        cost += float(item.get("estimatedCostUSD") or 0)
        saved += float(item.get("savedByCacheUSD") or 0)
        pricing = pricing or item.get("pricing")
    return {
        "billableCalls": calls,
        "billableCallCount": sum(calls.values()),
        "estimatedCostUSD": round(cost, 6),
        "savedByCacheUSD": round(saved, 6),
        "pricing": dict(pricing or {"asOf": price_table()["asOf"], "currency": price_table()["currency"]}),
    }
