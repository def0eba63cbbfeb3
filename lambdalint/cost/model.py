"""Monthly cost of Lambda functions: pure functions from usage and price tables to a breakdown.

How AWS bills a function each month (P1 = https://aws.amazon.com/lambda/pricing/, P3 = AWS's
"standardizes billing for INIT phase" blog, P4 = its "tiered pricing" blog; URLs in pricing/):

- requests x the price per request;
- duration: memory GB x billed seconds, each invocation rounded up to 1 ms, priced in volume
  tiers that count the aggregate GB-s of one architecture in one region (P1, P4);
- since 2025-08-01 the INIT phase of on-demand functions is billed like duration (P3);
- ephemeral storage above the free 512 MB: extra GB x billed seconds x its price;
- provisioned concurrency (PC): concurrency x GB x time enabled (rounded up to 5 minutes), and
  the invocations it serves at a lower duration price;
- the free tier (1M requests, 400,000 GB-s) once per account and month, never for PC functions.

The pages leave some choices open; this module makes them once, here:

1. Tier boundaries count total GB-s; the free GB-s are the first ones (priced at tier 1). So the
   tier boundaries sit exactly at 6 and 15 billion GB-s (x86_64) whether or not the free tier
   applies, and the free tier is worth tiered(free) dollars.
2. Several functions: tiers apply to the aggregate per (region, arch); the free tier is shared
   by all eligible functions in proportion to their usage; each function is charged its group's
   net duration charge in proportion to its billable GB-s. One function alone is exact.
3. INIT: AWS bills a cold invocation ceil(duration + init) ms and a warm one ceil(duration) ms
   (P3's REPORT-line example: 250.06 + 100.77 ms bills 351 ms), so each cold start adds
   ceil(d + i) - ceil(d) ms. Cold starts = requests x cold_start_rate (an expected value).
4. PC: a usage with provisioned concurrency has all its requests served by provisioned
   environments (model a partly covered function as two usages; see test PC-1). Its INIT runs
   when environments are provisioned, inside the PC charge, so it is not billed per cold start.
5. Ephemeral storage is billed on all billed duration (invocations and INIT), without free tier.

Money stays Decimal end to end; only display rounds (half-up to cents, see `cents`).
"""

from __future__ import annotations

import contextlib
import decimal
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any, Iterator, Mapping, Sequence, Union

from ..errors import LambdalintError
from .pricing import ARCHITECTURES, REGION_CODE, FreeTier, Price, PriceTable, Tier, load_price_table

Number = Union[Decimal, int, float, str]
ZERO = Decimal(0)
_MS_PER_S = Decimal(1000)
_MB_PER_GB = Decimal(1024)
_MILLION = Decimal(1_000_000)
_SECONDS_PER_HOUR = Decimal(3600)
MAX_HOURS_PER_MONTH = Decimal(31 * 24)  # a PC config cannot be enabled longer than a month
_TOO_LARGE = Decimal(10) ** 18  # beyond any real month; keeps display rounding within precision


class UsageError(LambdalintError):
    """A usage figure is impossible (negative, out of Lambda's range, unknown architecture).

    `field` names the FunctionUsage field and `function` the function, so the CLI and the config
    reader can point at the flag or key the user wrote.
    """

    def __init__(self, message: str, field: str = "", function: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.function = function

    @property
    def detail(self) -> str:
        """The message without the function and field names, for callers that name them their way."""
        text = self.message
        for prefix in (f"{self.function}: ", f"{self.field} "):
            if prefix.strip() and text.startswith(prefix):
                text = text[len(prefix):]
        return text


def _exact() -> contextlib.AbstractContextManager[decimal.Context]:
    # 60 digits: GB-s up to ~1e17 times 10-decimal prices never round before display.
    ctx = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
    return decimal.localcontext(ctx)


def to_decimal(name: str, value: Any) -> Decimal:
    """`value` as an exact Decimal; floats go through their shortest repr (27.55 -> 27.55)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise UsageError(f"{name} must be a number, got {value!r}", name)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except decimal.InvalidOperation:
        raise UsageError(f"{name} must be a number, got {value!r}", name) from None
    if not number.is_finite():
        raise UsageError(f"{name} must be a finite number, got {value!r}", name)
    if number < 0:
        raise UsageError(f"{name} must not be negative, got {value}", name)
    if number >= _TOO_LARGE:
        raise UsageError(f"{name} must be below 10^18 for a monthly figure, got {value}", name)
    return number


def _to_int(name: str, value: Any) -> int:
    number = to_decimal(name, value)
    if number != number.to_integral_value():
        raise UsageError(f"{name} must be a whole number, got {value}", name)
    return int(number)


@dataclass(frozen=True)
class FunctionUsage:
    """What one function does in a month. Numbers may be given as int, float, str or Decimal;
    they are stored as Decimal (memory, storage and concurrency as int)."""

    memory_mb: int
    duration_ms: Decimal  # average per invocation, before rounding
    requests: Decimal  # per month
    arch: str = "x86_64"
    region: str = "us-east-1"
    ephemeral_storage_mb: int = 512
    init_ms: Decimal = ZERO  # INIT duration of one cold start
    cold_start_rate: Decimal = ZERO  # share of requests that start a new environment, 0..1
    provisioned_concurrency: int = 0
    provisioned_hours: Decimal = ZERO  # hours PC is enabled this month
    free_tier: bool = True
    timeout_s: Decimal | None = None  # optional: checks that duration fits the timeout

    def __post_init__(self) -> None:
        for name in ("memory_mb", "ephemeral_storage_mb", "provisioned_concurrency"):
            object.__setattr__(self, name, _to_int(name, getattr(self, name)))
        for name in ("duration_ms", "requests", "init_ms", "cold_start_rate", "provisioned_hours"):
            object.__setattr__(self, name, to_decimal(name, getattr(self, name)))
        if self.timeout_s is not None:
            object.__setattr__(self, "timeout_s", to_decimal("timeout_s", self.timeout_s))
        self._check()

    def _check(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise UsageError(f"unknown architecture {self.arch!r} (expected {' or '.join(ARCHITECTURES)})", "arch")
        if not isinstance(self.region, str) or not REGION_CODE.match(self.region):
            raise UsageError(f"{self.region!r} is not an AWS region code such as us-east-1", "region")
        if not isinstance(self.free_tier, bool):
            raise UsageError(f"free_tier must be true or false, got {self.free_tier!r}", "free_tier")
        if self.cold_start_rate > 1:
            raise UsageError(f"cold_start_rate is a share of requests, 0 to 1, got {self.cold_start_rate}",
                             "cold_start_rate")
        if (self.provisioned_concurrency > 0) != (self.provisioned_hours > 0):
            field_name = "provisioned_hours" if self.provisioned_concurrency else "provisioned_concurrency"
            raise UsageError("provisioned_concurrency and provisioned_hours go together: give both or neither",
                             field_name)
        if self.provisioned_hours > MAX_HOURS_PER_MONTH:
            raise UsageError(f"provisioned_hours {self.provisioned_hours} is more than a month "
                             f"({MAX_HOURS_PER_MONTH} hours)", "provisioned_hours")
        if self.timeout_s is not None and self.duration_ms > self.timeout_s * _MS_PER_S:
            raise UsageError(f"average duration {self.duration_ms} ms is longer than the timeout "
                             f"({self.timeout_s} s)", "duration_ms")

    @property
    def memory_gb(self) -> Decimal:
        return Decimal(self.memory_mb) / _MB_PER_GB

    @property
    def on_demand(self) -> bool:
        return self.provisioned_concurrency == 0


@dataclass(frozen=True)
class TierCharge:
    """GB-s billed at one duration price, and what they cost."""

    gb_seconds: Decimal
    usd_per_gb_second: Decimal
    usd: Decimal


@dataclass(frozen=True)
class CostBreakdown:
    """One function's month: every line item unrounded, with the quantities behind it.

    Line items are net of the free tier; `free_tier_usd` says what the free tier saved.
    `compute_usd` is invocation duration at whichever price applies (on-demand tiers, or the
    PC duration price); `duration_tiers` shows the GB-s and price behind compute + init.
    """

    name: str
    usage: FunctionUsage
    table: PriceTable = field(repr=False, compare=False)
    billed_ms: Decimal  # per invocation
    gb_seconds: Decimal  # invocations
    cold_starts: Decimal
    init_billed_ms: Decimal  # per cold start
    init_gb_seconds: Decimal
    free_requests: Decimal
    free_gb_seconds: Decimal
    duration_tiers: tuple[TierCharge, ...]
    ephemeral_gb_seconds: Decimal
    provisioned_seconds: Decimal
    provisioned_gb_seconds: Decimal
    requests_usd: Decimal
    compute_usd: Decimal
    init_usd: Decimal
    ephemeral_storage_usd: Decimal
    provisioned_concurrency_usd: Decimal
    free_tier_usd: Decimal
    total_usd: Decimal
    caveats: tuple[str, ...] = ()

    @property
    def billable_requests(self) -> Decimal:
        return self.usage.requests - self.free_requests

    @property
    def billable_gb_seconds(self) -> Decimal:
        return sum((t.gb_seconds for t in self.duration_tiers), ZERO)

    def unit_prices(self) -> dict[str, Decimal]:
        """The unit prices this breakdown used (USD), for output next to the figures."""
        prices = {"request": self.table.requests_per_million.value / _MILLION,
                  "ephemeral_storage_gb_second": self.table.ephemeral_storage.value}
        if self.usage.on_demand:
            prices["duration_gb_second_tier_1"] = self.table.duration[self.usage.arch][0].price.value
        else:
            pc = self.table.provisioned[self.usage.arch]
            prices["provisioned_concurrency_gb_second"] = pc.concurrency.value
            prices["provisioned_duration_gb_second"] = pc.duration.value
        return prices

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money and quantities as numbers (floats only here, for output)."""
        u = self.usage
        inputs = {"memory_mb": u.memory_mb, "duration_ms": u.duration_ms, "requests": u.requests,
                  "arch": u.arch, "region": u.region, "ephemeral_storage_mb": u.ephemeral_storage_mb,
                  "init_ms": u.init_ms, "cold_start_rate": u.cold_start_rate,
                  "provisioned_concurrency": u.provisioned_concurrency,
                  "provisioned_hours": u.provisioned_hours, "free_tier": u.free_tier}
        quantities = ("billed_ms", "gb_seconds", "cold_starts", "init_billed_ms", "init_gb_seconds",
                      "free_requests", "free_gb_seconds", "billable_requests", "billable_gb_seconds",
                      "ephemeral_gb_seconds", "provisioned_seconds", "provisioned_gb_seconds")
        money = ("requests_usd", "compute_usd", "init_usd", "ephemeral_storage_usd",
                 "provisioned_concurrency_usd", "free_tier_usd", "total_usd")
        out: dict[str, Any] = {"name": self.name, "inputs": _jsonable(inputs)}
        out.update({key: json_number(getattr(self, key)) for key in quantities})
        out.update({key: float(getattr(self, key)) for key in money})
        out["duration_tiers"] = [{"gb_seconds": json_number(t.gb_seconds),
                                  "usd_per_gb_second": float(t.usd_per_gb_second), "usd": float(t.usd)}
                                 for t in self.duration_tiers]
        out["unit_prices_usd"] = {k: float(v) for k, v in self.unit_prices().items()}
        out["price_table"] = {"region": self.table.region, "as_of": self.table.as_of.isoformat(),
                              "file": self.table.path.name, "verified_live": self.table.verified_live}
        out["caveats"] = list(self.caveats)
        return out


@dataclass(frozen=True)
class CostSummary:
    """Several functions priced together (shared tiers and free tier), with totals."""

    functions: Mapping[str, CostBreakdown]
    free_tier: FreeTier | None
    requests_usd: Decimal
    compute_usd: Decimal
    init_usd: Decimal
    ephemeral_storage_usd: Decimal
    provisioned_concurrency_usd: Decimal
    free_tier_usd: Decimal
    total_usd: Decimal
    gb_seconds: Decimal
    free_requests: Decimal
    free_gb_seconds: Decimal

    @property
    def caveats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for b in self.functions.values() for c in b.caveats))

    def to_dict(self) -> dict[str, Any]:
        money = ("requests_usd", "compute_usd", "init_usd", "ephemeral_storage_usd",
                 "provisioned_concurrency_usd", "free_tier_usd", "total_usd")
        out: dict[str, Any] = {"functions": {n: b.to_dict() for n, b in self.functions.items()}}
        out.update({key: float(getattr(self, key)) for key in money})
        out.update({key: json_number(getattr(self, key))
                    for key in ("gb_seconds", "free_requests", "free_gb_seconds")})
        out["caveats"] = list(self.caveats)
        return out


def json_number(value: Decimal) -> int | float:
    """An int when whole (so 540000 prints as 540000), else a float; for output only."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    return float(value)


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: json_number(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def cents(amount: Decimal) -> Decimal:
    """Round money for display: half-up to the cent, as AWS's pricing examples print it."""
    with _exact():
        rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)  # never "-0.00"


def ceil_to(value: Decimal, step: Decimal | int) -> Decimal:
    """Round `value` up to a multiple of `step` (1 ms billing: 27.55 -> 28)."""
    step = Decimal(step)
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def tier_segments(start: Decimal, end: Decimal, tiers: Sequence[Tier]) -> tuple[TierCharge, ...]:
    """The part of the monthly GB-s range [start, end) that falls in each tier, priced."""
    segments = []
    lower = ZERO
    for tier in tiers:
        upper = tier.up_to_gb_seconds
        low, high = max(start, lower), end if upper is None else min(end, upper)
        if high > low:
            price = tier.price.value
            segments.append(TierCharge(high - low, price, (high - low) * price))
        if upper is None or upper >= end:
            break
        lower = upper
    return tuple(segments)


def tiered_charge(gb_seconds: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """What `gb_seconds` of monthly duration cost under volume tiers (no free tier)."""
    with _exact():
        return sum((s.usd for s in tier_segments(ZERO, Decimal(gb_seconds), tiers)), ZERO)


def monthly_cost(usage: FunctionUsage, table: PriceTable | None = None, name: str = "function") -> CostBreakdown:
    """One function's monthly cost, with the whole free tier available to it.

    `table` defaults to the shipped table for `usage.region`.
    """
    tables = {usage.region: table} if table is not None else None
    return monthly_cost_many({name: usage}, tables).functions[name]


def monthly_cost_many(usages: Mapping[str, FunctionUsage] | Sequence[FunctionUsage],
                      tables: Mapping[str, PriceTable] | None = None) -> CostSummary:
    """Price several functions as one account's month.

    Duration tiers count the aggregate GB-s of each (region, arch) and the free tier is applied
    once across all functions; each function is then charged its proportional share. `tables`
    maps region to table; regions it lacks are loaded from the shipped tables.
    """
    named = dict(usages) if isinstance(usages, Mapping) else {str(i): u for i, u in enumerate(usages)}
    with _exact():
        resolved = _resolve_tables(named, tables or {})
        quantities = {name: _quantities(u, resolved[u.region]) for name, u in named.items()}
        free = _shared_free_tier(named, resolved)
        eligible = {n for n, q in quantities.items() if q.free_tier_eligible}
        free_requests = _share(free.requests if free else ZERO, {n: named[n].requests for n in eligible})
        free_gbs = _share(free.gb_seconds if free else ZERO, {n: quantities[n].duration_gb_seconds for n in eligible})
        groups = _groups(named, quantities, free_gbs, resolved)
        functions = {
            name: _breakdown(name, usage, quantities[name], resolved[usage.region],
                             free_requests.get(name, ZERO), free_gbs.get(name, ZERO),
                             groups.get((usage.region, usage.arch)))
            for name, usage in named.items()
        }
        return _summary(functions, free)


def _resolve_tables(named: Mapping[str, FunctionUsage], tables: Mapping[str, PriceTable]) -> dict[str, PriceTable]:
    resolved = dict(tables)
    for name, usage in named.items():
        if usage.region not in resolved:
            resolved[usage.region] = load_price_table(usage.region)
        table = resolved[usage.region]
        if table.region != usage.region:
            raise UsageError(f"{name}: price table {table.path.name} is for {table.region}, "
                             f"not {usage.region}", "region", name)
        _check_against_table(name, usage, table)
    return resolved


def _check_against_table(name: str, usage: FunctionUsage, table: PriceTable) -> None:
    rules, where = table.billing, f"(billing rules in {table.path.name})"
    if not rules.memory_min_mb <= usage.memory_mb <= rules.memory_max_mb:
        raise UsageError(f"{name}: memory {usage.memory_mb} MB is outside Lambda's "
                         f"{rules.memory_min_mb}-{rules.memory_max_mb} MB {where}", "memory_mb", name)
    if not rules.ephemeral_free_mb <= usage.ephemeral_storage_mb <= rules.ephemeral_max_mb:
        raise UsageError(f"{name}: ephemeral storage {usage.ephemeral_storage_mb} MB is outside Lambda's "
                         f"{rules.ephemeral_free_mb}-{rules.ephemeral_max_mb} MB {where}",
                         "ephemeral_storage_mb", name)


@dataclass(frozen=True)
class _Quantities:
    """What AWS meters for one usage in a month, before any price is applied."""

    billed_ms: Decimal
    gb_seconds: Decimal
    cold_starts: Decimal
    init_billed_ms: Decimal
    init_gb_seconds: Decimal
    ephemeral_gb_seconds: Decimal
    provisioned_seconds: Decimal
    provisioned_gb_seconds: Decimal
    free_tier_eligible: bool

    @property
    def duration_gb_seconds(self) -> Decimal:
        return self.gb_seconds + self.init_gb_seconds


def _quantities(usage: FunctionUsage, table: PriceTable) -> _Quantities:
    """The billable quantities of one usage: what AWS meters, before any price."""
    rules, gb = table.billing, usage.memory_gb
    billed_ms = ceil_to(usage.duration_ms, rules.rounding_ms)
    cold_starts = init_billed_ms = ZERO
    if usage.on_demand and usage.init_ms > 0 and usage.cold_start_rate > 0:
        cold_starts = usage.requests * usage.cold_start_rate
        init_billed_ms = ceil_to(usage.duration_ms + usage.init_ms, rules.rounding_ms) - billed_ms
    billed_seconds = (usage.requests * billed_ms + cold_starts * init_billed_ms) / _MS_PER_S
    extra_storage_gb = Decimal(max(0, usage.ephemeral_storage_mb - rules.ephemeral_free_mb)) / _MB_PER_GB
    provisioned_seconds = ceil_to(usage.provisioned_hours * _SECONDS_PER_HOUR, rules.provisioned_rounding_seconds)
    return _Quantities(
        billed_ms=billed_ms,
        gb_seconds=usage.requests * billed_ms / _MS_PER_S * gb,
        cold_starts=cold_starts,
        init_billed_ms=init_billed_ms,
        init_gb_seconds=cold_starts * init_billed_ms / _MS_PER_S * gb,
        ephemeral_gb_seconds=extra_storage_gb * billed_seconds,
        provisioned_seconds=provisioned_seconds,
        provisioned_gb_seconds=usage.provisioned_concurrency * gb * provisioned_seconds,
        free_tier_eligible=usage.free_tier and usage.on_demand,
    )


def _shared_free_tier(named: Mapping[str, FunctionUsage], tables: Mapping[str, PriceTable]) -> FreeTier | None:
    """The account's free tier; every table in use must agree on it, since it is applied once."""
    used = [tables[u.region] for u in named.values()]
    tiers = {t.free_tier for t in used}
    if len(tiers) > 1:
        files = ", ".join(sorted(t.path.name for t in used))
        raise LambdalintError(f"price tables disagree on the free tier ({files}); it is one allowance per account")
    return tiers.pop() if tiers else None


def _share(pool: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split min(pool, total weight) across `weights` in proportion."""
    total = sum(weights.values(), ZERO)
    if total == 0:
        return {name: ZERO for name in weights}
    applied = min(pool, total)
    return {name: applied * weight / total for name, weight in weights.items()}


@dataclass(frozen=True)
class _Group:
    """The on-demand duration of one (region, arch): tiers count its aggregate."""

    gb_seconds: Decimal
    free_gb_seconds: Decimal
    gross_usd: Decimal
    billable: tuple[TierCharge, ...]  # the range [free, total) split by tier

    @property
    def billable_gb_seconds(self) -> Decimal:
        return self.gb_seconds - self.free_gb_seconds


def _groups(named: Mapping[str, FunctionUsage], quantities: Mapping[str, _Quantities],
            free_gbs: Mapping[str, Decimal], tables: Mapping[str, PriceTable]) -> dict[tuple[str, str], _Group]:
    totals: dict[tuple[str, str], list[Decimal]] = {}
    for name, usage in named.items():
        if usage.on_demand:
            pair = totals.setdefault((usage.region, usage.arch), [ZERO, ZERO])
            pair[0] += quantities[name].duration_gb_seconds
            pair[1] += free_gbs.get(name, ZERO)
    groups = {}
    for (region, arch), (total, free) in totals.items():
        tiers = tables[region].duration[arch]
        groups[(region, arch)] = _Group(total, free, tiered_charge(total, tiers),
                                        tier_segments(free, total, tiers))
    return groups


def _breakdown(name: str, usage: FunctionUsage, q: _Quantities, table: PriceTable,
               free_requests: Decimal, free_gbs: Decimal, group: _Group | None) -> CostBreakdown:
    request_price = table.requests_per_million.value / _MILLION
    if usage.on_demand:
        segments, gross = _on_demand_share(q.duration_gb_seconds - free_gbs, q.duration_gb_seconds, group)
    else:
        price = table.provisioned[usage.arch].duration.value
        segments = (TierCharge(q.gb_seconds, price, q.gb_seconds * price),) if q.gb_seconds else ()
        gross = q.gb_seconds * price
    duration_usd = sum((s.usd for s in segments), ZERO)
    init_usd = _init_share(duration_usd, q)
    requests_usd = (usage.requests - free_requests) * request_price
    ephemeral_usd = q.ephemeral_gb_seconds * table.ephemeral_storage.value
    provisioned_usd = (q.provisioned_gb_seconds * table.provisioned[usage.arch].concurrency.value
                       if not usage.on_demand else ZERO)
    return CostBreakdown(
        name=name, usage=usage, table=table, billed_ms=q.billed_ms, gb_seconds=q.gb_seconds,
        cold_starts=q.cold_starts, init_billed_ms=q.init_billed_ms, init_gb_seconds=q.init_gb_seconds,
        free_requests=free_requests, free_gb_seconds=free_gbs, duration_tiers=segments,
        ephemeral_gb_seconds=q.ephemeral_gb_seconds, provisioned_seconds=q.provisioned_seconds,
        provisioned_gb_seconds=q.provisioned_gb_seconds, requests_usd=requests_usd,
        compute_usd=duration_usd - init_usd, init_usd=init_usd, ephemeral_storage_usd=ephemeral_usd,
        provisioned_concurrency_usd=provisioned_usd,
        free_tier_usd=free_requests * request_price + max(ZERO, gross - duration_usd),
        total_usd=requests_usd + duration_usd + ephemeral_usd + provisioned_usd,
        caveats=tuple(_caveats(usage, q, table, group)),
    )


def _init_share(duration_usd: Decimal, q: _Quantities) -> Decimal:
    """INIT's part of the duration charge, by GB-s; exactly 0 or all of it at the extremes."""
    if not q.init_gb_seconds:
        return ZERO
    if not q.gb_seconds:
        return duration_usd
    return duration_usd * q.init_gb_seconds / q.duration_gb_seconds


def _on_demand_share(billable: Decimal, own: Decimal, group: _Group | None) -> tuple[tuple[TierCharge, ...], Decimal]:
    """This function's slice of its group's tiered charge: (billable segments, gross before free tier)."""
    if group is None or group.gb_seconds == 0:
        return (), ZERO
    gross = group.gross_usd if own == group.gb_seconds else group.gross_usd * own / group.gb_seconds
    if group.billable_gb_seconds == 0 or billable == 0:
        return (), gross
    share = billable / group.billable_gb_seconds
    segments = tuple(TierCharge(s.gb_seconds * share, s.usd_per_gb_second, s.usd * share) for s in group.billable)
    return segments, gross


def _caveats(usage: FunctionUsage, q: _Quantities, table: PriceTable, group: _Group | None) -> Iterator[str]:
    """Why a reader should trust a figure less: unconfirmed prices used, PC that cannot keep up."""
    for price in _prices_used(usage, q, table, group.gb_seconds if group else ZERO):
        if not price.confirmed:
            detail = f": {price.note}" if price.note else ""
            yield f"{table.region} {price.key} = {price.value} is {price.confidence}{detail}"
    if not table.verified_live:
        yield f"{table.path.name} (as of {table.as_of}) was not checked against the live AWS pricing page"
    capacity = usage.provisioned_concurrency * q.provisioned_seconds
    busy = usage.requests * q.billed_ms / _MS_PER_S
    if not usage.on_demand and busy > capacity:
        yield (f"provisioned concurrency {usage.provisioned_concurrency} for {usage.provisioned_hours} h gives "
               f"{capacity:,} environment-seconds but the requests need {busy:,}; AWS bills the excess "
               f"at on-demand prices, which this estimate does not split out")


def _prices_used(usage: FunctionUsage, q: _Quantities, table: PriceTable, group_gb_seconds: Decimal) -> Iterator[Price]:
    if usage.requests:
        yield table.requests_per_million
    if usage.on_demand and q.duration_gb_seconds:
        # The group's aggregate decides which tiers this function's share is priced in.
        yield from (tier.price for tier in _tiers_reached(table.duration[usage.arch], group_gb_seconds))
    if not usage.on_demand:
        yield table.provisioned[usage.arch].concurrency
        if q.gb_seconds:
            yield table.provisioned[usage.arch].duration
    if q.ephemeral_gb_seconds:
        yield table.ephemeral_storage


def _tiers_reached(tiers: Sequence[Tier], gb_seconds: Decimal) -> Iterator[Tier]:
    lower = ZERO
    for tier in tiers:
        if gb_seconds > lower:
            yield tier
        if tier.up_to_gb_seconds is None:
            return
        lower = tier.up_to_gb_seconds


def _summary(functions: Mapping[str, CostBreakdown], free: FreeTier | None) -> CostSummary:
    def total(attr: str) -> Decimal:
        return sum((getattr(b, attr) for b in functions.values()), ZERO)

    return CostSummary(
        functions=functions, free_tier=free,
        requests_usd=total("requests_usd"), compute_usd=total("compute_usd"), init_usd=total("init_usd"),
        ephemeral_storage_usd=total("ephemeral_storage_usd"),
        provisioned_concurrency_usd=total("provisioned_concurrency_usd"),
        free_tier_usd=total("free_tier_usd"), total_usd=total("total_usd"),
        gb_seconds=total("gb_seconds"), free_requests=total("free_requests"),
        free_gb_seconds=total("free_gb_seconds"),
    )
