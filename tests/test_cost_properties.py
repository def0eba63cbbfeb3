"""Properties of the cost formulas that must hold for any usage, checked with hypothesis."""

from __future__ import annotations

import decimal
import math
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdalint.cost import FunctionUsage, load_price_table, monthly_cost, monthly_cost_many, tiered_charge

TABLE = load_price_table("us-east-1")
TABLES = {r: load_price_table(r) for r in ("us-east-1", "eu-west-1")}
X86 = [t.price.value for t in TABLE.duration["x86_64"]]
ARM = [t.price.value for t in TABLE.duration["arm64"]]
TOLERANCE = Decimal("1e-30")  # proportional sharing divides; exact elsewhere
LINE_ITEMS = ("requests_usd", "compute_usd", "init_usd", "ephemeral_storage_usd",
              "provisioned_concurrency_usd", "free_tier_usd", "total_usd")

# Per-test settings (not a global profile, which would change other modules' tests too).
FAST = settings(max_examples=60, deadline=None, database=None)

durations = st.decimals(min_value=0, max_value=900_000, places=2)
memories = st.integers(min_value=128, max_value=10_240)
request_counts = st.integers(min_value=0, max_value=10**10)


@st.composite
def usages(draw: st.DrawFn, provisioned: bool | None = None) -> FunctionUsage:
    with_pc = draw(st.booleans()) if provisioned is None else provisioned
    concurrency = draw(st.integers(1, 200)) if with_pc else 0
    return FunctionUsage(
        memory_mb=draw(memories),
        duration_ms=draw(durations),
        requests=draw(request_counts),
        arch=draw(st.sampled_from(["x86_64", "arm64"])),
        region=draw(st.sampled_from(sorted(TABLES))),
        ephemeral_storage_mb=draw(st.integers(512, 10_240)),
        init_ms=draw(st.decimals(min_value=0, max_value=10_000, places=2)),
        cold_start_rate=draw(st.decimals(min_value=0, max_value=1, places=4)),
        provisioned_concurrency=concurrency,
        provisioned_hours=draw(st.decimals(min_value="0.01", max_value=744, places=2)) if with_pc else 0,
        free_tier=draw(st.booleans()),
    )


def total(usage: FunctionUsage) -> Decimal:
    return monthly_cost(usage, TABLES[usage.region]).total_usd


@FAST
@given(usages(), memories)
def test_monotone_in_memory(usage: FunctionUsage, other: int) -> None:
    low, high = sorted((usage.memory_mb, other))
    assert total(replace(usage, memory_mb=low)) <= total(replace(usage, memory_mb=high))


@FAST
@given(usages(), durations)
def test_monotone_in_duration(usage: FunctionUsage, other: Decimal) -> None:
    low, high = sorted((usage.duration_ms, other))
    assert total(replace(usage, duration_ms=low)) <= total(replace(usage, duration_ms=high))


@FAST
@given(usages(), request_counts)
def test_monotone_in_requests(usage: FunctionUsage, other: int) -> None:
    low, high = sorted((usage.requests, Decimal(other)))
    assert total(replace(usage, requests=low)) <= total(replace(usage, requests=high))


def gb_seconds_usage(gb_seconds: int, arch: str) -> FunctionUsage:
    """A usage of exactly `gb_seconds`: 1 GB for 1 s per request."""
    return FunctionUsage(1024, 1000, gb_seconds, arch=arch, free_tier=False)


@FAST
@given(st.integers(min_value=0, max_value=30 * 10**9))
def test_tiered_charge_is_piecewise_linear(gb_seconds: int) -> None:
    for prices, (first, second) in ((X86, (6 * 10**9, 15 * 10**9)), (ARM, (7_500_000_000, 18_750_000_000))):
        g = Decimal(gb_seconds)
        expected = (min(g, first) * prices[0] + max(0, min(g, second) - first) * prices[1]
                    + max(0, g - second) * prices[2])
        arch = "x86_64" if prices is X86 else "arm64"
        assert tiered_charge(g, TABLE.duration[arch]) == expected


@FAST
@given(st.integers(min_value=1, max_value=10**9))
def test_tier_boundaries_are_exact(step: int) -> None:
    for arch, prices, bounds in (("x86_64", X86, (6 * 10**9, 15 * 10**9)),
                                 ("arm64", ARM, (7_500_000_000, 18_750_000_000))):
        for index, bound in enumerate(bounds):
            at = monthly_cost(gb_seconds_usage(bound, arch), TABLE).compute_usd
            below = monthly_cost(gb_seconds_usage(bound - step, arch), TABLE).compute_usd
            above = monthly_cost(gb_seconds_usage(bound + step, arch), TABLE).compute_usd
            assert at - below == step * prices[index]  # the last GB-s before the boundary: lower tier
            assert above - at == step * prices[index + 1]  # the first after it: next tier


def test_tier_boundaries_count_total_usage_even_with_free_tier() -> None:
    with_free = replace(gb_seconds_usage(6 * 10**9 + 1, "x86_64"), free_tier=True)
    b = monthly_cost(with_free, TABLE)
    assert [t.gb_seconds for t in b.duration_tiers] == [6 * 10**9 - 400_000, 1]
    assert [t.usd_per_gb_second for t in b.duration_tiers] == X86[:2]


def test_one_ms_rounding_example() -> None:
    # AWS's 1 ms billing announcement: "Duration: 27.55 ms Billed Duration: 28 ms".
    assert monthly_cost(FunctionUsage(128, "27.55", 1), TABLE).billed_ms == 28


@FAST
@given(st.decimals(min_value=0, max_value=900_000, places=3))
def test_duration_is_billed_rounded_up_to_the_next_ms(duration: Decimal) -> None:
    b = monthly_cost(FunctionUsage(1024, duration, 1000, free_tier=False), TABLE)
    assert b.billed_ms == math.ceil(duration)
    assert 0 <= b.billed_ms - duration < 1
    assert b.gb_seconds == 1000 * b.billed_ms / Decimal(1000)


@FAST
@given(usages())
def test_free_tier_never_makes_a_charge_negative(usage: FunctionUsage) -> None:
    with_free = monthly_cost(replace(usage, free_tier=True), TABLES[usage.region])
    without = monthly_cost(replace(usage, free_tier=False), TABLES[usage.region])
    for item in LINE_ITEMS:
        assert getattr(with_free, item) >= 0, item
    assert with_free.total_usd <= without.total_usd
    assert without.total_usd - with_free.total_usd == with_free.free_tier_usd
    assert with_free.free_requests <= 1_000_000 and with_free.free_gb_seconds <= 400_000


@FAST
@given(usages())
def test_arm_is_never_dearer_than_x86(usage: FunctionUsage) -> None:
    arm = monthly_cost(replace(usage, arch="arm64"), TABLES[usage.region])
    x86 = monthly_cost(replace(usage, arch="x86_64"), TABLES[usage.region])
    assert arm.total_usd <= x86.total_usd
    if x86.compute_usd > 0:
        assert arm.total_usd < x86.total_usd


@FAST
@given(st.lists(usages(), min_size=1, max_size=5))
def test_several_functions_add_up_and_stay_non_negative(items: list[FunctionUsage]) -> None:
    summary = monthly_cost_many({f"f{i}": u for i, u in enumerate(items)}, TABLES)
    for item in LINE_ITEMS:
        with decimal.localcontext() as ctx:
            ctx.prec = 60  # the model's precision; the default 28 digits would round the sum
            parts = sum((getattr(b, item) for b in summary.functions.values()), Decimal(0))
        assert abs(getattr(summary, item) - parts) <= TOLERANCE
        assert all(getattr(b, item) >= -TOLERANCE for b in summary.functions.values()), item
    # Shares of the free tier are attributed proportionally in Decimal; their sum may exceed the
    # allowance by a rounding residue (1e-54 seen), the same tolerance as the line items above.
    assert summary.free_requests <= 1_000_000 + TOLERANCE and summary.free_gb_seconds <= 400_000 + TOLERANCE


@FAST
@given(usages(provisioned=False))
def test_splitting_a_function_in_two_changes_nothing(usage: FunctionUsage) -> None:
    half = replace(usage, requests=usage.requests / 2)
    whole = monthly_cost(usage, TABLES[usage.region]).total_usd
    halves = monthly_cost_many({"a": half, "b": half}, TABLES).total_usd
    assert abs(whole - halves) <= TOLERANCE
