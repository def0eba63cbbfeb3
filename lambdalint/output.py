"""Formatters: functions from findings to text. Only SARIF knows of rules (the catalog is passed
in) and of the files on disk (its fingerprints read the offending line)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import quote

from . import __version__
from .baseline import fingerprints, relative_path
from .catalog import RuleInfo
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
    return "\n".join(_annotation(f) for f in findings)


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _annotation(f: Finding) -> str:
    props = [f"file={_escape_property(f.path.replace(os.sep, '/'))}", f"line={f.line}", f"col={f.column}"]
    if f.end_line >= f.line:
        props.append(f"endLine={f.end_line}")
        # GitHub reads columns only on a one-line annotation.
        if f.end_line == f.line and f.end_column > f.column:
            props.append(f"endColumn={f.end_column}")
    title = f"{f.code} {f.name}" if f.name else f.code
    props.append(f"title={_escape_property(title)}")
    return f"::{_GITHUB_LEVEL[f.severity.value]} {','.join(props)}::{_escape_data(f.message)}"


def _escape_data(value: str) -> str:
    # The runner decodes these three in a command's message (see actions/toolkit's command.ts).
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    # Properties are split on ',' and the message starts after '::', so those are escaped too.
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


# -- SARIF 2.1.0 ------------------------------------------------------------------------------
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_FAMILY_TAGS = {"1": "global-state", "2": "idempotency", "3": "timeouts", "4": "package-size",
                "5": "cold-start", "6": "runtime-config", "9": "tool-error"}


def sarif(findings: Sequence[Finding], rules: Mapping[str, RuleInfo], tool_version: str = __version__, *,
          information_uri: str | None = None, root: str | None = None) -> str:
    """A SARIF 2.1.0 log for GitHub code scanning (and any SARIF viewer).

    Rule ids are the stable LAM codes; file URIs are relative to `root` (default: the working
    directory) under the %SRCROOT% base, so run it from the repository root; each result carries
    a `partialFingerprints` entry that survives code moving up or down the file.
    """
    root_dir = os.path.abspath(root or os.getcwd())
    descriptors = [_rule_descriptor(rule) for _, rule in sorted(rules.items())]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    for code in sorted({f.code for f in findings} - set(index)):  # a code missing from the catalog
        index[code] = len(descriptors)
        descriptors.append({"id": code, "shortDescription": {"text": code}})
    driver: dict = {"name": "lambdalint", "version": tool_version, "semanticVersion": tool_version,
                    "rules": descriptors}
    if information_uri:
        driver["informationUri"] = information_uri
    fps = fingerprints(findings, Path(root_dir))
    run = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root_dir).as_uri().rstrip("/") + "/"}},
        # The engine (libcst) counts columns in characters, not in UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(f, index[f.code], fp, root_dir) for f, fp in zip(findings, fps)],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False)


def _rule_descriptor(rule: RuleInfo) -> dict:
    why = rule.rationale or rule.summary
    text = f"{why}\n\nWhat to do: {rule.fix}" if rule.fix else why
    markdown = [f"**{rule.summary}**", "", why]
    if rule.bad:
        markdown += ["", "Example:", "", "```python", rule.bad, "```"]
    if rule.good:
        markdown += ["", "Use instead:", "", "```python", rule.good, "```"]
    if rule.fix:
        markdown += ["", f"**What to do:** {rule.fix}"]
    if rule.known_problems:
        markdown += ["", f"**Known problems:** {rule.known_problems}"]
    markdown += ["", f"Suppress on one line with `# noqa: {rule.code}`; `lambdalint rule {rule.code}` prints this documentation."]
    descriptor: dict = {
        "id": rule.code,
        "name": rule.name or rule.code,
        "shortDescription": {"text": rule.summary or rule.code},
        "fullDescription": {"text": why},
        "help": {"text": text, "markdown": "\n".join(markdown)},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity.value], "enabled": rule.default_enabled},
        "properties": {"tags": ["aws-lambda", _FAMILY_TAGS.get(rule.code[3], "lambdalint")]},
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def _sarif_result(f: Finding, rule_index: int, fingerprint: str, root_dir: str) -> dict:
    # SARIF counts from 1 and its endColumn is exclusive, as the engine's end_column is.
    region: dict = {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)}
    if f.end_line > f.line or (f.end_line == f.line and f.end_column > f.column):
        region["endLine"] = f.end_line
        if f.end_column >= 1:
            region["endColumn"] = f.end_column
    result: dict = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[f.severity.value],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(f.path, root_dir), "region": region}}],
        "partialFingerprints": {"lambdalint/v1": fingerprint},
    }
    if f.chain:
        result["properties"] = {"callChain": list(f.chain)}
    return result


def _artifact(path: str, root_dir: str) -> dict:
    rel = relative_path(path, root_dir)
    if os.path.isabs(rel):  # outside the source root: an absolute file URI, no base id
        return {"uri": Path(rel).as_uri()}
    return {"uri": quote(rel, safe="/"), "uriBaseId": "%SRCROOT%"}
