"""Baselines: record today's findings so a legacy repository can adopt the gate and fail only on
new ones, and the line-shift-tolerant fingerprints that baselines and SARIF share.

A finding's identity is its rule code, its file, the text of the line it points at (whitespace
normalised) and its rank among findings with that same code, file and text. Line and column
numbers are left out, so code added above a finding does not make it new; the message is left
out, so a changed timeout in the config or a reworded message does not either. Editing the
offending line itself does make it new: that is a change worth a look.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import LambdalintError
from .findings import Finding

FORMAT_VERSION = 1


# -- fingerprints ---------------------------------------------------------------------------
def fingerprints(findings: Sequence[Finding], base: Path | None = None) -> list[str]:
    """One stable fingerprint per finding (same order). Paths are taken relative to `base`
    (default: the working directory), so the same tree checked from the same place matches."""
    base_dir = os.path.abspath(base or os.getcwd())
    lines = _LineCache()
    keys = [(f.code, relative_path(f.path, base_dir), lines.text(f.path, f.line)) for f in findings]
    # The rank among identical keys, counted in (line, column) order, tells apart two findings
    # of one rule on two identical lines of a file.
    order = sorted(range(len(findings)), key=lambda i: (keys[i], findings[i].line, findings[i].column))
    seen: Counter = Counter()
    result = [""] * len(findings)
    for index in order:
        key = keys[index]
        result[index] = _digest(*key, str(seen[key]))
        seen[key] += 1
    return result


def relative_path(path: str, base_dir: str) -> str:
    """`path` relative to `base_dir` with forward slashes; absolute when it lies outside."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, base_dir)
    except ValueError:  # another drive on Windows
        rel = absolute
    if rel.startswith(".."):
        rel = absolute
    return rel.replace(os.sep, "/")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _LineCache:
    """Lines of the files findings point at, read once each; unreadable files give ''."""

    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def text(self, path: str, line: int) -> str:
        lines = self._files.get(path)
        if lines is None:
            try:
                with open(path, "rb") as fh:
                    lines = fh.read().decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            self._files[path] = lines
        if 1 <= line <= len(lines):
            return " ".join(lines[line - 1].split())
        return ""


# -- the baseline file ----------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    """Fingerprints of accepted findings, with multiplicity (each entry absorbs one finding)."""

    path: Path
    counts: Counter

    @property
    def size(self) -> int:
        return sum(self.counts.values())


def write(path: Path, findings: Sequence[Finding]) -> int:
    """Record `findings` in `path`; returns how many. Paths inside are relative to the
    baseline's folder, so it keeps matching when lambdalint runs from another directory."""
    base = path.resolve().parent
    entries = [
        {"fingerprint": fp, "code": f.code, "path": relative_path(f.path, str(base)), "message": f.message}
        for f, fp in zip(findings, fingerprints(findings, base))
    ]
    entries.sort(key=lambda e: (e["path"], e["code"], e["fingerprint"]))
    payload = {"version": FORMAT_VERSION, "tool": "lambdalint", "lambdalint_version": __version__,
               "findings": entries}
    try:
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise LambdalintError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(entries)


def read(path: Path) -> Baseline:
    """Load a baseline written by `write`; a missing or malformed file is a usage error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LambdalintError(f"{path}: baseline not found; create it with `lambdalint check --write-baseline {path}`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LambdalintError(f"{path}: cannot read the baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise LambdalintError(f"{path}: the baseline is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or not isinstance(data.get("findings"), list):
        raise LambdalintError(f"{path}: not a lambdalint baseline (version {FORMAT_VERSION}); re-create it with --write-baseline")
    counts: Counter = Counter()
    for entry in data["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise LambdalintError(f"{path}: a baseline entry has no fingerprint; re-create it with --write-baseline")
        counts[entry["fingerprint"]] += 1
    return Baseline(path, counts)


def filter_new(findings: Sequence[Finding], baseline: Baseline) -> list[Finding]:
    """The findings the baseline does not account for."""
    return split(findings, baseline)[0]


def split(findings: Sequence[Finding], baseline: Baseline) -> tuple[list[Finding], int]:
    """(new findings, how many baseline entries matched nothing: fixed since it was written)."""
    left = Counter(baseline.counts)
    new = []
    for finding, fp in zip(findings, fingerprints(findings, baseline.path.resolve().parent)):
        if left[fp] > 0:
            left[fp] -= 1
        else:
            new.append(finding)
    return new, sum(left.values())
