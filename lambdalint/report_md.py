"""The CI report: Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`, and plain text.

Pure functions from a `CiResult` to text. Every dollar figure sits beside the inputs it was
computed from (memory, architecture, requests, duration, where they came from), Infracost
style, so a reviewer can check a number instead of trusting it.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Sequence

from .ci import USAGE_UNKNOWN, CiResult, CostTable, FunctionCost, Verdict, severity_counts, signed_money
from .cli_cost import money, quantity

MAX_LISTED_FINDINGS = 50  # a PR comment has a size limit (65,536 characters on GitHub)
_SEVERITIES = ("error", "warning", "info")


def _cell(text: object) -> str:
    """Table-cell safe: no pipes or newlines break the Markdown table."""
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 or word == 'info' else 's'}"


# -- Markdown -----------------------------------------------------------------------------

def render_markdown(result: CiResult) -> str:
    sections = [_heading(result), _findings_section(result), _cost_section(result)]
    if result.verdicts:
        sections.append(_budget_section(result.verdicts))
    return "\n\n".join(s for s in sections if s).rstrip() + "\n"


def _heading(result: CiResult) -> str:
    status = "✅ passed" if result.passed else "❌ failed"
    reasons = []
    if result.blocking:
        reasons.append(f"{_plural(len(result.blocking), 'finding')} at or above `{result.fail_on}`")
    reasons += [f"budget exceeded: {v.check} {v.actual} (limit {v.limit})" for v in result.failed_budgets]
    if result.fail_on == "never":
        gate = "findings are reported but do not fail it (`--fail-on never`); budgets do"
    else:
        gate = f"fails on findings of severity `{result.fail_on}` or above and on `[tool.lambdalint.budget]` limits"
    lines = [f"## lambdalint: {status}", "", f"Gate: {gate}."]
    if reasons:
        lines += ["", *(f"- {r}" for r in reasons)]
    return "\n".join(lines)


def _findings_section(result: CiResult) -> str:
    findings = result.findings
    counts = severity_counts(findings)
    summary = " · ".join(_plural(counts[s], s) for s in _SEVERITIES)
    lines = ["### Findings", "", f"{summary} in {_plural(result.files_checked, 'file')} checked."]
    if not findings:
        return "\n".join(lines)
    lines += ["", "| code | rule | severity | count |", "|---|---|---|--:|"]
    by_code = Counter((f.code, f.name, f.severity.value) for f in findings)
    order = sorted(by_code, key=lambda k: (-_SEVERITIES[::-1].index(k[2]), k[0]))
    lines += [f"| {code} | `{name}` | {severity} | {by_code[(code, name, severity)]} |" for code, name, severity in order]
    shown = sorted(findings, key=lambda f: (-f.severity.rank, f.path, f.line, f.code))[:MAX_LISTED_FINDINGS]
    more = len(findings) - len(shown)
    lines += ["", f"<details><summary>{'All ' if not more else ''}{_plural(len(shown), 'finding')}"
                  f"{f' of {len(findings)}' if more else ''}</summary>", "",
              "| where | code | message |", "|---|---|---|"]
    lines += [f"| `{_cell(f.path)}:{f.line}` | {f.code} | {_cell(f.message)} |" for f in shown]
    lines += ["", "</details>"]
    return "\n".join(lines)


_COLUMNS = ("function", "memory", "arch", "requests/mo", "avg duration", "GB-s", "monthly")


def _cost_section(result: CiResult) -> str:
    table = result.cost
    if not table.functions:
        return ("### Monthly Lambda cost\n\nNo functions found: add a SAM/CloudFormation template or "
                "serverless.yml, or `[tool.lambdalint.functions.NAME]` tables.")
    with_base = result.base is not None
    header = [*_COLUMNS, *(("base", "change") if with_base else ())]
    align = ["---", "--:", "---", "--:", "--:", "--:", "--:", *(("--:", "--:") if with_base else ())]
    lines = ["### Monthly Lambda cost", "", "| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    names = list(dict.fromkeys([*table.functions, *(result.base.functions if result.base else {})]))
    for name in names:
        lines.append("| " + " | ".join(_cost_row(result, name)) + " |")
    lines.append("| " + " | ".join(_total_row(result)) + " |")
    lines += _cost_notes(result)
    return "\n".join(lines)


def _cost_row(result: CiResult, name: str) -> list[str]:
    row = result.cost.functions.get(name)
    before = result.base.functions.get(name) if result.base else None
    if row is None:  # removed since the base
        cells = [f"~~{_cell(name)}~~ (removed)", "", "", "", "", "", "$0.00"]
    elif row.breakdown is None:
        cells = [_cell(name), *_configuration(row), _cell(row.unpriced or USAGE_UNKNOWN), "", "", "–"]
    else:
        b, u = row.breakdown, row.usage
        assert u is not None
        cells = [_cell(name), f"{u.memory_mb:,} MB", u.arch, quantity(u.requests),
                 f"{quantity(u.duration_ms)} ms", quantity(b.gb_seconds + b.init_gb_seconds), money(b.total_usd)]
    if result.base is not None:
        base_total = before.total if before is not None else None
        cells.append("new" if before is None else (money(base_total) if base_total is not None else "unknown"))
        cells.append(_change(result, name, row, before))
    return cells


def _configuration(row: FunctionCost) -> list[str]:
    """Memory and architecture of a function that has no figure, when they are known."""
    return [f"{row.memory_mb:,} MB" if row.memory_mb else "", row.arch or ""]


def _change(result: CiResult, name: str, row: FunctionCost | None, before: FunctionCost | None) -> str:
    delta = result.delta(name)
    if delta is None:
        return "–"
    why = _input_changes(before.usage if before else None, row.usage if row else None)
    if not why and delta and before is not None and row is not None:
        why = "same inputs: its share of the free tier changed"
    return signed_money(delta) + (f" ({why})" if why else "")


def _input_changes(before, now) -> str:
    """Which inputs changed between the base and now, e.g. "memory 512 → 1,024 MB"."""
    if before is None or now is None:
        return ""
    changes = []
    for attr, label, unit in (("memory_mb", "memory", " MB"), ("arch", "arch", ""),
                              ("requests", "requests", ""), ("duration_ms", "duration", " ms"),
                              ("region", "region", "")):
        old, new = getattr(before, attr), getattr(now, attr)
        if old != new:
            fmt = (lambda v: quantity(Decimal(v))) if isinstance(new, (int, Decimal)) else str
            changes.append(f"{label} {fmt(old)} → {fmt(new)}{unit}")
    return ", ".join(changes)


def _total_row(result: CiResult) -> list[str]:
    cells = ["**total**", "", "", "", "", "", f"**{money(result.cost.total)}**"]
    if result.base is not None:
        delta = result.cost.total - result.base.total
        percent = f" ({delta / result.base.total * 100:+.1f}%)" if result.base.total else ""
        cells += [money(result.base.total), f"**{signed_money(delta)}**{percent}"]
    return cells


def _cost_notes(result: CiResult) -> list[str]:
    table = result.cost
    lines = [""]
    inputs = [f"`{_cell(r.name)}`: {', '.join(r.sources)}" for r in table.functions.values() if r.sources]
    if inputs:
        lines.append("Inputs: " + "; ".join(inputs) + ".")
    notes = [f"`{_cell(r.name)}`: {_cell(n)}" for r in table.functions.values() for n in r.notes]
    unknown = [f"`{_cell(r.name)}`" for r in table.functions.values() if r.unpriced == USAGE_UNKNOWN]
    if unknown:
        notes.append(f"usage unknown for {', '.join(unknown)}: add `requests` and `duration-ms` under "
                     f"`[tool.lambdalint.functions.NAME]`, or pass `--profile-json` from `lambdalint profile`")
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    lines += ["", _pricing_line(table) + " Per month; the free tier is shared by the priced functions; "
              "GB-s includes INIT. `lambdalint cost --function NAME` shows one function's arithmetic."]
    if result.base_ref:
        if result.base is not None:
            lines.append(f"Base: the configuration at `{_cell(result.base_ref)}`, priced with the same usage inputs.")
        else:
            lines.append(f"Base `{_cell(result.base_ref)}`: not priced ({_cell(result.base_error or 'unknown error')}).")
    caveats = table.summary.caveats if table.summary else ()
    lines += [f"> {_cell(c)}" for c in caveats]
    return lines


def _pricing_line(table: CostTable) -> str:
    tables = {b.table.region: b.table for f in table.functions.values() if (b := f.breakdown) is not None}
    if not tables:
        return "Nothing priced."
    return "Prices: " + ", ".join(f"{t.region} (as of {t.as_of})" for t in tables.values()) + "."


def _budget_section(verdicts: Sequence[Verdict]) -> str:
    mark = {True: "✅ pass", False: "❌ over", None: "➖ not evaluated"}
    lines = ["### Budget", "", "| check | limit | actual | result |", "|---|--:|--:|---|"]
    for v in verdicts:
        detail = f" ({_cell(v.detail)})" if v.detail else ""
        lines.append(f"| {_cell(v.check)} | {v.limit} | {v.actual} | {mark[v.passed]}{detail} |")
    return "\n".join(lines)


# -- plain text ---------------------------------------------------------------------------

def render_text(result: CiResult) -> str:
    from .output import text as findings_text

    lines = [findings_text(result.findings, result.files_checked), ""]
    lines += _text_costs(result)
    if result.verdicts:
        lines += ["", "budget:"]
        word = {True: "pass", False: "OVER", None: "not evaluated"}
        lines += [f"  {v.check}: {v.actual} (limit {v.limit}) {word[v.passed]}{f' — {v.detail}' if v.detail else ''}"
                  for v in result.verdicts]
    lines += ["", _verdict_line(result)]
    return "\n".join(lines)


def _text_costs(result: CiResult) -> list[str]:
    rows = [("function", "memory", "arch", "requests/mo", "duration", "monthly", *(("change",) if result.base else ()))]
    for name, row in result.cost.functions.items():
        u = row.usage
        if row.breakdown is None or u is None:
            cells = (name, f"{row.memory_mb:,} MB" if row.memory_mb else "", row.arch or "",
                     row.unpriced or USAGE_UNKNOWN, "", "-")
        else:
            cells = (name, f"{u.memory_mb:,} MB", u.arch, quantity(u.requests), f"{quantity(u.duration_ms)} ms",
                     money(row.breakdown.total_usd))
        if result.base is not None:
            delta = result.delta(name)
            cells += ("-" if delta is None else signed_money(delta),)
        rows.append(cells)
    total = ("total", "", "", "", "", money(result.cost.total))
    if result.base is not None:
        total += (signed_money(result.cost.total - result.base.total),)
    rows.append(total)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["monthly cost:"]
    for r in rows:
        cells = (c.ljust(w) if i in (0, 2) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        out.append(("  " + "  ".join(cells)).rstrip())
    out += [f"  note: {row.name}: {n}" for row in result.cost.functions.values() for n in row.notes]
    if any(row.unpriced == USAGE_UNKNOWN for row in result.cost.functions.values()):
        out.append("  usage unknown: add requests and duration-ms under [tool.lambdalint.functions.NAME], "
                   "or pass --profile-json")
    if result.base_ref and result.base is None:
        out.append(f"  base {result.base_ref}: not priced ({result.base_error})")
    return out


def _verdict_line(result: CiResult) -> str:
    if result.passed:
        return "lambdalint ci: passed"
    parts = []
    if result.blocking:
        parts.append(f"{_plural(len(result.blocking), 'finding')} at or above {result.fail_on}")
    if result.failed_budgets:
        parts.append(f"{_plural(len(result.failed_budgets), 'budget')} exceeded")
    return "lambdalint ci: FAILED (" + ", ".join(parts) + ")"
