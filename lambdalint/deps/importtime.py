"""Measure what importing a handler module costs, the part of a cold start its code controls.

Since August 2025 Lambda bills the INIT phase of zip functions on managed runtimes, and INIT is
mostly imports. The module is imported in a fresh interpreter with `python -X importtime`
several times, and the median of each module's self and cumulative time is reported.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..errors import LambdalintError

# `import time: self [us] | cumulative | imported package`; nesting is two spaces per level.
_LINE = re.compile(r"^import time:\s+(\d+)\s*\|\s*(\d+)\s*\|( +)(\S.*?)\s*$")
_RUN_TIMEOUT = 120.0


@dataclass(frozen=True)
class ImportTiming:
    module: str
    self_us: float  # medians over the runs, microseconds
    cumulative_us: float
    depth: int  # 1 = imported directly by the handler module

    def to_dict(self) -> dict:
        return {"module": self.module, "self_ms": round(self.self_us / 1000, 3),
                "cumulative_ms": round(self.cumulative_us / 1000, 3), "depth": self.depth}


@dataclass(frozen=True)
class ImportTimeReport:
    handler: Path
    module: str
    runs: int
    total_ms: float  # median cumulative import time of the handler module itself
    imports: tuple[ImportTiming, ...]  # everything the handler's import pulled in
    python: str
    own_ms: float = 0.0  # the handler module's own top-level code (clients made at import, ...)

    def slowest(self, count: int = 10, *, by: str = "cumulative") -> list[ImportTiming]:
        key = (lambda t: t.cumulative_us) if by == "cumulative" else (lambda t: t.self_us)
        return sorted(self.imports, key=key, reverse=True)[:count]

    def packages(self) -> dict[str, float]:
        """Milliseconds per top-level package: the sum of its modules' self times.

        Self times add up without double counting, so this answers "what does importing
        botocore cost" even though botocore's modules are imported from many places.
        """
        totals: dict[str, float] = defaultdict(float)
        for timing in self.imports:
            totals[timing.module.split(".")[0]] += timing.self_us / 1000
        return dict(totals)

    def slowest_packages(self, count: int = 10) -> list[tuple[str, float]]:
        return sorted(self.packages().items(), key=lambda item: item[1], reverse=True)[:count]

    def to_dict(self, count: int = 10) -> dict:
        return {
            "handler": str(self.handler),
            "module": self.module,
            "runs": self.runs,
            "total_ms": round(self.total_ms, 3),
            "own_ms": round(self.own_ms, 3),
            "slowest_packages": [{"package": name, "self_ms": round(ms, 3)}
                                 for name, ms in self.slowest_packages(count)],
            "slowest_cumulative": [t.to_dict() for t in self.slowest(count)],
            "slowest_self": [t.to_dict() for t in self.slowest(count, by="self")],
        }


def measure_import_time(
    handler_file: Path,
    runs: int = 5,
    python: str = sys.executable,
    *,
    site_packages: Path | None = None,
) -> ImportTimeReport:
    """Import `handler_file` as a module `runs` times in fresh interpreters; median timings.

    The handler's folder (and `site_packages`, if given) go first on sys.path, as in a
    deployment package. A discarded warm-up run compiles bytecode into a private cache first,
    since pip-built packages ship their .pyc files and Lambda does not compile on each start.
    """
    handler_file = Path(handler_file).resolve()
    if not handler_file.is_file() or handler_file.suffix != ".py":
        raise LambdalintError(f"--import-time needs a handler .py file, got {handler_file}")
    if runs < 1:
        raise LambdalintError("--runs must be at least 1")
    module = handler_file.stem
    paths = [str(handler_file.parent)] + ([str(site_packages)] if site_packages else [])
    samples: list[dict[str, tuple[int, int, int]]] = []
    with tempfile.TemporaryDirectory(prefix="lambdalint-pycache-") as cache:
        for attempt in range(runs + 1):
            stderr = _run_once(python, module, paths, cache, handler_file.parent)
            if attempt:
                samples.append(_handler_block(stderr, module))
    return _summarise(handler_file, module, samples, python)


def _run_once(python: str, module: str, paths: list[str], cache: str, cwd: Path) -> str:
    code = f"import sys; sys.path[:0] = {json.dumps(paths)}; import {module}"
    # -E: the user's PYTHONPATH/PYTHONSTARTUP must not leak in; the region lets module-level
    # boto3 clients be created, as they would be in Lambda, without touching the network.
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    command = [python, "-E", "-X", "importtime", "-X", f"pycache_prefix={cache}", "-c", code]
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=_RUN_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LambdalintError(f"could not run {python} to import {module}: {exc}") from exc
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
        tail = "\n".join(errors[-5:])
        raise LambdalintError(f"importing {module} failed in a fresh interpreter:\n{tail}")
    return done.stderr


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, self_us, cumulative_us, depth) per line, in the order Python printed them."""
    rows = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            rows.append((match.group(4), int(match.group(1)), int(match.group(2)), depth))
    return rows


def _handler_block(stderr: str, module: str) -> dict[str, tuple[int, int, int]]:
    """The handler's own line and every import nested under it.

    A module's line is printed when its import finishes, after its children; so the handler's
    imports are the lines between the previous top-level line and the handler's line.
    """
    rows = parse_importtime(stderr)
    end = next((i for i, r in enumerate(rows) if r[0] == module and r[3] == 0), None)
    if end is None:
        raise LambdalintError(f"python -X importtime printed no timing for {module}")
    start = end
    while start > 0 and rows[start - 1][3] > 0:
        start -= 1
    return {name: (self_us, cumulative, depth) for name, self_us, cumulative, depth in rows[start:end + 1]}


def _summarise(handler: Path, module: str, samples: list[dict[str, tuple[int, int, int]]],
               python: str) -> ImportTimeReport:
    by_module: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for sample in samples:
        for name, timing in sample.items():
            by_module[name].append(timing)
    imports = []
    for name, timings in by_module.items():
        if name == module:
            continue
        imports.append(ImportTiming(
            module=name,
            self_us=statistics.median(t[0] for t in timings),
            cumulative_us=statistics.median(t[1] for t in timings),
            depth=min(t[2] for t in timings),
        ))
    total_us = statistics.median(s[module][1] for s in samples)
    own_us = statistics.median(s[module][0] for s in samples)
    return ImportTimeReport(handler, module, len(samples), total_us / 1000, tuple(imports), python,
                            own_us / 1000)
