"""From measured tiers to monthly cost and a memory recommendation, as Power Tuning does.

AWS Lambda Power Tuning offers three strategies: "cost" (the cheapest, whatever its speed),
"speed" (the fastest, whatever its cost) and "balanced", which minimises
`weight * cost / max_cost + (1 - weight) * duration / max_duration` (default weight 0.5;
1.0 is pure cost, 0.0 pure speed). Tiers that ran out of memory, timed out or failed to
initialise are never recommended. Ties go to the faster, then the cheaper, then the smaller.

The monthly cost comes from lambdalint's cost model, called in one place (`monthly_cost_usd`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional, Sequence

from . import ProfilerError

DEFAULT_BALANCED_WEIGHT = 0.5


@dataclass(frozen=True)
class CostInputs:
    """Month-level assumptions the profiler cannot measure."""

    requests_per_month: int = 1_000_000
    arch: str = "x86_64"
    region: str = "us-east-1"
    cold_start_rate: float = 0.01  # AWS: INITs "typically occur in under 1% of invocations"
    free_tier: bool = False  # the account's free tier is shared by all its functions


def monthly_cost_usd(memory_mb: int, duration_ms: float, init_ms: float, inputs: CostInputs) -> Decimal:
    """Monthly cost of one memory size through lambdalint.cost (requests, duration, INIT).

    `duration_ms` is the average duration before rounding (the model rounds up to 1 ms) and
    `init_ms` is billed for `cold_start_rate` of the requests, as AWS has done since 2025-08.
    """
    from ..cost.model import FunctionUsage, monthly_cost
    from ..cost.pricing import load_price_table

    usage = FunctionUsage(
        memory_mb=memory_mb, duration_ms=Decimal(repr(round(duration_ms, 3))),
        requests=inputs.requests_per_month, arch=inputs.arch, region=inputs.region,
        init_ms=Decimal(repr(round(init_ms, 3))), cold_start_rate=Decimal(repr(inputs.cold_start_rate)),
        free_tier=inputs.free_tier)
    breakdown = monthly_cost(usage, load_price_table(inputs.region))
    total = getattr(breakdown, "total_usd", None)
    return total if total is not None else breakdown.total


@dataclass(frozen=True)
class TierPoint:
    """One usable tier as the strategies see it."""

    memory_mb: int
    cost_usd: Decimal
    duration_ms: float


@dataclass(frozen=True)
class Recommendation:
    cost: Optional[int]
    speed: Optional[int]
    balanced: Optional[int]
    weight: float = DEFAULT_BALANCED_WEIGHT

    def to_dict(self) -> dict:
        return {"cost": self.cost, "speed": self.speed, "balanced": self.balanced}


def balanced_score(point: TierPoint, max_cost: Decimal, max_duration: float, weight: float) -> float:
    """Power Tuning's balanced objective; a zero maximum contributes nothing."""
    cost_term = float(point.cost_usd / max_cost) if max_cost > 0 else 0.0
    duration_term = point.duration_ms / max_duration if max_duration > 0 else 0.0
    return weight * cost_term + (1.0 - weight) * duration_term


def recommend(points: Sequence[TierPoint], weight: float = DEFAULT_BALANCED_WEIGHT) -> Recommendation:
    """Pick a memory size for each strategy among the usable tiers (None if there are none)."""
    if not 0.0 <= weight <= 1.0:
        raise ProfilerError(f"balanced weight must be between 0 and 1, got {weight}")
    if not points:
        return Recommendation(None, None, None, weight)
    cheapest = min(points, key=lambda p: (p.cost_usd, p.duration_ms, p.memory_mb))
    fastest = min(points, key=lambda p: (p.duration_ms, p.cost_usd, p.memory_mb))
    max_cost = max(p.cost_usd for p in points)
    max_duration = max(p.duration_ms for p in points)
    balanced = min(points, key=lambda p: (balanced_score(p, max_cost, max_duration, weight),
                                          p.duration_ms, p.cost_usd, p.memory_mb))
    return Recommendation(cheapest.memory_mb, fastest.memory_mb, balanced.memory_mb, weight)
