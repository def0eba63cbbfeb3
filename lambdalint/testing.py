"""Helpers to test rules on code snippets and fixture trees with inline expectations.

An expectation is a trailing comment on the line a finding must point at:
`# expect: LAM101` or `# expect: LAM201, LAM303`. A file that cannot carry a trailing comment
(it does not parse, or is not UTF-8) states it on its first line: `# expect-file: LAM901 at 5`.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Iterable

from .config import Config
from .engine.runner import Checker
from .findings import Finding
from .selection import enabled_codes

_EXPECT = re.compile(rb"#\s*expect:\s*(LAM\d{3}(?:\s*,\s*LAM\d{3})*)")
_EXPECT_FILE = re.compile(rb"#\s*expect-file:\s*(LAM\d{3})\s+at\s+(\d+)")


def expectations(path: Path, shown: str | None = None) -> set[tuple[str, int, str]]:
    """(path, line, code) triples a file asks for."""
    data = path.read_bytes()
    shown = shown or str(path)
    out = set()
    first = data.split(b"\n", 1)[0]
    match = _EXPECT_FILE.search(first)
    if match:
        out.add((shown, int(match.group(2)), match.group(1).decode()))
        return out
    for number, line in enumerate(data.splitlines(), 1):
        match = _EXPECT.search(line)
        if match:
            for code in re.split(rb"\s*,\s*", match.group(1)):
                out.add((shown, number, code.decode()))
    return out


def check_tree(root: Path, select: Iterable[str] = (), config: Config | None = None) -> list[Finding]:
    config = config or Config(root=root)
    enabled = enabled_codes(select=list(select) or ["LAM"])
    # No cache: these helpers test the analysis itself (and must not leave .lambdalint_cache/
    # directories in fixture trees).
    return Checker(config, enabled, jobs=1, cache=False).run([root]).findings


def check_snippet(source: str, tmp_path: Path, name: str = "app.py", select: Iterable[str] = ()) -> list[Finding]:
    """Write one module into an empty directory and check it."""
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return check_tree(tmp_path, select)
