"""`lambdalint ci`: the pull-request gate. Check the code, price every function, compare with a
base git ref, judge the budgets, and print a report (Markdown for a PR comment by default).

Thin: options in, `lambdalint.ci.run_ci` does the work, `lambdalint.report_md` renders.
Exit codes: 0 passed, 1 gate failed (findings at or above --fail-on, or a budget exceeded),
2 usage or configuration error (message on stderr, never a traceback).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import click

from .cli_errors import handle_errors
from .errors import EXIT_FINDINGS, EXIT_OK, LambdalintError

FORMATS = ("markdown", "text", "json", "sarif", "github")
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("ci", context_settings=_CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--base", "base_ref", metavar="REF",
              help="Git ref to compare costs with, e.g. origin/main. The base commit's pyproject.toml and "
                   "templates are read with git (nothing is checked out) and priced with the same usage; "
                   "the report shows each function's change and max-increase budgets apply. In GitHub "
                   "Actions check out with fetch-depth: 0.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error",
              show_default=True,
              help="Fail (exit 1) on findings of this severity or above; never: only budgets fail the gate.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="markdown: the report for a PR comment; text: findings, cost table, verdicts; json: one "
                   "object; sarif: findings as SARIF 2.1.0 for code scanning; github: workflow "
                   "annotations (the Markdown report still goes to the job summary).")
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the report to FILE instead of standard output.")
@click.option("--profile-json", "profile_specs", multiple=True, metavar="[NAME=]FILE",
              help="A `lambdalint profile --format json` report (repeatable). Its tier at the function's "
                   "memory gives the measured duration and INIT; matched to a template function by handler, "
                   "or named explicitly as NAME=FILE.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="TOML file with the settings ([tool.lambdalint], including functions.* and budget). "
                   "Default: the nearest pyproject.toml.")
@click.option("--summary/--no-summary", default=True, show_default=True,
              help="Append the Markdown report to the file named by $GITHUB_STEP_SUMMARY when it is set "
                   "(the job summary page of a GitHub Actions run).")
@click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, show_default=True,
              help="Worker processes for the code check; 0 = one per CPU.")
@handle_errors
def ci_command(paths: Sequence[Path], base_ref: Optional[str], fail_on: str, fmt: str,
               output_path: Optional[Path], profile_specs: Sequence[str], config_path: Optional[Path],
               summary: bool, jobs: int) -> None:
    """Gate a pull request on findings and on Lambda cost.

    Checks PATHS (default: the current directory) with the templates' handlers (SAM,
    CloudFormation, serverless.yml: their event sources decide which handlers are at least
    once), prices every function from the templates, [tool.lambdalint.functions.NAME] and
    --profile-json reports, and applies [tool.lambdalint.budget]:

    \b
      monthly-total-usd     limit on the sum of all priced functions
      per-function-usd      a number for every function, or a table NAME = number
      max-increase-usd      limit on the total's increase against --base
      max-increase-percent  the same as a percentage of the base total

    Exit 0 when the gate passes, 1 when it fails, 2 on a usage or configuration error.
    """
    from . import config as config_mod
    from .ci import load_profile, run_ci
    from .report_md import render_markdown
    from .selection import enabled_codes

    config = config_mod.load(config_path)
    enabled = enabled_codes(config.select, config.ignore, config.extend_select)
    cwd = Path.cwd()
    profiles = [load_profile(spec, cwd) for spec in profile_specs]
    result = run_ci(list(paths) or [Path(".")], config, enabled, base_ref=base_ref, fail_on=fail_on,
                    profiles=profiles, explicit_config=config_path, jobs=jobs)
    markdown = render_markdown(result)
    _emit(_render(fmt, result, markdown), output_path)
    if summary and os.environ.get("GITHUB_STEP_SUMMARY"):
        _append_summary(Path(os.environ["GITHUB_STEP_SUMMARY"]), markdown)
    sys.exit(EXIT_OK if result.passed else EXIT_FINDINGS)


def _render(fmt: str, result: Any, markdown: str) -> str:
    from . import output
    from .report_md import render_text

    if fmt == "markdown":
        return markdown
    if fmt == "text":
        return render_text(result)
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2)
    if fmt == "github":
        return output.github(result.findings)
    return _sarif(result)


def _sarif(result: Any) -> str:
    """SARIF comes from lambdalint.output.sarif(findings, rules) (the output module's job)."""
    from . import output
    from .catalog import all_rules

    sarif = getattr(output, "sarif", None)
    if sarif is None:
        raise LambdalintError("--format sarif is not available in this version of lambdalint "
                              "(lambdalint.output.sarif is missing); use --format json or github")
    if "rules" in inspect.signature(sarif).parameters:
        return sarif(result.findings, all_rules())
    return sarif(result.findings)


def _emit(text: str, output_path: Optional[Path]) -> None:
    if output_path is None:
        if text:
            click.echo(text.rstrip("\n"))
        return
    try:
        output_path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    except OSError as exc:
        raise LambdalintError(f"--output {output_path}: cannot write: {exc.strerror or exc}") from None


def _append_summary(path: Path, markdown: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:
        raise LambdalintError(f"GITHUB_STEP_SUMMARY {path}: cannot append: {exc.strerror or exc}") from None
