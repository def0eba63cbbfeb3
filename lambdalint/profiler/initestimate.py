"""Estimate the INIT duration Lambda would report, from a local measurement of the import.

A Lambda cold start (INIT) of a Python zip function is the runtime's own start-up (sandbox,
interpreter, runtime interface client) plus the import of the handler module. The first part
cannot be measured locally, but it is published: maxday/lambda-perf deploys a hello-world
function every day and records ten cold starts per runtime, architecture and memory size. A
hello-world handler imports nothing, so its INIT *is* the runtime's start-up. We take that
figure and add what the user's handler module costs to import, as measured in the child
process after the modules the runtime has already loaded (runner.py preloads them), i.e.
exactly what the handler adds on top of hello world.

Why not measure the local interpreter start-up and scale it? Lambda's start-up is dominated by
things a laptop does not do (the sandbox, the runtime client), and a scale factor would have
to be fitted to the same published figures anyway; the published figure is the direct answer.

Assumption, stated in reports: the handler's import runs as fast on Lambda as here. Lambda's
published INIT times do not vary with memory size (below), so the CPU share is not applied.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from statistics import median
from typing import Optional, Sequence

SOURCE = ("maxday/lambda-perf, data/2026-08-22.json: hello-world zip function, mean of 10 cold "
          "starts at each of 128, 256, 512 and 1,024 MB")

# Mean "Init Duration" (ms) at 128, 256, 512, 1,024 MB, zip packages (see SOURCE, and
# shared/facts/aws-lambda.md section 4.1). The four sizes differ by a few ms at most.
PUBLISHED_ZIP_INIT_MS: dict[tuple[str, str], tuple[float, float, float, float]] = {
    ("python3.9", "x86_64"): (78.913, 74.82, 73.192, 70.566),
    ("python3.9", "arm64"): (79.207, 71.876, 73.065, 70.66),
    ("python3.10", "x86_64"): (74.237, 80.613, 72.928, 73.775),
    ("python3.10", "arm64"): (69.502, 76.678, 78.3, 74.438),
    ("python3.11", "x86_64"): (78.606, 75.562, 75.389, 72.838),
    ("python3.11", "arm64"): (75.045, 69.391, 74.662, 67.234),
    ("python3.12", "x86_64"): (85.226, 83.844, 82.967, 81.122),
    ("python3.12", "arm64"): (72.819, 79.203, 79.924, 81.99),
    ("python3.13", "x86_64"): (91.072, 87.086, 85.501, 84.498),
    ("python3.13", "arm64"): (80.57, 79.113, 76.687, 85.15),
    ("python3.14", "x86_64"): (101.612, 106.028, 101.233, 101.929),
    ("python3.14", "arm64"): (100.318, 98.821, 93.943, 96.599),
}
ARCHES = ("x86_64", "arm64")


def local_runtime() -> str:
    """The Lambda runtime identifier matching the interpreter lambdalint runs on."""
    return f"python{sys.version_info[0]}.{sys.version_info[1]}"


def known_runtimes() -> list[str]:
    names = {runtime for runtime, _ in PUBLISHED_ZIP_INIT_MS}
    return sorted(names, key=lambda name: tuple(int(p) for p in name[len("python"):].split(".")))


def _nearest_runtime(runtime: str) -> str:
    """The published runtime closest to `runtime` (same major, nearest minor)."""
    try:
        minor = int(runtime.split(".")[1])
    except (IndexError, ValueError):
        return known_runtimes()[-1]
    return min(known_runtimes(), key=lambda name: abs(int(name.split(".")[1]) - minor))


@dataclass(frozen=True)
class InitEstimate:
    """Lambda INIT estimate = published runtime start-up + measured handler import."""

    runtime: str  # the runtime whose published figure was used
    arch: str
    runtime_ms: float  # published hello-world INIT, mean over memory sizes
    import_ms: float  # the handler module's import, measured locally
    note: str = ""

    @property
    def total_ms(self) -> float:
        return self.runtime_ms + self.import_ms

    def to_dict(self) -> dict:
        return {"runtime": self.runtime, "arch": self.arch, "runtime_ms": round(self.runtime_ms, 2),
                "import_ms": round(self.import_ms, 2), "init_ms": round(self.total_ms, 2),
                "source": SOURCE, "note": self.note}


def published_init_ms(runtime: str, arch: str = "x86_64") -> tuple[float, str]:
    """Mean published hello-world INIT for a runtime and architecture, and which runtime it is.

    An unpublished runtime (a newer or older Python) falls back to the nearest published one.
    """
    if arch not in ARCHES:
        raise ValueError(f"unknown architecture {arch!r}")
    used = runtime if (runtime, arch) in PUBLISHED_ZIP_INIT_MS else _nearest_runtime(runtime)
    figures = PUBLISHED_ZIP_INIT_MS[(used, arch)]
    return sum(figures) / len(figures), used


def estimate_init(import_times_ms: Sequence[Optional[float]], runtime: Optional[str] = None,
                  arch: str = "x86_64") -> Optional[InitEstimate]:
    """Estimate Lambda's INIT from the import times measured at each tier (their median).

    One estimate for all tiers, as Lambda's INIT is flat across memory sizes; the median
    because every tier imports the same code and the first may pay for a cold disk cache.
    """
    measured = [t for t in import_times_ms if t is not None]
    if not measured:
        return None
    runtime = runtime or local_runtime()
    baseline, used = published_init_ms(runtime, arch)
    note = "" if used == runtime else f"no published figure for {runtime}; used {used}'s"
    return InitEstimate(runtime=used, arch=arch, runtime_ms=baseline, import_ms=median(measured), note=note)
