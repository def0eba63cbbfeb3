"""The cost model against every worked example in shared/facts/aws-lambda.md section 2.

The examples come from https://aws.amazon.com/lambda/pricing/ (P1), priced in us-east-1. P1
rounds each line item to cents (a few to one decimal, e.g. "$10.4"), and its total is the sum
of the rounded items, so each printed figure is compared at the precision the page prints.
Charges the model does not cover (SnapStart, response streaming, tenant isolation, durable
functions, event source mapping EPUs, EC2 for managed instances) are taken from the page as
`extra` so that the page's total can still be checked to the cent.

Free tier: OD-1, OD-3, PC-1 (on-demand part only), RS-1, DF-1, L-1 and ESM-1 subtract it; OD-2,
PC-2, SS-1, TI-1, ESM-2, ESM-3, LE-1 and MI-1 do not (the page's choice, mirrored here).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

import pytest

from lambdalint.cost import FunctionUsage, cents, load_price_table, monthly_cost, monthly_cost_many
from lambdalint.cost.model import UsageError
from lambdalint.cost.pricing import (
    ARCHITECTURES,
    CONFIDENCE_LEVELS,
    Price,
    PriceTable,
    Tier,
    UnknownRegionError,
    available_regions,
)
from lambdalint.errors import DataError, LambdalintError

P1 = "https://aws.amazon.com/lambda/pricing/"
US_EAST_1 = load_price_table("us-east-1")


def _price(key: str, value: str, url: str = P1) -> Price:
    return Price(key, Decimal(value), "secondary", (url,))


def lambda_at_edge(table: PriceTable) -> PriceTable:
    """P1's Lambda@Edge prices: $0.00000625125 per 128 MB-second (= $0.00005001 per GB-s), $0.60 per 1M."""
    tier = (Tier(None, _price("duration", "0.00005001")),)
    return replace(table, duration={"x86_64": tier, "arm64": tier},
                   requests_per_million=_price("requests", "0.60"))


def legacy_2020(table: PriceTable) -> PriceTable:
    """The pre-December-2020 model of the old P1 example: $0.00001667 per GB-s, billed per 100 ms."""
    tier = (Tier(None, _price("duration", "0.00001667")),)
    return replace(table, duration={"x86_64": tier, "arm64": tier},
                   billing=replace(table.billing, rounding_ms=100))


def hong_kong(table: PriceTable) -> PriceTable:
    """ap-east-1 as a secondary source prices it ($0.28 per 1M, $0.00002292 per GB-s; index id 9343334002)."""
    tier = (Tier(None, _price("duration", "0.00002292")),)
    return replace(table, duration={"x86_64": tier, "arm64": tier},
                   requests_per_million=_price("requests", "0.28"))


@dataclass
class Example:
    """One worked example: usages, what the page printed, and what it adds outside the model.

    Keys of `printed` are CostSummary attributes, or "function.attribute" for one function.
    `exact` holds intermediate quantities (GB-s, requests) that must match exactly.
    """

    usages: dict[str, FunctionUsage]
    printed: dict[str, str]
    total: str | None
    extra: dict[str, str] = field(default_factory=dict)
    exact: dict[str, str] = field(default_factory=dict)
    table: Callable[[PriceTable], PriceTable] = lambda t: t


def one(**kwargs: object) -> dict[str, FunctionUsage]:
    return {"function": FunctionUsage(**kwargs)}  # type: ignore[arg-type]


EXAMPLES = {
    "OD-1": Example(
        one(memory_mb=1536, duration_ms=120, requests=3_000_000),
        {"compute_usd": "2.33", "requests_usd": "0.40"}, "2.73",
        exact={"gb_seconds": "540000", "free_gb_seconds": "400000", "function.billable_gb_seconds": "140000",
               "function.billable_requests": "2000000"}),
    "OD-2": Example(
        one(memory_mb=1024, duration_ms=2000, requests=7_440_000, free_tier=False),
        {"requests_usd": "1.49", "compute_usd": "248.00"}, "249.49",
        exact={"gb_seconds": "14880000"}),
    "OD-3": Example(
        one(memory_mb=4096, duration_ms=280, requests=6_000_000, ephemeral_storage_mb=2048),
        {"compute_usd": "105.33", "requests_usd": "1", "ephemeral_storage_usd": "0.08"}, "106.41",
        exact={"gb_seconds": "6720000", "function.billable_gb_seconds": "6320000",
               "function.ephemeral_gb_seconds": "2520000"}),
    # PC on from noon to 8 p.m. serves 500,000 requests; the other 2.5M run on demand: two usages.
    "PC-1": Example(
        {"with-pc": FunctionUsage(1536, 100, 500_000, provisioned_concurrency=100, provisioned_hours=8),
         "on-demand": FunctionUsage(1536, 120, 2_500_000)},
        {"with-pc.provisioned_concurrency_usd": "18", "requests_usd": "0.40", "with-pc.compute_usd": "0.73",
         "on-demand.compute_usd": "0.83"}, "19.96",
        exact={"with-pc.provisioned_gb_seconds": "4320000", "with-pc.gb_seconds": "75000",
               "on-demand.gb_seconds": "450000", "on-demand.billable_gb_seconds": "50000",
               "free_requests": "1000000"}),
    "PC-2": Example(
        one(memory_mb=4096, duration_ms=280, requests=2_000_000, provisioned_concurrency=7, provisioned_hours=24),
        {"provisioned_concurrency_usd": "10.08", "compute_usd": "21.78", "requests_usd": "0.40"}, "32.26",
        exact={"function.provisioned_gb_seconds": "2419200", "gb_seconds": "2240000", "free_requests": "0"}),
    "SS-1": Example(
        one(memory_mb=1024, duration_ms=2000, requests=7_440_000, free_tier=False),
        {"requests_usd": "1.49", "compute_usd": "248.00"}, "263.92",
        extra={"snapstart cache": "4.03", "snapstart restore": "10.4"}),
    "RS-1": Example(
        one(memory_mb=1536, duration_ms=500, requests=3_000_000),
        {"compute_usd": "30.83", "requests_usd": "0.40"}, "39.04",
        extra={"response streaming": "7.81"},
        exact={"gb_seconds": "2250000", "function.billable_gb_seconds": "1850000"}),
    "TI-1": pytest.param(Example(
        one(memory_mb=1024, duration_ms=2000, requests=10_000_000, free_tier=False),
        {"requests_usd": "2", "compute_usd": "333.34"}, "368.74",
        extra={"tenant isolation": "33.4"}),
        marks=pytest.mark.xfail(strict=True, reason="P1 prints 20M GB-s x $0.0000166667 = 333.334 as "
                                "$333.34; half-up gives $333.33 (see test_ti1_page_rounding)")),
    # Durable functions: each execution is two invocations (30 s and 2 s steps), 16 s on average.
    "DF-1": Example(
        one(memory_mb=1024, duration_ms=16_000, requests=2_000_000, arch="arm64"),
        {"compute_usd": "421.34", "requests_usd": "0.20"}, "490.46",
        extra={"operations": "32.00", "data written": "26.00", "data retained": "10.92"},
        exact={"gb_seconds": "32000000", "function.billable_gb_seconds": "31600000"}),
    "ESM-1": pytest.param(Example(
        one(memory_mb=1024, duration_ms=2000, requests=30_000_000),
        {"compute_usd": "993.3", "requests_usd": "12.00"}, "1153.3",
        extra={"event poller units": "148"}),
        marks=pytest.mark.xfail(strict=True, reason="P1 bills 60M requests for 30M invocations and applies the "
                                "free tier to compute only (see test_esm1_page_inconsistency)")),
    "ESM-2": Example(
        one(memory_mb=1024, duration_ms=1000, requests=30_000_000, free_tier=False),
        {"compute_usd": "500", "requests_usd": "6"}, "580",
        extra={"event poller units": "74"}),
    "ESM-3": Example(
        {f"esm-{i}": FunctionUsage(1024, 200, 30_000_000, free_tier=False) for i in range(10)},
        {"compute_usd": "1000", "requests_usd": "60.00"}, "1193.2",
        extra={"event poller units": "133.2"},
        exact={"gb_seconds": "60000000"}),
    "LE-1": Example(
        one(memory_mb=128, duration_ms=10, requests=10_000_000, free_tier=False),
        {"compute_usd": "0.63", "requests_usd": "6.00"}, "6.63",
        exact={"gb_seconds": "12500"}, table=lambda_at_edge),
    "MI-1": Example(
        one(memory_mb=2048, duration_ms=0, requests=100_000_000, free_tier=False),
        {"requests_usd": "20", "compute_usd": "0"}, "160.36",
        extra={"EC2 instances": "91.40", "management fee": "48.96"}),
    "L-1": Example(
        one(memory_mb=512, duration_ms=1000, requests=3_000_000),
        {"compute_usd": "18.34", "requests_usd": "0.40"}, "18.74",
        exact={"gb_seconds": "1500000", "function.billable_gb_seconds": "1100000"}, table=legacy_2020),
    # Secondary source, not P1: a worked example priced in ap-east-1 (Hong Kong).
    "HK-1": Example(
        one(memory_mb=1536, duration_ms=120, requests=3_000_000),
        {"requests_usd": "0.56", "compute_usd": "3.21"}, None,
        exact={"function.billable_gb_seconds": "140000"}, table=hong_kong),
}


def printed_precision(actual: Decimal, printed: str) -> Decimal:
    """Round like the page: to cents, or to one decimal where the page prints one ("$10.4")."""
    decimals = len(printed.partition(".")[2])
    if decimals == 1:
        return actual.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return cents(actual)


def lookup(summary, key: str) -> Decimal:
    if "." in key:
        name, attr = key.split(".")
        return getattr(summary.functions[name], attr)
    return getattr(summary, key)


def price(example: Example):
    return monthly_cost_many(example.usages, {"us-east-1": example.table(US_EAST_1)})


def _example(param: object) -> Example:
    return param.values[0] if hasattr(param, "values") else param  # type: ignore[attr-defined,return-value]


WITH_TOTAL = {k: v for k, v in EXAMPLES.items() if _example(v).total is not None}


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_worked_example_line_items(example: Example) -> None:
    summary = price(example)
    for key, printed in example.printed.items():
        assert printed_precision(lookup(summary, key), printed) == Decimal(printed), key
    for key, value in example.exact.items():
        assert lookup(summary, key) == Decimal(value), key


@pytest.mark.parametrize("example", WITH_TOTAL.values(), ids=WITH_TOTAL.keys())
def test_worked_example_total(example: Example) -> None:
    summary = price(example)
    total = summary.total_usd + sum(Decimal(v) for v in example.extra.values())
    assert printed_precision(total, example.total) == Decimal(example.total)


def test_esm3_per_event_source_mapping() -> None:
    # P1: "$1,193.2 per month for 10 ESMs; $119.3 per ESM".
    summary = price(EXAMPLES["ESM-3"])
    per_esm = summary.functions["esm-0"].total_usd + Decimal("133.2") / 10
    assert per_esm.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) == Decimal("119.3")
    assert len({b.total_usd for b in summary.functions.values()}) == 1


def test_ti1_page_rounding() -> None:
    """The one P1 figure that is not half-up: 333.334 printed as $333.34. We print $333.33."""
    summary = price(_example(EXAMPLES["TI-1"]))
    assert summary.compute_usd == Decimal("333.334")
    assert cents(summary.compute_usd) == Decimal("333.33")


def test_esm1_page_inconsistency() -> None:
    """P1's Kafka ESM example: 30M invocations (1M/day x 30) but "60M x $0.20 = $12.00" requests."""
    summary = price(_example(EXAMPLES["ESM-1"]))
    assert summary.compute_usd == Decimal("59600000") * Decimal("0.0000166667")  # the page's $993.3
    assert summary.requests_usd == Decimal("5.8")  # (30M - 1M free) x $0.20 per 1M


def test_init_billing_matches_p3_report_line() -> None:
    """P3: Duration 250.06 ms + Init Duration 100.77 ms -> Billed Duration 351 ms (not 251 + 101)."""
    b = monthly_cost(FunctionUsage(1024, "250.06", 1, init_ms="100.77", cold_start_rate=1, free_tier=False))
    assert b.billed_ms == 251
    assert b.init_billed_ms == 100
    assert b.gb_seconds + b.init_gb_seconds == Decimal("0.351")
    assert b.compute_usd + b.init_usd == Decimal("0.351") * Decimal("0.0000166667")


def test_init_is_billed_at_the_duration_rate_and_shares_the_free_tier() -> None:
    b = monthly_cost(FunctionUsage(1536, 120, 3_000_000, init_ms=300, cold_start_rate="0.01"))
    assert b.cold_starts == 30_000
    assert b.init_gb_seconds == Decimal(30_000) * Decimal("0.3") * Decimal("1.5")
    billable = b.gb_seconds + b.init_gb_seconds - 400_000
    assert b.compute_usd + b.init_usd == billable * Decimal("0.0000166667")
    share = b.init_gb_seconds / (b.gb_seconds + b.init_gb_seconds)  # 13,500 of 553,500 GB-s
    assert abs(b.init_usd - (b.compute_usd + b.init_usd) * share) < Decimal("1e-20")


def test_provisioned_time_rounds_up_to_five_minutes() -> None:
    b = monthly_cost(FunctionUsage(1024, 100, 1000, provisioned_concurrency=1, provisioned_hours="0.01"))
    assert b.provisioned_seconds == 300  # 36 s enabled bills 5 minutes


def test_multi_function_equals_one_function_when_alone() -> None:
    usage = FunctionUsage(1536, 120, 3_000_000, init_ms=200, cold_start_rate="0.005")
    alone = monthly_cost(usage)
    together = monthly_cost_many({"a": usage}).functions["a"]
    assert alone.total_usd == together.total_usd


def test_free_tier_is_shared_once_across_functions() -> None:
    a = FunctionUsage(1024, 100, 800_000)
    b = FunctionUsage(1024, 100, 800_000, arch="arm64", region="eu-west-1")
    summary = monthly_cost_many({"a": a, "b": b})
    assert summary.free_requests == 1_000_000
    assert summary.functions["a"].free_requests == summary.functions["b"].free_requests == 500_000
    assert summary.free_gb_seconds == 160_000  # all of their GB-s: under the 400,000 allowance


def test_tiers_count_the_aggregate_of_one_region_and_architecture() -> None:
    big = FunctionUsage(10240, 1000, 400_000_000, free_tier=False)  # 4e9 GB-s each
    summary = monthly_cost_many({"a": big, "b": big})
    tiers = US_EAST_1.duration["x86_64"]
    expected = Decimal(6e9) * tiers[0].price.value + Decimal(2e9) * tiers[1].price.value
    assert summary.compute_usd == expected
    assert summary.functions["a"].compute_usd == summary.functions["b"].compute_usd == expected / 2
    apart = monthly_cost_many({"a": big, "b": replace(big, region="eu-west-1")})
    assert apart.compute_usd == 2 * Decimal(4e9) * tiers[0].price.value


@pytest.mark.parametrize("kwargs, field_name", [
    ({"memory_mb": 127}, "memory_mb"),
    ({"memory_mb": 10241}, "memory_mb"),
    ({"ephemeral_storage_mb": 511}, "ephemeral_storage_mb"),
    ({"duration_ms": -1}, "duration_ms"),
    ({"requests": "-5"}, "requests"),
    ({"duration_ms": "NaN"}, "duration_ms"),
    ({"arch": "sparc"}, "arch"),
    ({"region": "../etc"}, "region"),
    ({"cold_start_rate": 2}, "cold_start_rate"),
    ({"provisioned_concurrency": 5}, "provisioned_hours"),
    ({"provisioned_concurrency": 5, "provisioned_hours": 800}, "provisioned_hours"),
    ({"timeout_s": 3, "duration_ms": 3001}, "duration_ms"),
])
def test_impossible_usage_is_a_usage_error(kwargs: dict, field_name: str) -> None:
    values = {"memory_mb": 1024, "duration_ms": 100, "requests": 1000, **kwargs}
    with pytest.raises(UsageError) as info:
        monthly_cost(FunctionUsage(**values))
    assert info.value.field == field_name
    assert isinstance(info.value, LambdalintError)


def test_unknown_region_lists_the_available_ones() -> None:
    with pytest.raises(UnknownRegionError, match="eu-mars-1.*us-east-1"):
        monthly_cost(FunctionUsage(1024, 100, 1000, region="eu-mars-1"))


def test_floats_are_read_through_their_decimal_repr() -> None:
    assert FunctionUsage(1024, 27.55, 1).duration_ms == Decimal("27.55")


# The shipped tables.

@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-1"])
def test_required_regions_are_shipped(region: str) -> None:
    assert region in available_regions()


@pytest.mark.parametrize("region", available_regions())
def test_every_shipped_price_is_dated_and_cited(region: str) -> None:
    table = load_price_table(region)
    assert isinstance(table.as_of, date) and table.region == region
    prices = [table.requests_per_million, table.ephemeral_storage]
    prices += [tier.price for arch in ARCHITECTURES for tier in table.duration[arch]]
    prices += [p for arch in ARCHITECTURES for p in (table.provisioned[arch].concurrency,
                                                     table.provisioned[arch].duration)]
    for price_ in prices:
        assert price_.confidence in CONFIDENCE_LEVELS
        assert price_.sources and all(url.startswith("https://") for url in price_.sources)
    bounds = {arch: [t.up_to_gb_seconds for t in table.duration[arch]] for arch in ARCHITECTURES}
    assert bounds == {"x86_64": [6_000_000_000, 15_000_000_000, None],
                      "arm64": [7_500_000_000, 18_750_000_000, None]}
    assert (table.free_tier.requests, table.free_tier.gb_seconds) == (1_000_000, 400_000)
    assert table.billing.rounding_ms == 1 and table.billing.init_billed_since == date(2025, 8, 1)


def test_us_east_1_prices_printed_by_aws_are_primary() -> None:
    t = US_EAST_1
    assert t.duration["x86_64"][0].price.value == Decimal("0.0000166667")
    assert t.duration["x86_64"][0].price.confirmed and t.duration["arm64"][0].price.confirmed
    assert t.requests_per_million.value == Decimal("0.20") and t.requests_per_million.confirmed
    assert t.ephemeral_storage.value == Decimal("0.0000000309")
    assert t.provisioned["x86_64"].concurrency.value == Decimal("0.0000041667")
    assert t.provisioned["x86_64"].duration.value == Decimal("0.0000097222")
    assert not t.duration["x86_64"][1].price.confirmed  # tier 2 price: secondary


# Broken tables: a DataError naming the file and the key.

GOOD = (Path(__file__).resolve().parents[1] / "pricing" / "us-east-1.toml").read_text(encoding="utf-8")
BROKEN = {
    "missing price": (('usd_per_million = "0.20"\n', ""), "requests.usd_per_million"),
    "negative price": (('usd_per_gb_second = "0.0000000309"', 'usd_per_gb_second = "-0.0000000309"'),
                       "ephemeral_storage.usd_per_gb_second"),
    "not a number": (('usd_per_million = "0.20"', 'usd_per_million = "twenty cents"'), "requests.usd_per_million"),
    "unknown architecture": (("[provisioned_concurrency.arm64]", "[provisioned_concurrency.sparc]"),
                             "provisioned_concurrency.sparc"),
    "region mismatch": (('region = "us-east-1"', 'region = "eu-west-1"'), "meta.region"),
    "unknown source": (('source = "offer"', 'source = "rumour"'), "provisioned_concurrency.arm64.source"),
    "bad confidence": (('confidence = "secondary"\nsource = "offer"', 'confidence = "vibes"\nsource = "offer"'),
                       "provisioned_concurrency.arm64.confidence"),
    "misspelt key": (("rounding_ms = 1", "rounding_msec = 1"), "billing.rounding_ms"),
    "bound on last tier": (('[[duration.x86_64.tiers]]\nusd_per_gb_second = "0.0000133334"',
                            '[[duration.x86_64.tiers]]\nup_to_gb_seconds = 1\nusd_per_gb_second = "0.0000133334"'),
                           "duration.x86_64.tiers[2].up_to_gb_seconds"),
    "bounds not ascending": (("up_to_gb_seconds = 15_000_000_000", "up_to_gb_seconds = 5_000_000_000"),
                             "duration.x86_64.tiers[1].up_to_gb_seconds"),
    "invalid TOML": (("[requests]", "[requests"), "invalid TOML"),
}


@pytest.mark.parametrize("edit, key", BROKEN.values(), ids=BROKEN.keys())
def test_broken_table_names_file_and_key(tmp_path: Path, edit: tuple[str, str], key: str) -> None:
    old, new = edit
    assert old in GOOD
    (tmp_path / "us-east-1.toml").write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_price_table("us-east-1", directory=tmp_path)
    assert "us-east-1.toml" in info.value.message
    assert key in info.value.message


def test_copy_of_good_table_loads_from_another_directory(tmp_path: Path) -> None:
    (tmp_path / "us-east-1.toml").write_text(GOOD, encoding="utf-8")
    table = load_price_table("us-east-1", directory=tmp_path)
    assert table.path.parent == tmp_path.resolve()
    assert table.duration == US_EAST_1.duration
