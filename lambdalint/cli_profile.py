"""`lambdalint profile`: run a handler at several memory sizes and recommend one.

Thin: it validates input (every user mistake is a LambdalintError: one line on stderr, exit 2),
runs lambdalint.profiler.harness with a progress bar on stderr, and prints a report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import click

from .cli_errors import handle_errors
from .profiler import ProfilerError

DEFAULT_MEMORY = "128,256,512,1024,1769,3008"
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous request payload limit
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def parse_memory_sizes(text: str) -> list[int]:
    """"128,256,1769" -> [128, 256, 1769] (sorted, unique), each within Lambda's 128-10,240 MB."""
    from .profiler.limits import MAX_MEMORY_MB, MIN_MEMORY_MB

    sizes = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            size = int(part)
        except ValueError:
            raise ProfilerError(f"--memory: {part!r} is not a whole number of MB") from None
        if not MIN_MEMORY_MB <= size <= MAX_MEMORY_MB:
            raise ProfilerError(f"--memory: {size} MB is outside Lambda's {MIN_MEMORY_MB}-{MAX_MEMORY_MB} MB")
        sizes.add(size)
    if not sizes:
        raise ProfilerError("--memory: give at least one memory size, e.g. 128,512,1769")
    return sorted(sizes)


def load_event(path: Optional[Path]) -> tuple[str, str]:
    """The event's JSON text and a label for reports; no file means the empty event {}."""
    if path is None:
        return "{}", "{}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProfilerError(f"event file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ProfilerError(f"cannot read event file {str(path)!r}: {exc.strerror}") from None
    if len(data) > MAX_EVENT_BYTES:
        raise ProfilerError(f"event file {str(path)!r} is {len(data):,} bytes; Lambda accepts at most "
                            f"{MAX_EVENT_BYTES:,} bytes for a synchronous invocation")
    try:
        text = data.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProfilerError(f"event file {str(path)!r} is not JSON: {exc}") from None
    return text, str(path)


def parse_env(pairs: tuple[str, ...]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ProfilerError(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env


def _check_python(python: str) -> str:
    import os
    import shutil

    found = shutil.which(python)
    if found is None or not os.access(found, os.X_OK):
        raise ProfilerError(f"--python {python!r} is not an executable interpreter")
    return found


class _Progress:
    """click's progress bar on stderr: one step per invocation, labelled with the tier."""

    def __init__(self, tiers: int, invocations: int) -> None:
        self.per_tier = invocations + 1  # the first invocation, then the warm ones
        self.bar = click.progressbar(length=tiers * self.per_tier, label="profiling", file=sys.stderr,
                                     show_pos=True, item_show_func=lambda item: item)
        self.bar.__enter__()
        self.done_in_tier = 0
        self.tier = ""

    def __call__(self, kind: str, memory_mb: int, info: dict) -> None:
        if kind == "tier":
            self.tier, self.done_in_tier = f"{memory_mb} MB", 0
            self.bar.update(0, self.tier)
        elif kind == "invocation":
            self.done_in_tier += 1
            self.bar.update(1, self.tier)
        elif kind == "tier-done":  # a tier that stopped early (OOM, timeout) still fills its share
            self.bar.update(max(0, self.per_tier - self.done_in_tier), self.tier)

    def close(self) -> None:
        self.bar.__exit__(None, None, None)


@click.command("profile", context_settings=_CONTEXT)
@click.argument("handler", metavar="FILE.py:FUNCTION")
@click.option("--event", "event_path", type=click.Path(path_type=Path, dir_okay=False),
              help="JSON file with the event passed to every invocation (default: {}). "
                   "Examples in fixtures/events/: sqs, s3, apigw, eventbridge.")
@click.option("--memory", default=DEFAULT_MEMORY, show_default=True, metavar="MB,MB,...",
              help="Memory sizes to try, comma-separated, each 128-10240 MB. CPU share is memory/1769 of a core.")
@click.option("--invocations", "-n", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Warm invocations per memory size, after the first one that follows the cold start.")
@click.option("--timeout", type=click.IntRange(1, 900), default=3, show_default=True, metavar="S",
              help="Function timeout in seconds: an invocation running longer is killed and reported timed out.")
@click.option("--requests-per-month", type=click.IntRange(0), default=1_000_000, show_default=True, metavar="R",
              help="Monthly invocations, for the monthly cost.")
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True,
              help="Architecture to price and to take the published INIT figure for (durations are measured here).")
@click.option("--region", default="us-east-1", show_default=True, help="AWS region to price.")
@click.option("--cold-start-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Share of requests that start a new environment; their INIT is billed.")
@click.option("--free-tier", is_flag=True,
              help="Deduct the account's monthly free tier from this function's cost "
                   "(off: it is shared by all functions).")
@click.option("--balanced-weight", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Weight of cost in the balanced strategy: weight*cost/max + (1-weight)*duration/max.")
@click.option("--runtime", metavar="pythonX.Y",
              help="Lambda runtime whose published INIT figure is used (default: the interpreter's version).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a table with notes; json: one object with tiers and recommendation.")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a self-contained HTML report (chart of cost and duration against memory) here.")
@click.option("--task-root", type=click.Path(path_type=Path, file_okay=False),
              help="Directory deployed as /var/task (default: the handler's directory); the handler's module "
                   "name is its path from there, so pkg/app.py is imported as pkg.app.")
@click.option("--python", "python", default=sys.executable, show_default="this interpreter",
              help="Interpreter for the handler; it needs the handler's dependencies, not lambdalint.")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE",
              help="Environment variable for the handler (repeatable). "
                   "Your AWS credentials are not passed unless given here.")
@click.option("--function-name", help="Name in the context object and Lambda variables (default: the module name).")
@click.option("--backend", type=click.Choice(["auto", "cgroup", "portable"]), default="auto", show_default=True,
              help="How CPU and memory are limited: cgroup quotas where writable (auto), required (cgroup), "
                   "or the SIGSTOP/SIGCONT duty cycle and a peak-RSS watchdog (portable).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
@handle_errors
def profile_command(handler: str, event_path: Optional[Path], memory: str, invocations: int, timeout: int,
                    requests_per_month: int, arch: str, region: str, cold_start_rate: float, free_tier: bool,
                    balanced_weight: float, runtime: Optional[str], fmt: str, html_path: Optional[Path],
                    task_root: Optional[Path], python: str, env_pairs: tuple[str, ...],
                    function_name: Optional[str], backend: str, progress: Optional[bool]) -> None:
    """Profile a handler at several memory sizes, locally, and recommend one.

    Each memory size runs in a fresh child process (own process group and temp dir) with that
    size's share of CPU (memory/1769 MB of a core) and a memory cap: the cold start (not
    throttled, as on Lambda), then --invocations warm invocations of the event. It reports
    init, p50/p95 duration, billed duration, peak memory, OOM and timeouts, the monthly cost,
    and the cheapest, fastest and balanced memory size, as AWS Lambda Power Tuning does.

    Example: lambdalint profile app.py:handler --event fixtures/events/sqs.json --memory 128,512,1769
    """
    from .cost.pricing import load_price_table
    from .profiler.harness import HandlerSpec, ProfileSpec, run_profile
    from .profiler.initestimate import local_runtime
    from .profiler.recommend import CostInputs
    from .profiler.report import build_report, render_html, render_json, render_text

    spec = ProfileSpec(
        handler=HandlerSpec.parse(handler, str(task_root) if task_root else None),
        memory_sizes=parse_memory_sizes(memory), invocations=invocations, timeout_s=float(timeout),
        python=_check_python(python), env=parse_env(env_pairs), backend=backend,
        function_name=function_name, region=region, runtime=runtime or _python_runtime(python, local_runtime()))
    spec.event_text, spec.event_label = load_event(event_path)
    _check_runtime(spec.runtime)
    load_price_table(region)  # an unknown region fails now, not after minutes of profiling
    cost_inputs = CostInputs(requests_per_month=requests_per_month, arch=arch, region=region,
                             cold_start_rate=cold_start_rate, free_tier=free_tier)
    show = sys.stderr.isatty() if progress is None else progress
    bar = _Progress(len(spec.memory_sizes), invocations) if show else None
    try:
        run = run_profile(spec, bar)
    finally:
        if bar is not None:
            bar.close()
    report = build_report(run, cost_inputs, balanced_weight, spec.runtime)
    click.echo(render_json(report) if fmt == "json" else render_text(report))
    if html_path is not None:
        try:
            html_path.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise ProfilerError(f"cannot write {str(html_path)!r}: {exc.strerror}") from None
        click.echo(f"wrote {html_path}", err=True)


def _python_runtime(python: str, default: str) -> str:
    """The Lambda runtime name of the interpreter that will run the handler (pythonX.Y)."""
    import os
    import subprocess

    if os.path.realpath(_check_python(python)) == os.path.realpath(sys.executable):
        return default
    try:
        out = subprocess.run([python, "-c", "import sys; print('python%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        raise ProfilerError(f"--python {python!r} does not run") from None
    return out or default


def _check_runtime(runtime: str) -> None:
    import re

    if not re.fullmatch(r"python3\.\d{1,2}", runtime):
        raise ProfilerError(f"--runtime {runtime!r}: expected a Lambda Python runtime such as python3.12")
