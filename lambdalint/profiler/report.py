"""Turn a profile run into figures (init estimate, cost, recommendation) and render them.

Three renderings of one `ProfileReport`: a text table for terminals, one JSON object for
machines, and a self-contained HTML page (inline CSS and an SVG chart drawn here: no script,
no external resource, so it opens offline and can be attached to a CI run).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from .harness import ProfileRun, TierResult
from .initestimate import SOURCE as INIT_SOURCE
from .initestimate import InitEstimate, estimate_init
from .limits import available_cores
from .recommend import CostInputs, Recommendation, TierPoint, monthly_cost_usd, recommend

CONTENTION_WARNING = 0.10  # warn when a tier waited this share of its time for a busy CPU
CONTENTION_MIN_MS = 2.0  # ... and on average this long per invocation (sub-ms handlers are noise)


@dataclass
class TierRow:
    result: TierResult
    cost_usd: Optional[Decimal]


@dataclass
class ProfileReport:
    run: ProfileRun
    cost_inputs: CostInputs
    init: Optional[InitEstimate]
    rows: list
    recommendation: Recommendation
    warnings: list = field(default_factory=list)


def build_report(run: ProfileRun, cost_inputs: CostInputs, weight: float,
                 runtime: Optional[str] = None) -> ProfileReport:
    """Estimate INIT once, price every usable tier, and pick the three recommendations.

    The cost uses the *estimated Lambda* INIT (not the local one): it is what AWS will bill.
    Tiers that ran out of memory, timed out or failed to initialise get no cost.
    """
    init = estimate_init([t.import_ms for t in run.tiers if t.init_error is None],
                         runtime or run.spec.runtime, cost_inputs.arch)
    rows = []
    for tier in run.tiers:
        cost = None
        if tier.ok and init is not None:
            cost = monthly_cost_usd(tier.memory_mb, tier.mean_ms, init.total_ms, cost_inputs)
        rows.append(TierRow(result=tier, cost_usd=cost))
    points = [TierPoint(r.result.memory_mb, r.cost_usd, r.result.mean_ms) for r in rows if r.cost_usd is not None]
    report = ProfileReport(run=run, cost_inputs=cost_inputs, init=init, rows=rows,
                           recommendation=recommend(points, weight))
    report.warnings = _warnings(report)
    return report


def _warnings(report: ProfileReport) -> list:
    warnings = []
    cores = available_cores()
    for row in report.rows:
        tier = row.result
        waited = sum(tier.warm_contention_ms) / max(1, len(tier.warm_contention_ms))
        if tier.contention > CONTENTION_WARNING and waited > CONTENTION_MIN_MS:
            how = "" if tier.boosted else " (running as root lets the profiler raise its priority)"
            warnings.append(f"{tier.memory_mb} MB: the handler spent {tier.contention:.0%} of its time waiting "
                            f"for a CPU that other processes were using, so its durations are inflated; "
                            f"profile on a quieter machine{how}")
    capped = [r.result.memory_mb for r in report.rows if r.result.memory_mb / 1769 > cores]
    if capped:
        warnings.append(f"{', '.join(map(str, capped))} MB: Lambda would give more than the {cores} cores here; "
                        f"these tiers ran on {cores}")
    if report.cost_inputs.arch == "arm64":
        warnings.append("arm64: durations were measured on this machine's CPU, not on Graviton; "
                        "prices and the INIT figure are arm64's")
    return warnings


def status(tier: TierResult) -> str:
    if tier.init_error is not None and not tier.oom and not tier.timed_out:
        return "init error"
    if tier.oom:
        return "OOM"
    if tier.timed_out:
        return "timed out"
    if tier.errors:
        return f"errors {tier.errors}/{len(tier.warm_ms) + (tier.first_ms is not None)}"
    return "ok"


def _r(value: Optional[float], digits: int = 2) -> Optional[float]:
    return None if value is None else round(value, digits)


def tier_dict(row: TierRow, init: Optional[InitEstimate]) -> dict:
    """One tier in the JSON output: the documented keys first, details after."""
    t = row.result
    cpu_p50 = sorted(t.warm_cpu_ms)[len(t.warm_cpu_ms) // 2] if t.warm_cpu_ms else None
    return {
        "memory_mb": t.memory_mb,
        "init_ms": _r(t.init_ms),
        "duration_ms_p50": _r(t.p50_ms, 3),
        "duration_ms_p95": _r(t.p95_ms, 3),
        "billed_ms": _r(t.billed_ms, 1),
        "peak_rss_mb": _r(t.peak_rss_mb, 1),
        "oom": t.oom,
        "timed_out": t.timed_out,
        "monthly_cost_usd": None if row.cost_usd is None else round(float(row.cost_usd), 6),
        "status": status(t),
        "cpu_share": round(t.cpu_share, 4),
        "init_interpreter_ms": _r(t.interpreter_ms),
        "init_import_ms": _r(t.import_ms, 3),
        "init_lambda_estimate_ms": _r(init.total_ms) if init and t.init_error is None else None,
        "duration_ms_mean": _r(t.mean_ms, 3),
        "first_invocation_ms": _r(t.first_ms, 3),
        "cpu_ms_p50": _r(cpu_p50, 3),
        "contention": round(t.contention, 4),
        "invocations_run": len(t.warm_ms) + (t.first_ms is not None),
        "errors": t.errors,
        "error": t.error,
        "result": t.result,
        "log_tail": t.log_tail if t.error else None,
    }


def to_json(report: ProfileReport) -> dict:
    spec, inputs = report.run.spec, report.cost_inputs
    return {
        "handler": spec.handler.text,
        "event": spec.event_label,
        "backend": report.run.backend.to_dict(),
        "invocations": spec.invocations,
        "timeout_s": spec.timeout_s,
        "requests_per_month": inputs.requests_per_month,
        "arch": inputs.arch,
        "region": inputs.region,
        "cold_start_rate": inputs.cold_start_rate,
        "free_tier": inputs.free_tier,
        "init_estimate": report.init.to_dict() if report.init else None,
        "cost_uses_init": "init_lambda_estimate_ms",
        "tiers": [tier_dict(row, report.init) for row in report.rows],
        "recommendation": report.recommendation.to_dict(),
        "balanced_weight": report.recommendation.weight,
        "warnings": report.warnings,
    }


def render_json(report: ProfileReport) -> str:
    return json.dumps(to_json(report), indent=2)


def _fmt(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _money(value: Optional[Decimal]) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value >= 1 else f"{value:.4f}"


_COLUMNS = ("memory", "vCPU", "init local", "init Lambda", "p50 ms", "p95 ms", "billed ms",
            "peak MB", "$/month", "status")


def _table_rows(report: ProfileReport) -> list:
    init_total = report.init.total_ms if report.init else None
    rows = []
    for row in report.rows:
        t = row.result
        rows.append((f"{t.memory_mb} MB", f"{t.cpu_share:.2f}", _fmt(t.init_ms),
                     _fmt(init_total if t.init_error is None else None), _fmt(t.p50_ms, 2),
                     _fmt(t.p95_ms, 2), _fmt(t.billed_ms), _fmt(t.peak_rss_mb),
                     _money(row.cost_usd), status(t)))
    return rows


def _table(report: ProfileReport) -> list:
    rows = [_COLUMNS] + _table_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:-1], widths[1:-1])] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return lines


def _init_lines(report: ProfileReport) -> list:
    lines = ["init local = interpreter start-up + handler import, measured here without the tier's CPU "
             "limit (Lambda's INIT is flat across memory sizes)."]
    init = report.init
    if init is not None:
        note = f" ({init.note})" if init.note else ""
        lines.append(f"init Lambda = {init.runtime_ms:.1f} ms published {init.runtime} zip {init.arch} "
                     f"hello-world INIT{note} + {init.import_ms:.1f} ms measured import of the handler module.")
        lines.append(f"The cost uses init Lambda, billed on {report.cost_inputs.cold_start_rate:.1%} of requests "
                     f"(cold starts).")
    return lines


def _recommendation_lines(report: ProfileReport) -> list:
    rec, by_mb = report.recommendation, {r.result.memory_mb: r for r in report.rows}
    if rec.cost is None:
        return ["Recommendation: none (no memory size completed its invocations)."]
    lines = ["Recommendation (as AWS Lambda Power Tuning):"]
    for name, mb in (("cost", rec.cost), ("speed", rec.speed), ("balanced", rec.balanced)):
        row = by_mb[mb]
        lines.append(f"  {name:<9}{mb:>6} MB   ${_money(row.cost_usd)}/month, {_fmt(row.result.mean_ms, 2)} ms")
    lines.append(f"  (balanced minimises {rec.weight:g} * cost/max cost + {1 - rec.weight:g} * duration/max duration)")
    return lines


def _error_lines(report: ProfileReport) -> list:
    lines = []
    for row in report.rows:
        error = row.result.error
        if not error:
            continue
        lines.append(f"{row.result.memory_mb} MB: {error.get('errorType')}: {error.get('errorMessage')}")
        trace = error.get("stackTrace") or []
        if trace:
            lines.append("  Traceback (most recent call last):")
            lines.extend("  " + line.rstrip("\n").replace("\n", "\n  ") for line in trace)
        if error.get("errorType") == "Runtime.ExitError" and row.result.log_tail:
            lines.append("  last lines of the function's output:")
            lines.extend("    " + line for line in row.result.log_tail.splitlines()[-10:])
    return lines


def render_text(report: ProfileReport) -> str:
    spec, inputs = report.run.spec, report.cost_inputs
    free = "with" if inputs.free_tier else "without"
    lines = [
        f"lambdalint profile {spec.handler.text}  (event: {spec.event_label})",
        f"backend: {report.run.backend.describe()}",
        f"{spec.invocations} warm invocation{'s' if spec.invocations != 1 else ''} per memory size after the "
        f"first; timeout {spec.timeout_s:g} s; {inputs.requests_per_month:,} requests/month; {inputs.arch}; "
        f"{inputs.region}; {free} free tier",
        "",
        *_table(report),
        "",
        *_init_lines(report),
        "p50/p95 over the warm invocations; billed ms and the cost use their trimmed mean (20% dropped at "
        "each end, as Power Tuning does).",
        "",
        *_recommendation_lines(report),
    ]
    errors = _error_lines(report)
    if errors:
        lines += ["", "Errors (first per memory size, as Lambda returns them):", *errors]
    if report.warnings:
        lines += ["", *[f"warning: {w}" for w in report.warnings]]
    return "\n".join(lines)


# --- HTML -----------------------------------------------------------------------------------

_W, _H = 760, 380
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 78, 40, 64
_COST_COLOUR, _DURATION_COLOUR, _FAIL_COLOUR = "#1f6fb4", "#c2410c", "#9b1c1c"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at least `value` (axis maximum)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _x_positions(memories: list) -> dict:
    """Memory on a log scale (the sizes people try are roughly powers of two)."""
    lo, hi = math.log2(min(memories)), math.log2(max(memories))
    span = _W - _LEFT - _RIGHT
    if hi == lo:
        return {m: _LEFT + span / 2 for m in memories}
    return {m: _LEFT + (math.log2(m) - lo) / (hi - lo) * span for m in memories}


def _y(value: float, maximum: float) -> float:
    return _H - _BOTTOM - value / maximum * (_H - _TOP - _BOTTOM)


def _axis(maximum: float, x: float, anchor: str, colour: str, fmt) -> list:
    parts = []
    for i in range(6):
        value = maximum * i / 5
        y = _y(value, maximum)
        dx = -8 if anchor == "end" else 8
        parts.append(f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" fill="{colour}">'
                     f'{html.escape(fmt(value))}</text>')
        if anchor == "end":
            parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
    return parts


def _series(points: list, maximum: float, colour: str, marker: str) -> list:
    if not points:
        return []
    coords = " ".join(f"{x:.1f},{_y(v, maximum):.1f}" for x, v, _ in points)
    parts = [f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>']
    for x, v, title in points:
        y = _y(v, maximum)
        shape = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">' if marker == "circle" else
                 f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">')
        closing = "</circle>" if marker == "circle" else "</rect>"
        parts.append(f"{shape}<title>{html.escape(title)}</title>{closing}")
    return parts


def render_svg(report: ProfileReport) -> str:
    """Cost ($/month, left axis) and duration (ms, right axis) against memory, as an inline SVG."""
    rows = report.rows
    xs = _x_positions([r.result.memory_mb for r in rows])
    priced = [r for r in rows if r.cost_usd is not None]
    max_cost = nice_ceiling(max((float(r.cost_usd) for r in priced), default=0.0) * 1.05)
    max_ms = nice_ceiling(max((r.result.mean_ms for r in priced), default=0.0) * 1.05)
    cost_pts = [(xs[r.result.memory_mb], float(r.cost_usd),
                 f"{r.result.memory_mb} MB: ${float(r.cost_usd):,.4f}/month") for r in priced]
    ms_pts = [(xs[r.result.memory_mb], r.result.mean_ms,
               f"{r.result.memory_mb} MB: {r.result.mean_ms:,.2f} ms") for r in priced]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
             f'role="img" aria-label="Monthly cost and duration against memory size">',
             '<style>text{font:12px sans-serif}.grid{stroke:#e5e7eb}.axis{stroke:#6b7280}</style>']
    parts += _axis(max_cost, _LEFT, "end", _COST_COLOUR, lambda v: f"${v:,.2f}")
    parts += _axis(max_ms, _W - _RIGHT, "start", _DURATION_COLOUR, lambda v: f"{v:,.0f} ms")
    base = _H - _BOTTOM
    parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{base}" y2="{base}" class="axis"/>')
    for row in rows:
        x, tier = xs[row.result.memory_mb], row.result
        parts.append(f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle">{tier.memory_mb}</text>')
        if row.cost_usd is None:
            parts.append(f'<text x="{x:.1f}" y="{base - 8}" text-anchor="middle" fill="{_FAIL_COLOUR}">'
                         f'✕ {html.escape(status(tier))}</text>')
    parts.append(f'<text x="{(_LEFT + _W - _RIGHT) / 2:.1f}" y="{_H - 18}" text-anchor="middle">memory (MB)</text>')
    parts += _series(cost_pts, max_cost, _COST_COLOUR, "circle")
    parts += _series(ms_pts, max_ms, _DURATION_COLOUR, "square")
    parts += _recommendation_marks(report, xs, max_cost)
    parts.append(f'<circle cx="{_LEFT + 6}" cy="16" r="4.5" fill="{_COST_COLOUR}"/>'
                 f'<text x="{_LEFT + 16}" y="20">cost, $/month (left)</text>'
                 f'<rect x="{_LEFT + 196}" y="12" width="8" height="8" fill="{_DURATION_COLOUR}"/>'
                 f'<text x="{_LEFT + 210}" y="20">duration, trimmed mean ms (right)</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _recommendation_marks(report: ProfileReport, xs: dict, max_cost: float) -> list:
    rec, costs = report.recommendation, {r.result.memory_mb: r.cost_usd for r in report.rows}
    labels: dict = {}
    for name, mb in (("cost", rec.cost), ("speed", rec.speed), ("balanced", rec.balanced)):
        if mb is not None:
            labels.setdefault(mb, []).append(name)
    parts = []
    for mb, names in labels.items():
        x, y = xs[mb], _y(float(costs[mb]), max_cost)
        parts.append(f'<text x="{x:.1f}" y="{max(_TOP + 12, y - 12):.1f}" text-anchor="middle" '
                     f'font-weight="bold">★ {html.escape(" + ".join(names))}</text>')
    return parts


_CSS = ("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111827}"
        "table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .7em;border-bottom:1px solid #e5e7eb;"
        "text-align:right}th:first-child,td:first-child,td:last-child{text-align:left}"
        "pre{background:#f3f4f6;padding:.8em;overflow:auto}.warn{color:#92400e}code{font-size:95%}")


def render_html(report: ProfileReport) -> str:
    """A self-contained page: the chart, the table, the notes, errors and warnings."""
    spec, esc = report.run.spec, html.escape
    header = "".join(f"<th>{esc(c)}</th>" for c in _COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in _table_rows(report))
    notes = "".join(f"<p>{esc(line)}</p>" for line in _init_lines(report))
    rec = "<br>".join(esc(line) for line in _recommendation_lines(report))
    errors = _error_lines(report)
    warnings = "".join(f'<p class="warn">warning: {esc(w)}</p>' for w in report.warnings)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>lambdalint profile {esc(spec.handler.text)}</title><style>{_CSS}</style></head><body>",
        f"<h1>lambdalint profile <code>{esc(spec.handler.text)}</code></h1>",
        f"<p>event: <code>{esc(spec.event_label)}</code><br>backend: {esc(report.run.backend.describe())}<br>"
        f"{spec.invocations} warm invocations per memory size; timeout {spec.timeout_s:g} s; "
        f"{report.cost_inputs.requests_per_month:,} requests/month; {esc(report.cost_inputs.arch)}; "
        f"{esc(report.cost_inputs.region)}</p>",
        render_svg(report),
        f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>",
        notes, f"<p>{rec}</p>",
        f"<h2>Errors</h2><pre>{esc(chr(10).join(errors))}</pre>" if errors else "",
        warnings,
        f"<p><small>INIT baseline: {esc(INIT_SOURCE)}.</small></p>",
        "</body></html>",
    ])
