"""Formatters: pure functions from findings to text. They know nothing of rules."""

from __future__ import annotations

import json
from collections import Counter
from typing import Sequence

from . import __version__
from .findings import Finding


def text(findings: Sequence[Finding], files_checked: int, *, statistics: bool = False) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in findings]
    if statistics and findings:
        lines.append("")
        for code, count in sorted(Counter(f.code for f in findings).items()):
            name = next((f.name for f in findings if f.code == code), "")
            lines.append(f"{count:5d}  {code}  {name}")
    lines.append(summary_line(findings, files_checked))
    return "\n".join(lines)


def summary_line(findings: Sequence[Finding], files_checked: int) -> str:
    files = f"{files_checked} file{'s' if files_checked != 1 else ''} checked"
    if not findings:
        return f"No findings; {files}."
    by = Counter(f.severity.value for f in findings)
    parts = ", ".join(f"{by[s]} {s}{'s' if by[s] != 1 else ''}" for s in ("error", "warning", "info") if by[s])
    return f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({parts}) in {len({f.path for f in findings})} of {files}."


def as_json(findings: Sequence[Finding], files_checked: int) -> str:
    payload = {
        "version": __version__,
        "files_checked": files_checked,
        "findings": [
            {
                "path": f.path, "line": f.line, "column": f.column, "end_line": f.end_line,
                "end_column": f.end_column, "code": f.code, "name": f.name,
                "severity": f.severity.value, "message": f.message,
            }
            for f in findings
        ],
        "summary": dict(Counter(f.code for f in findings)),
    }
    return json.dumps(payload, indent=2)


def github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: one annotation per finding on the PR diff."""
    level = {"error": "error", "warning": "warning", "info": "notice"}

    def esc(value: str, prop: bool = False) -> str:
        value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return value.replace(":", "%3A").replace(",", "%2C") if prop else value

    return "\n".join(
        f"::{level[f.severity.value]} file={esc(f.path, True)},line={f.line},col={f.column},"
        f"title={esc(f.code + ' ' + f.name, True)}::{esc(f.message)}"
        for f in findings
    )
