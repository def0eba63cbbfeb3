"""`lambdalint cost`: the monthly bill of one function (flags) or of every configured function.

Every figure is printed with the quantities and unit price behind it, so a reviewer can check
the arithmetic instead of trusting a number. The renderers are pure functions over the cost
model's results; this module only gathers input and prints.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import click

from .cli_errors import handle_errors
from .cost.config import as_config_error, functions_from_pyproject, load_toml
from .cost.model import (
    CostBreakdown,
    CostSummary,
    FunctionUsage,
    UsageError,
    cents,
    monthly_cost,
    monthly_cost_many,
)
from .cost.pricing import ARCHITECTURES, PriceTable, load_price_table, pricing_directory
from .errors import LambdalintError

_FLAG_FOR_FIELD = {
    "memory_mb": "--memory-mb", "duration_ms": "--duration-ms", "requests": "--requests",
    "arch": "--arch", "region": "--region", "ephemeral_storage_mb": "--ephemeral-storage-mb",
    "init_ms": "--init-ms", "cold_start_rate": "--cold-start-rate",
    "provisioned_concurrency": "--provisioned-concurrency", "provisioned_hours": "--provisioned-hours",
}
_USAGE_FLAGS = ("memory_mb", "duration_ms", "requests")
_SINGLE_ONLY = ("ephemeral_storage_mb", "init_ms", "cold_start_rate", "provisioned_concurrency",
                "provisioned_hours")


class DecimalParam(click.ParamType):
    """A number read straight into Decimal, so "27.55" stays 27.55 (no float on the way)."""

    name = "number"

    def __init__(self, allow_percent: bool = False) -> None:
        self.allow_percent = allow_percent

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Decimal:
        if isinstance(value, Decimal):
            return value
        text = str(value).strip().replace(",", "")
        scale = Decimal(1)
        if self.allow_percent and text.endswith("%"):
            text, scale = text[:-1], Decimal(100)
        try:
            number = Decimal(text) / scale
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not number.is_finite():
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


@click.command("cost", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--memory-mb", type=int, metavar="MB",
              help="Memory configured for the function, 128-10240 MB. Price per ms scales with it.")
@click.option("--duration-ms", type=DecimalParam(), metavar="MS",
              help="Average duration of one invocation in ms. Each invocation is billed rounded up to "
                   "the next 1 ms (27.55 ms bills 28 ms).")
@click.option("--requests", type=DecimalParam(), metavar="N", help="Invocations per month.")
@click.option("--arch", type=click.Choice(ARCHITECTURES),
              help="Instruction set (default x86_64; arm64 is about 20% cheaper per GB-s). With "
                   "configured functions: price them all on this architecture (what-if).")
@click.option("--region", metavar="REGION",
              help="AWS region whose price table to use (default us-east-1). With configured "
                   "functions: price them all in this region.")
@click.option("--ephemeral-storage-mb", type=int, metavar="MB",
              help="/tmp size, 512-10240 MB (default 512). Storage above the free 512 MB is billed "
                   "per GB-second of duration.")
@click.option("--init-ms", type=DecimalParam(), metavar="MS",
              help="INIT (cold start) duration in ms. Billed like invocation time for on-demand "
                   "functions since 2025-08-01. Needs --cold-start-rate.")
@click.option("--cold-start-rate", type=DecimalParam(allow_percent=True), metavar="RATE",
              help="Share of invocations that start a new environment: 0-1, or a percentage such "
                   "as 1%. AWS reports cold starts in under 1% of production invocations.")
@click.option("--provisioned-concurrency", type=int, metavar="C",
              help="Provisioned concurrency configured. Assumes it serves every request (at the "
                   "lower PC duration price) and disables the free tier. Needs --provisioned-hours.")
@click.option("--provisioned-hours", type=DecimalParam(), metavar="H",
              help="Hours per month provisioned concurrency is enabled (rounded up to 5 minutes; "
                   "730 for always on).")
@click.option("--no-free-tier", is_flag=True,
              help="Do not subtract the monthly free tier (1M requests, 400,000 GB-s), e.g. when "
                   "other functions in the account already use it.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: a breakdown with every input; json: one object, numbers "
                                      "as numbers.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="TOML file with [tool.lambdalint.functions.NAME] tables, used when --memory-mb, "
                   "--duration-ms and --requests are not given (default: ./pyproject.toml).")
@click.option("--function", "function_names", multiple=True, metavar="NAME",
              help="With configured functions: show the full breakdown of NAME (repeatable). The "
                   "free tier and volume tiers stay shared with the other functions.")
@click.option("--pricing-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Read price tables from DIR instead of the shipped ones (e.g. negotiated prices).")
@handle_errors
def cost_command(output_format: str, config_path: Optional[Path], function_names: Sequence[str],
                 pricing_dir: Optional[Path], no_free_tier: bool, **flags: Any) -> None:
    """Estimate what AWS Lambda functions cost per month.

    With --memory-mb, --duration-ms and --requests, print the breakdown of that one function.
    Without them, price every [tool.lambdalint.functions.NAME] in pyproject.toml (keys: memory,
    timeout, architecture, region, requests, duration-ms, ephemeral-storage, init-ms,
    cold-start-rate, provisioned-concurrency, provisioned-hours) and print a table and a total.

    Prices come from lambdalint's pricing/ tables; figures that rest on unconfirmed prices are
    flagged. Money is computed exactly and rounded to cents only for display.
    """
    if any(flags[name] is not None for name in _USAGE_FLAGS):
        if function_names:
            raise LambdalintError("--function selects configured functions; it cannot be combined with --memory-mb")
        breakdown = _single(flags, not no_free_tier, pricing_dir)
        click.echo(json.dumps(breakdown.to_dict(), indent=2) if output_format == "json"
                   else render_breakdown(breakdown))
        return
    _reject_single_only(flags)
    path = config_path or Path.cwd() / "pyproject.toml"
    summary = _configured(path, flags, no_free_tier, pricing_dir, explicit=config_path is not None)
    _check_names(function_names, summary)
    if output_format == "json":
        click.echo(json.dumps({"config": str(path), **summary.to_dict()}, indent=2))
    elif function_names:
        click.echo("\n\n".join(render_breakdown(summary.functions[n]) for n in function_names))
    else:
        click.echo(render_summary(summary))


def _single(flags: Mapping[str, Any], free_tier: bool, pricing_dir: Optional[Path]) -> CostBreakdown:
    missing = [_FLAG_FOR_FIELD[n] for n in _USAGE_FLAGS if flags[n] is None]
    if missing:
        raise LambdalintError(f"--memory-mb, --duration-ms and --requests go together; missing {', '.join(missing)}")
    for pair in (("init_ms", "cold_start_rate"), ("provisioned_concurrency", "provisioned_hours")):
        given = [flags[n] is not None for n in pair]
        if any(given) and not all(given):
            raise LambdalintError(f"{_FLAG_FOR_FIELD[pair[0]]} and {_FLAG_FOR_FIELD[pair[1]]} go together")
    values = {k: v for k, v in flags.items() if v is not None}
    values.setdefault("arch", "x86_64")
    values.setdefault("region", "us-east-1")
    try:
        usage = FunctionUsage(free_tier=free_tier, **values)
        return monthly_cost(usage, load_price_table(usage.region, pricing_dir))
    except UsageError as exc:
        flag = _FLAG_FOR_FIELD.get(exc.field)
        raise LambdalintError(f"{flag}: {exc.detail}" if flag else exc.message) from None


def _reject_single_only(flags: Mapping[str, Any]) -> None:
    given = [_FLAG_FOR_FIELD[n] for n in _SINGLE_ONLY if flags[n] is not None]
    if given:
        raise LambdalintError(f"{', '.join(given)} describe one function: give --memory-mb, --duration-ms "
                              f"and --requests too, or set them in [tool.lambdalint.functions.NAME]")


def _configured(path: Path, flags: Mapping[str, Any], no_free_tier: bool, pricing_dir: Optional[Path],
                explicit: bool) -> CostSummary:
    if not path.is_file():
        where = f"{path} does not exist" if explicit else f"no pyproject.toml in {path.parent}"
        raise LambdalintError(f"nothing to price: {where}. Pass --memory-mb, --duration-ms and --requests, "
                              f"or configure [tool.lambdalint.functions.NAME] tables")
    functions = functions_from_pyproject(load_toml(path))
    if not functions:
        raise LambdalintError(f"{path} has no [tool.lambdalint.functions.NAME] tables; pass --memory-mb, "
                              f"--duration-ms and --requests to price one function")
    overrides = {k: flags[k] for k in ("arch", "region") if flags[k] is not None}
    if no_free_tier:
        overrides["free_tier"] = False
    try:
        functions = {name: replace(usage, **overrides) for name, usage in functions.items()}
        tables = _tables({u.region for u in functions.values()}, pricing_dir)
        return monthly_cost_many(functions, tables)
    except UsageError as exc:
        raise as_config_error(exc) if exc.function else exc


def _tables(regions: set[str], pricing_dir: Optional[Path]) -> dict[str, PriceTable]:
    return {region: load_price_table(region, pricing_dir) for region in sorted(regions)}


def _check_names(names: Sequence[str], summary: CostSummary) -> None:
    unknown = [n for n in names if n not in summary.functions]
    if unknown:
        raise LambdalintError(f"--function {unknown[0]!r} is not configured "
                              f"(configured: {', '.join(summary.functions)})")


# Rendering: pure functions from results to text.

def money(amount: Decimal) -> str:
    """$1,234.57: half-up to the cent, for display only."""
    return f"${cents(amount):,}"


def quantity(value: Decimal) -> str:
    """540,000 or 1,234.568 or 1.5: commas, at most 3 decimals, no trailing zeros."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text if text != "0" else f"{value:.3g}"


def unit_price(value: Decimal) -> str:
    """$0.0000166667 as written in the table (never 1.66667E-5)."""
    return f"${value:f}"


def render_breakdown(b: CostBreakdown) -> str:
    """One function's month, Infracost style: each line shows its inputs, unit price and amount."""
    u, t = b.usage, b.table
    heading = [f"{b.name if b.name != 'function' else 'Lambda function'}: {u.region} ({t.location}), "
               f"{u.arch}, {u.memory_mb:,} MB",
               f"  {quantity(u.requests)} requests/month, {quantity(u.duration_ms)} ms average, "
               f"billed {quantity(b.billed_ms)} ms each"]
    rows = _request_rows(b) + _duration_rows(b) + _storage_rows(b) + _provisioned_rows(b) + _free_rows(b)
    rows.append(("total", "", money(b.total_usd) + " per month"))
    return "\n".join(heading + [""] + _table_lines(rows) + [""] + _footer([b]))


Row = tuple  # (label, explanation, amount or "")


def _request_rows(b: CostBreakdown) -> list[Row]:
    per_million = unit_price(b.table.requests_per_million.value)
    if b.free_requests:
        text = (f"{quantity(b.usage.requests)} − {quantity(b.free_requests)} free = "
                f"{quantity(b.billable_requests)} × {per_million} per 1M")
    else:
        text = f"{quantity(b.usage.requests)} × {per_million} per 1M{_no_free_reason(b)}"
    return [("requests", text, money(b.requests_usd))]


def _no_free_reason(b: CostBreakdown) -> str:
    if not b.usage.on_demand:
        return " (no free tier with provisioned concurrency)"
    return " (free tier not applied)" if not b.usage.free_tier else " (free tier used by other functions)"


def _duration_rows(b: CostBreakdown) -> list[Row]:
    u, gb = b.usage, quantity(b.usage.memory_gb)
    rows: list[Row] = [("compute", f"{quantity(u.requests)} × {quantity(b.billed_ms)} ms × {gb} GB = "
                                   f"{quantity(b.gb_seconds)} GB-s", money(b.compute_usd))]
    if not u.on_demand:
        init = "run when environments are provisioned (in the provisioned charge)"
    elif b.cold_starts:
        init = (f"{quantity(b.cold_starts)} cold starts × {quantity(b.init_billed_ms)} ms × {gb} GB = "
                f"{quantity(b.init_gb_seconds)} GB-s")
    else:
        init = "none given (--init-ms and --cold-start-rate)" if not u.init_ms else "no cold starts"
    rows.append(("init", init, money(b.init_usd)))
    return rows + _tier_rows(b)


def _tier_rows(b: CostBreakdown) -> list[Row]:
    """How compute + init were priced: free tier first, then the volume tiers (or the PC price)."""
    text = f"{quantity(b.gb_seconds + b.init_gb_seconds)} GB-s"
    if b.free_gb_seconds:
        text += f" − {quantity(b.free_gb_seconds)} free = {quantity(b.billable_gb_seconds)} GB-s"
    if not b.duration_tiers:
        return [("  duration", f"{text}, nothing billed", "")]
    if len(b.duration_tiers) == 1:
        tier = b.duration_tiers[0]
        kind = "" if b.usage.on_demand else " (provisioned duration price)"
        return [("  duration", f"{text} × {unit_price(tier.usd_per_gb_second)}{kind} = {money(tier.usd)}", "")]
    rows: list[Row] = [("  duration", f"{text}, in volume tiers:", "")]
    rows += [("", f"  {quantity(t.gb_seconds)} GB-s × {unit_price(t.usd_per_gb_second)} = {money(t.usd)}", "")
             for t in b.duration_tiers]
    return rows


def _storage_rows(b: CostBreakdown) -> list[Row]:
    size, free_mb = b.usage.ephemeral_storage_mb, b.table.billing.ephemeral_free_mb
    if size <= free_mb:
        return [("ephemeral storage", f"{size:,} MB, within the free {free_mb} MB", money(b.ephemeral_storage_usd))]
    extra_gb = Decimal(size - free_mb) / 1024
    seconds = b.ephemeral_gb_seconds / extra_gb
    text = (f"({size:,} − {free_mb} MB) × {quantity(seconds)} s = {quantity(b.ephemeral_gb_seconds)} GB-s × "
            f"{unit_price(b.table.ephemeral_storage.value)}")
    return [("ephemeral storage", text, money(b.ephemeral_storage_usd))]


def _provisioned_rows(b: CostBreakdown) -> list[Row]:
    u = b.usage
    if u.on_demand:
        return [("provisioned conc.", "none", money(b.provisioned_concurrency_usd))]
    price = b.table.provisioned[u.arch].concurrency.value
    text = (f"{u.provisioned_concurrency:,} × {quantity(u.memory_gb)} GB × {quantity(b.provisioned_seconds)} s "
            f"= {quantity(b.provisioned_gb_seconds)} GB-s × {unit_price(price)}")
    return [("provisioned conc.", text, money(b.provisioned_concurrency_usd))]


def _free_rows(b: CostBreakdown) -> list[Row]:
    if not (b.free_requests or b.free_gb_seconds):
        return [("free tier", "not applied", "")]
    return [("free tier", f"{quantity(b.free_requests)} requests + {quantity(b.free_gb_seconds)} GB-s, worth "
                          f"{money(b.free_tier_usd)}, subtracted above", "")]


def _table_lines(rows: Sequence[Row]) -> list[str]:
    label_w = max(len(r[0]) for r in rows)
    text_w = max(len(r[1]) for r in rows if r[2])
    amount_w = max(len(r[2].split(" ")[0]) for r in rows)
    lines = []
    for label, text, amount in rows:
        if not amount:
            lines.append(f"  {label:<{label_w}}  {text}".rstrip())
            continue
        head, _, tail = amount.partition(" ")
        line = f"  {label:<{label_w}}  {text:<{text_w}}  {head:>{amount_w}}"
        lines.append(f"{line} {tail}".rstrip())
    return lines


def _footer(breakdowns: Sequence[CostBreakdown]) -> list[str]:
    tables = {b.table.region: b.table for b in breakdowns}
    lines = [f"prices: {_table_name(t)} as of {t.as_of} ({t.sources.get('P1', next(iter(t.sources.values())))})"
             for t in tables.values()]
    caveats = dict.fromkeys(c for b in breakdowns for c in b.caveats)
    return lines + [f"note: {c}" for c in caveats]


def _table_name(table: PriceTable) -> str:
    shipped = table.path.parent == pricing_directory().resolve()
    return f"pricing/{table.path.name}" if shipped else str(table.path)


_COLUMNS = ("function", "region", "arch", "memory", "billed", "requests/mo", "GB-s",
            "requests", "compute", "init", "storage", "provisioned", "total")


def render_summary(s: CostSummary) -> str:
    """A table of every configured function, a total, and how the free tier was shared."""
    rows = [_summary_row(b) for b in s.functions.values()]
    total = ["total", "", "", "", "", quantity(sum((b.usage.requests for b in s.functions.values()), Decimal(0))),
             quantity(s.gb_seconds + sum((b.init_gb_seconds for b in s.functions.values()), Decimal(0))),
             money(s.requests_usd), money(s.compute_usd), money(s.init_usd), money(s.ephemeral_storage_usd),
             money(s.provisioned_concurrency_usd), money(s.total_usd)]
    widths = [max(len(r[i]) for r in [list(_COLUMNS), *rows, total]) for i in range(len(_COLUMNS))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(_COLUMNS), rule, *(line(r) for r in rows), rule, line(total), ""]
    if s.free_requests or s.free_gb_seconds:
        out.append(f"free tier: {quantity(s.free_requests)} requests + {quantity(s.free_gb_seconds)} GB-s, "
                   f"shared by the functions in proportion to use, worth {money(s.free_tier_usd)} (subtracted above)")
    else:
        out.append("free tier: not applied")
    out.append("per month; GB-s includes INIT. Run with --function NAME for one function's arithmetic.")
    return "\n".join(out + _footer(list(s.functions.values())))


def _summary_row(b: CostBreakdown) -> list[str]:
    u = b.usage
    return [b.name, u.region, u.arch, f"{u.memory_mb:,} MB", f"{quantity(b.billed_ms)} ms", quantity(u.requests),
            quantity(b.gb_seconds + b.init_gb_seconds), money(b.requests_usd), money(b.compute_usd),
            money(b.init_usd), money(b.ephemeral_storage_usd), money(b.provisioned_concurrency_usd),
            money(b.total_usd)]
