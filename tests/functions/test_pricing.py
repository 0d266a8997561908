"""Cost where people see results: billable calls and an estimate from the one price table."""

import pytest

from rekoflow_common.pricing import CALLS_BY_ANALYSIS, billing, price_table, total


def test_fresh_analyses_are_billed_and_cache_hits_are_savings():
    cost = billing(
        [{"type": "labels", "cached": False}, {"type": "faces", "cached": True}, {"type": "text", "cached": False}],
        region="us-east-1",
    )
    prices = price_table()["regions"]["us-east-1"]
    assert cost["billableCalls"] == {"DetectLabels": 1, "DetectLabels.ImageProperties": 1, "DetectText": 1}
    assert cost["billableCallCount"] == 3
    assert cost["estimatedCostUSD"] == pytest.approx(
        prices["DetectLabels"] + prices["DetectLabels.ImageProperties"] + prices["DetectText"]
    )
    assert cost["savedByCacheUSD"] == pytest.approx(prices["DetectFaces"])
    assert cost["pricing"] == {"region": "us-east-1", "asOf": price_table()["asOf"], "currency": "USD"}


def test_all_from_cache_costs_nothing():
    cost = billing([{"type": "labels", "cached": True}], region="eu-west-1")
    assert cost["billableCallCount"] == 0 and cost["estimatedCostUSD"] == 0 and cost["savedByCacheUSD"] > 0


def test_a_region_without_prices_is_priced_as_the_default_and_says_so():
    cost = billing([{"type": "moderation", "cached": False}], region="ap-south-2")
    assert cost["pricing"]["region"] == price_table()["defaultRegion"]
    assert "no prices for ap-south-2" in cost["pricing"]["note"]


def test_every_analysis_type_of_the_schema_has_its_calls_priced():
    from rekoflow_common.schema import request_schema

    for analysis in request_schema()["properties"]["analyses"]["items"]["enum"]:
        for call in CALLS_BY_ANALYSIS[analysis]:
            for region, prices in price_table()["regions"].items():
                assert call in prices, f"{region} has no price for {call}"


def test_a_batch_adds_its_images_up():
    one = billing([{"type": "labels", "cached": False}], region="us-east-1")
    two = billing([{"type": "labels", "cached": True}], region="us-east-1")
    summed = total([one, two, None])
    assert summed["billableCallCount"] == 2 and summed["estimatedCostUSD"] == one["estimatedCostUSD"]
    assert summed["savedByCacheUSD"] == two["savedByCacheUSD"]
