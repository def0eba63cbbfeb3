"""How fast is `lambdalint check` next to `flake8 --select=F`, cold and cached?

Runs, in one invocation and on the same machine state, with the same number of processes
(N = --jobs, default os.cpu_count()):

  flake8            python -m flake8 --select=F --jobs N  (lambdalint's own flake8 plugin is
                    left out: it is not part of `flake8 --select=F`, and it would run lambdalint)
  lambdalint cold   lambdalint check --jobs N --no-cache
  lambdalint cached lambdalint check --jobs N --cache-dir D, on a cache filled by one
                    unmeasured run

on two corpora:

  (a) stdlib   the running interpreter's standard library (.py files; site-packages and the
               other directories lambdalint excludes by default are excluded for both tools):
               a big tree without handlers, where skipping must be cheap
  (b) handlers benchmarks/gen_corpus.py's tree: 320 handler files and their helper modules,
               where every file gets the full analysis

Each measurement runs in a fresh process; the three tools are interleaved and every
measurement is repeated (--repeat; default 3 on the stdlib, whose ratio is far from its target,
and 5 on the handler tree, whose ratio is near it). PASS/FAIL is decided on the median wall times.
On a shared machine other work slows single runs down by 10-30 %, so the table also shows the
ratios of the fastest runs (the least disturbed ones) and of the CPU time (user + system, all
processes of each tool), which moves much less. Peak memory is the largest total RSS of the
process tree (parent and workers, sampled every 20 ms from /proc), and the largest single
process's maximum RSS (getrusage).

Targets (from the issue): cold <= 0.3 x flake8 on (a), <= 0.8 x flake8 on (b); cached <= 5 %
of cold; peak memory < 500 MB.

    python benchmarks/bench.py [--jobs N] [--repeat N] [--corpus DIR] [--stdlib DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"stdlib": 0.3, "handlers": 0.8}
CACHED_TARGET = 0.05
MEMORY_TARGET_MB = 500

# flake8 without the plugins lambdalint's distribution registers (its flake8 plugin).
FLAKE8 = """
import sys
import flake8.plugins.finder as finder
_find = finder._find_importlib_plugins
def _without_lambdalint():
    for plugin in _find():
        if plugin.package != "lambdalint":
            yield plugin
finder._find_importlib_plugins = _without_lambdalint
from flake8.main.cli import main
sys.exit(main())
"""

# `lambdalint check` with cache switches, for a lambdalint whose CLI does not have
# --no-cache/--cache-dir yet: the same command, with Checker's cache defaults set from the
# environment.
LAMBDALINT_SHIM = """
import os, sys
from pathlib import Path
from lambdalint.engine import runner
_init = runner.Checker.__init__
def _init_with_cache(self, *args, **kwargs):
    setting = os.environ.get("LAMBDALINT_BENCH_CACHE", "")
    if setting == "off":
        kwargs.setdefault("cache", False)
    elif setting:
        kwargs.setdefault("cache_dir", Path(setting))
    _init(self, *args, **kwargs)
runner.Checker.__init__ = _init_with_cache
from lambdalint.cli import main
sys.exit(main())
"""


# -- one measurement, in a fresh process ------------------------------------------------------
def _tree_rss_kb(root: int) -> int:
    """Total VmRSS of `root` and its descendants (Linux /proc); 0 where unavailable."""
    parents: dict[int, list[int]] = {}
    try:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    parents.setdefault(int(fields[1]), []).append(int(entry.name))
                except (OSError, IndexError, ValueError):
                    continue
    except OSError:
        return 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def measure(command: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> dict:
    """Run `command` (output discarded); wall time, exit code, stderr, peak memory."""
    import resource

    peak = [0]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "returncode": process.returncode,
            "stderr": stderr.decode(errors="replace")[-4000:],
            "maxrss_mb": usage.ru_maxrss / 1024, "tree_rss_mb": peak[0] / 1024}


def run_measured(command: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> dict:
    """`measure` in a child process of its own, so that getrusage(RUSAGE_CHILDREN) covers
    this command alone."""
    payload = json.dumps({"command": command, "env": env, "cwd": cwd})
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_measure", payload],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# -- the benchmark ------------------------------------------------------------------------------
def lambdalint_has_cache_options() -> bool:
    out = subprocess.run([sys.executable, "-c", "from lambdalint.cli import main; main()", "check", "--help"],
                         capture_output=True, text=True)
    return "--no-cache" in out.stdout and "--cache-dir" in out.stdout


def commands(tree: Path, jobs: int, cache_dir: Path, native: bool, excludes: list[str],
             pycache: Path) -> dict[str, tuple[list[str], dict, str]]:
    """Both tools run from the tree's own directory, as in a project, with bytecode caching on
    (in a private directory: PYTHONDONTWRITEBYTECODE in the caller's environment would make
    every run compile lambdalint's modules again, which an installed copy never does)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    base = [sys.executable, "-c", "from lambdalint.cli import main; main()"] if native else [sys.executable, "-c", LAMBDALINT_SHIM]
    check = base + ["check", "--jobs", str(jobs), "--no-progress", "--exit-zero", "--format", "json"]
    here = str(tree)
    if native:
        cold = (check + ["--no-cache", "."], env, here)
        cached = (check + ["--cache-dir", str(cache_dir), "."], env, here)
    else:
        cold = (check + ["."], {**env, "LAMBDALINT_BENCH_CACHE": "off"}, here)
        cached = (check + ["."], {**env, "LAMBDALINT_BENCH_CACHE": str(cache_dir)}, here)
    flake8 = ([sys.executable, "-c", FLAKE8, "--select=F", "--jobs", str(jobs), "--exit-zero",
               "--extend-exclude", ",".join(excludes), "."], env, here)
    return {"flake8": flake8, "lambdalint cold": cold, "lambdalint cached": cached}


def bench_tree(name: str, tree: Path, jobs: int, repeat: int, native: bool, log) -> dict:
    from lambdalint.config import DEFAULT_EXCLUDES
    from lambdalint.engine.runner import collect_files

    tree = tree.resolve()
    files, _ = collect_files([tree], DEFAULT_EXCLUDES)
    lines = 0
    for path in files:
        try:
            with open(path, "rb") as fh:
                lines += fh.read().count(b"\n")
        except OSError:
            pass
    scratch = Path(tempfile.mkdtemp(prefix=f"lambdalint-bench-{name}-"))
    cache_dir = scratch / "cache"
    try:
        cmds = commands(tree, jobs, cache_dir, native, list(DEFAULT_EXCLUDES), scratch / "pycache")
        log(f"[{name}] {len(files)} files, {lines} lines: filling the cache")
        # Also fills the bytecode cache and the OS's file cache (for both tools: same files).
        _check_run(name, "lambdalint (cache fill)", run_measured(*cmds["lambdalint cached"]))
        runs: dict[str, list[dict]] = {key: [] for key in cmds}
        for round_ in range(repeat):
            # Interleaved, in a rotating order: drift on a shared machine hits all three.
            order = list(cmds)[round_ % 3:] + list(cmds)[:round_ % 3]
            for key in order:
                result = run_measured(*cmds[key])
                _check_run(name, key, result)
                runs[key].append(result)
                log(f"[{name}] round {round_ + 1}/{repeat} {key:17} {result['wall']:7.2f} s  "
                    f"(CPU {result['cpu']:6.2f} s)  {result['tree_rss_mb']:6.0f} MB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    med = {key: statistics.median(r["wall"] for r in rs) for key, rs in runs.items()}
    best = {key: min(r["wall"] for r in rs) for key, rs in runs.items()}
    cpu = {key: statistics.median(r["cpu"] for r in rs) for key, rs in runs.items()}
    memory = max(max(r["tree_rss_mb"], r["maxrss_mb"]) for key, rs in runs.items() if key != "flake8" for r in rs)
    cold_ratio = med["lambdalint cold"] / med["flake8"]
    cached_ratio = med["lambdalint cached"] / med["lambdalint cold"]
    return {
        "corpus": name, "path": str(tree), "files": len(files), "lines": lines, "jobs": jobs, "repeat": repeat,
        "median_s": med, "min_s": best, "median_cpu_s": cpu,
        "all_s": {key: [round(r["wall"], 3) for r in rs] for key, rs in runs.items()},
        "cold_vs_flake8": cold_ratio, "cached_vs_cold": cached_ratio,
        # The same ratios from the least disturbed runs, and from CPU time (user + system, all
        # processes): on a shared machine these move less than the median wall times.
        "cold_vs_flake8_min": best["lambdalint cold"] / best["flake8"],
        "cold_vs_flake8_cpu": cpu["lambdalint cold"] / cpu["flake8"],
        "cached_vs_cold_min": best["lambdalint cached"] / best["lambdalint cold"],
        "peak_memory_mb": memory,
        "flake8_peak_memory_mb": max(max(r["tree_rss_mb"], r["maxrss_mb"]) for r in runs["flake8"]),
        "targets": {"cold_vs_flake8": TARGETS[name], "cached_vs_cold": CACHED_TARGET, "peak_memory_mb": MEMORY_TARGET_MB},
        "pass": {
            "cold_vs_flake8": cold_ratio <= TARGETS[name],
            "cached_vs_cold": cached_ratio <= CACHED_TARGET,
            "peak_memory_mb": memory < MEMORY_TARGET_MB,
        },
    }


def _check_run(name: str, key: str, result: dict) -> None:
    if result["returncode"] not in (0, 1) or "Traceback" in result["stderr"]:
        raise SystemExit(f"[{name}] {key} failed (exit {result['returncode']}):\n{result['stderr']}")


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def table(results: list[dict]) -> str:
    rows = [("corpus", "files", "flake8 s", "cold s", "cached s", "cold/flake8", "target", "cached/cold", "target",
             "peak MB", "result", "(min: cold/flake8, cached/cold; CPU: cold/flake8)")]
    for r in results:
        m = r["median_s"]
        ok = all(r["pass"].values())
        rows.append((r["corpus"], str(r["files"]), f"{m['flake8']:.2f}", f"{m['lambdalint cold']:.2f}",
                     f"{m['lambdalint cached']:.2f}", f"{r['cold_vs_flake8']:.3f}", f"<= {r['targets']['cold_vs_flake8']}",
                     f"{r['cached_vs_cold']:.3f}", f"<= {CACHED_TARGET}", f"{r['peak_memory_mb']:.0f}",
                     "PASS" if ok else "FAIL (" + ", ".join(k for k, v in r["pass"].items() if not v) + ")",
                     f"({r['cold_vs_flake8_min']:.3f}, {r['cached_vs_cold_min']:.3f}; {r['cold_vs_flake8_cpu']:.3f})"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--_measure"]:
        spec = json.loads(argv[1])
        print(json.dumps(measure(spec["command"], spec["env"], spec.get("cwd"))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for both tools (default: all cores)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per tool and corpus (default: 3 on the stdlib, 5 on the handler tree)")
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]),
                        help="standard library directory (default: this interpreter's; site-packages is left out)")
    parser.add_argument("--corpus", type=Path, help="handler corpus directory (default: generated into a temporary directory)")
    parser.add_argument("--only", choices=("stdlib", "handlers"), help="run one corpus only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    native = lambdalint_has_cache_options()
    if not native:
        log("note: this lambdalint's CLI has no --no-cache/--cache-dir yet; running `check` through a shim that sets them")
    load_before = _load()
    results = []
    generated = None
    try:
        if args.only in (None, "stdlib"):
            results.append(bench_tree("stdlib", args.stdlib, args.jobs, args.repeat or 3, native, log))
        if args.only in (None, "handlers"):
            corpus = args.corpus
            if corpus is None:
                sys.path.insert(0, str(HERE))
                from gen_corpus import generate

                generated = Path(tempfile.mkdtemp(prefix="lambdalint-corpus-"))
                corpus = generated / "handlers"
                counts = generate(corpus)
                log(f"generated {counts['handler_files']} handler files and {counts['helper_files']} helper modules in {corpus}")
            results.append(bench_tree("handlers", corpus, args.jobs, args.repeat or 5, native, log))
    finally:
        if generated is not None:
            shutil.rmtree(generated, ignore_errors=True)
    summary = {
        "python": sys.version.split()[0], "cpus": os.cpu_count(), "jobs": args.jobs,
        "load_before": load_before, "load_after": _load(), "results": results,
        "pass": all(all(r["pass"].values()) for r in results),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        runs = "/".join(str(r["repeat"]) for r in results)
        print(f"lambdalint vs flake8 --select=F, {args.jobs} processes each, median of {runs} "
              f"(Python {summary['python']}, {summary['cpus']} CPUs, load {load_before} -> {summary['load_after']})")
        print(table(results))
        print("PASS" if summary["pass"] else "FAIL")
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
