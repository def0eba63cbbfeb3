"""The `lambdalint` command line (click). Thin: it parses options, calls the engine, the cost model
or the profiler, prints with a formatter, and turns errors into messages and exit codes here."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click

from . import __version__
from .cli_errors import handle_errors
from .errors import EXIT_FINDINGS, EXIT_OK, LambdalintError


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Commands(click.Group):
    """A group whose other commands (cost model, profiler, dependencies, CI gate) are imported
    when they are used: `lambdalint check`, run on every commit, does not pay for loading them."""

    LAZY = {
        "cost": ("lambdalint.cli_cost", "cost_command"),
        "profile": ("lambdalint.cli_profile", "profile_command"),
        "deps": ("lambdalint.cli_deps", "deps_command"),
        "ci": ("lambdalint.cli_ci", "ci_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.LAZY:
            import importlib

            module, attribute = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="lambdalint")
def main() -> None:
    """lambdalint: what your AWS Lambda handlers will do to you in production.

    Exit codes: 0 nothing found, 1 findings (or budget exceeded), 2 usage or configuration
    error, 3 internal error.
    """


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes, prefixes (LAM1, LAM20) or names, comma-separated. Replaces the config's select.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Add rules (e.g. opt-in ones) to the selection.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules (codes, prefixes or names), on top of the config's ignore.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text", show_default=True,
              help="text: path:line:col: CODE message; json: one object; github: workflow annotations; "
                   "sarif: SARIF 2.1.0 for GitHub code scanning (run from the repository root: paths are relative to it).")
@click.option("--output", "-o", "output_path", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Write the report to FILE instead of standard output (e.g. results.sarif for upload); "
                   "a one-line summary still goes to standard error.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="TOML file with the settings ([tool.lambdalint] table, or top-level keys). Default: the nearest pyproject.toml.")
@click.option("--timeout", type=click.IntRange(1, 900), help="Function timeout in seconds used in messages (default: config, else 900).")
@click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, show_default=True, help="Worker processes; 0 = one per CPU.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print a count per rule after the findings (text format).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--no-cache", is_flag=True, help="Analyse every file again instead of reusing results stored in .lambdalint_cache/.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where per-file results are cached (default: .lambdalint_cache/ in the project root).")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Report only findings that FILE (written by --write-baseline) does not record: adopt the gate "
                   "on a legacy repository and fail on new problems only. Matching ignores line numbers.")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Record every current finding in FILE (JSON, meant to be committed) and exit 0; "
                   "re-run it to accept the findings as they are now.")
@handle_errors
def check(paths, select, extend_select, ignore, fmt, output_path, config_path, timeout, jobs, exit_zero, statistics,
          progress, no_cache, cache_dir, baseline_path, write_baseline_path) -> None:
    """Check Python Lambda handlers in PATHS (files or directories; default: the current directory).

    Directories are walked for *.py files, skipping .git, .venv, build, node_modules and the
    config's exclude patterns. Findings about state, idempotency and timeouts follow the code
    that handlers reach, across the local modules they import.
    """
    from . import baseline as baseline_mod
    from . import config as config_mod
    from .engine.runner import Checker
    from .selection import enabled_codes

    config = config_mod.load(config_path)
    if timeout is not None:
        config = config.with_overrides(timeout=timeout)
    enabled = enabled_codes(
        _split(select) or config.select,
        list(config.ignore) + _split(ignore),
        list(config.extend_select) + _split(extend_select),
    )
    # Read the baseline before the (possibly long) run: a wrong path should fail at once.
    accepted = baseline_mod.read(baseline_path) if baseline_path and not write_baseline_path else None
    show = sys.stderr.isatty() if progress is None else progress
    bar = _ProgressBar() if show else None
    from .templates.discover import handlers_for_check, is_template_name

    targets = list(paths) or [Path(".")]
    # SAM/CloudFormation/serverless templates name handlers and their event sources.
    template_handlers, template_findings = handlers_for_check(targets, config.root, config=config, enabled=enabled)
    report = Checker(config, enabled, jobs=jobs, progress=bar, cache=not no_cache, cache_dir=cache_dir).run(
        [p for p in targets if not is_template_name(p.name)], handlers=template_handlers)
    report.findings = sorted(set(report.findings) | set(template_findings))
    if bar is not None:
        bar.close()
    if write_baseline_path:
        count = baseline_mod.write(write_baseline_path, report.findings)
        click.echo(f"lambdalint: recorded {count} finding{'s' if count != 1 else ''} in {write_baseline_path}; "
                   f"check with --baseline {write_baseline_path} to report only new ones.", err=True)
        sys.exit(EXIT_OK)
    findings = report.findings
    if accepted is not None:
        findings, fixed = baseline_mod.split(findings, accepted)
        _baseline_note(len(report.findings) - len(findings), fixed, baseline_path)
    _emit(_render(fmt, findings, report.files_checked, statistics), fmt, findings, report.files_checked, output_path)
    sys.exit(EXIT_FINDINGS if findings and not exit_zero else EXIT_OK)


def _render(fmt: str, findings, files_checked: int, statistics: bool) -> str:
    from . import output

    if fmt == "json":
        return output.as_json(findings, files_checked)
    if fmt == "github":
        return output.github(findings)
    if fmt == "sarif":
        from .catalog import all_rules

        return output.sarif(findings, all_rules(), __version__, information_uri=_homepage())
    return output.text(findings, files_checked, statistics=statistics)


def _emit(rendered: str, fmt: str, findings, files_checked: int, output_path: Path | None) -> None:
    """The report to stdout or --output; for machine formats the summary line goes to stderr."""
    from .output import summary_line

    if output_path is not None:
        try:
            output_path.write_text(rendered + "\n" if rendered else "", encoding="utf-8")
        except OSError as exc:
            raise LambdalintError(f"{output_path}: cannot write the report: {exc.strerror or exc}") from None
    elif rendered:
        click.echo(rendered)
    if output_path is not None or fmt in ("github", "sarif"):
        click.echo(summary_line(findings, files_checked), err=True)


def _baseline_note(hidden: int, fixed: int, path: Path) -> None:
    if hidden:
        click.echo(f"lambdalint: {hidden} finding{'s' if hidden != 1 else ''} recorded in {path} not shown.", err=True)
    if fixed:
        click.echo(f"lambdalint: {fixed} finding{'s' if fixed != 1 else ''} recorded in {path} no longer occur; "
                   f"refresh it with --write-baseline {path}.", err=True)


def _homepage() -> str | None:
    """The project URL from the installed metadata, for SARIF's informationUri (None if unset)."""
    from importlib import metadata

    try:
        meta = metadata.metadata("lambdalint")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source") and url.strip():
            return url.strip()
    return meta.get("Home-page") or None


class _ProgressBar:
    """click's progress bar, created on the first tick so that a tiny run prints nothing."""

    def __init__(self) -> None:
        self._bar = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < 50:
                return
            self._bar = click.progressbar(length=total, label="checking", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(max(0, done - self._done))
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@main.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a table; json: a list of rule objects.")
@handle_errors
def rules(fmt) -> None:
    """List every rule: code, name, severity, whether it is on by default, and its summary."""
    import json

    from .catalog import all_rules

    infos = list(all_rules().values())
    if fmt == "json":
        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.value,
                                "default_enabled": r.default_enabled, "summary": r.summary} for r in infos], indent=2))
        return
    for r in infos:
        flag = "" if r.default_enabled else " (opt-in)"
        click.echo(f"{r.code}  {r.name:<34} {r.severity.value:<8} {r.summary}{flag}")


@main.command(context_settings=CONTEXT)
@click.argument("code")
@handle_errors
def rule(code) -> None:
    """Print the documentation of one rule, by CODE (LAM101) or name (mutable-global-mutated)."""
    from .catalog import rule as find_rule
    from .errors import LambdalintError

    info = find_rule(code)
    if info is None:
        raise LambdalintError(f"unknown rule {code!r}; `lambdalint rules` lists them")
    parts = [f"{info.code} {info.name} ({info.severity.value}{'' if info.default_enabled else ', opt-in'})",
             "", info.summary, "", "## Why is this bad?", textwrap.fill(info.rationale, 88)]
    if info.bad:
        parts += ["", "## Example", textwrap.indent(info.bad, "    ")]
    if info.good:
        parts += ["", "Use instead:", textwrap.indent(info.good, "    ")]
    if info.fix:
        parts += ["", "## What to do", textwrap.fill(info.fix, 88)]
    if info.known_problems:
        parts += ["", "## Known problems", textwrap.fill(info.known_problems, 88)]
    parts += ["", f"Suppress on a line with `# noqa: {info.code}`."]
    click.echo("\n".join(parts))


if __name__ == "__main__":  # pragma: no cover
    main()
