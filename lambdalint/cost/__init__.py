"""The cost model: what a Lambda function costs per month, from usage figures and price tables.

The profiler, the CI gate and the report call this package; it reads pricing/ and nothing
else, and never prints. Public API:

- `load_price_table(region, directory=None) -> PriceTable`, `available_regions(directory=None)`
- `FunctionUsage(memory_mb, duration_ms, requests, arch="x86_64", region="us-east-1", ...)`
- `monthly_cost(usage, table=None) -> CostBreakdown` for one function;
  `monthly_cost_many({name: usage}, tables=None) -> CostSummary` for several functions billed
  to one account (shared tiers and free tier)
- `functions_from_pyproject(pyproject_dict) -> dict[str, FunctionUsage]`
- `cents(amount)` rounds for display; everything else stays an exact Decimal.
"""

from .config import functions_from_pyproject
from .model import (
    CostBreakdown,
    CostSummary,
    FunctionUsage,
    TierCharge,
    UsageError,
    cents,
    monthly_cost,
    monthly_cost_many,
    tiered_charge,
)
from .pricing import (
    ARCHITECTURES,
    PriceTable,
    UnknownRegionError,
    available_regions,
    load_price_table,
)

__all__ = [
    "ARCHITECTURES",
    "CostBreakdown",
    "CostSummary",
    "FunctionUsage",
    "PriceTable",
    "TierCharge",
    "UnknownRegionError",
    "UsageError",
    "available_regions",
    "cents",
    "functions_from_pyproject",
    "load_price_table",
    "monthly_cost",
    "monthly_cost_many",
    "tiered_charge",
]
