"""`lambdalint deps`: what a function would ship, how big it is, and what its import costs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import click

from .deps.checks import (
    UNZIPPED_LIMIT,
    ZIPPED_LIMIT,
    DepsOptions,
    find_requirement_files,
    resolve_shipment,
)
from .deps.importtime import ImportTimeReport, measure_import_time
from .deps.requirements import ParseProblem
from .deps.sizes import PackageSize, format_mb, load_size_table, measure_directory, measure_zip
from .errors import EXIT_USAGE, LambdalintError


@dataclass
class SizeReport:
    """The rows of the table and where they came from; pure data for the two formatters."""

    target: str
    packages: list[PackageSize] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    table_as_of: str = ""

    @property
    def unzipped_bytes(self) -> int:
        return sum(p.unzipped_bytes or 0 for p in self.packages)

    @property
    def zipped_bytes(self) -> int:
        return sum(p.zipped_bytes or 0 for p in self.packages)

    @property
    def unknown(self) -> list[str]:
        return [p.name for p in self.packages if not p.known]

    def sorted_packages(self) -> list[PackageSize]:
        return sorted(self.packages, key=lambda p: (-(p.unzipped_bytes or -1), p.name))


def build_report(path: Path, options: DepsOptions) -> SizeReport:
    """A zip or a build folder is measured by its files; a manifest by what it resolves to."""
    if path.is_file() and path.suffix == ".zip":
        return SizeReport(str(path), measure_zip(path))
    if path.is_dir():
        manifests = [] if any(path.glob("*.dist-info")) else find_requirement_files(path, root=path)
        if not manifests:
            return SizeReport(str(path), measure_directory(path))
    else:
        manifests = [path]
    report = SizeReport(", ".join(str(m) for m in manifests),
                        table_as_of=load_size_table(options.size_table).as_of)
    seen: set[str] = set()
    for manifest in manifests:
        shipment = resolve_shipment(manifest, options)
        report.problems += shipment.problems
        for shipped in shipment.packages:
            if shipped.size.name not in seen:
                seen.add(shipped.size.name)
                report.packages.append(shipped.size)
        report.packages += [layer for layer in shipment.layers if layer.name not in seen]
        seen |= {layer.name for layer in shipment.layers}
    return report


# --- formatting ----------------------------------------------------------------------------


def _share(size: int | None, limit: int) -> str:
    return "-" if size is None else f"{size / limit:.1%}"


def format_text(report: SizeReport) -> str:
    header = ("package", "version", "unzipped", "zipped", "of 250 MB", "of 50 MB", "source")
    rows = [header]
    for p in report.sorted_packages():
        rows.append((p.name, p.version or "-", format_mb(p.unzipped_bytes), format_mb(p.zipped_bytes),
                     _share(p.unzipped_bytes, UNZIPPED_LIMIT), _share(p.zipped_bytes, ZIPPED_LIMIT),
                     p.source))
    unknown = f", {len(report.unknown)} of unknown size (not counted)" if report.unknown else ""
    rows.append((f"total ({len(report.packages)} packages{unknown})", "",
                 format_mb(report.unzipped_bytes), format_mb(report.zipped_bytes),
                 _share(report.unzipped_bytes, UNZIPPED_LIMIT),
                 _share(report.zipped_bytes, ZIPPED_LIMIT), ""))
    widths = [max(len(r[i]) for r in rows[:-1]) for i in range(len(header))]
    lines = [f"What would ship from {report.target}"]
    for index, row in enumerate(rows):
        if index == len(rows) - 1:
            lines.append("-" * (sum(widths) + 2 * (len(widths) - 1)))
            lines.append(f"{row[0]}: {row[2]} unzipped ({row[4]} of Lambda's 250 MB limit), "
                         f"{row[3]} zipped ({row[5]} of the 50 MB direct-upload limit)")
            continue
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [c.rjust(w) for c, w in zip(row[2:6], widths[2:6])] + [row[6]]
        lines.append("  ".join(cells).rstrip())
    lines += _notes(report)
    return "\n".join(lines)


def _notes(report: SizeReport) -> list[str]:
    notes = [f"{p.path}:{p.line}: {p.message}" for p in report.problems]
    if report.table_as_of and any(p.source == "table" for p in report.packages):
        notes.append(f"'table' sizes: measured from wheels for python3.12 x86_64 on {report.table_as_of}")
    notes += [f"{p.name}: {p.note}" for p in report.sorted_packages() if p.note]
    return [""] + notes if notes else []


def report_dict(report: SizeReport) -> dict:
    return {
        "target": report.target,
        "unzipped_bytes": report.unzipped_bytes,
        "zipped_bytes": report.zipped_bytes,
        "unzipped_limit_bytes": UNZIPPED_LIMIT,
        "zipped_limit_bytes": ZIPPED_LIMIT,
        "table_as_of": report.table_as_of or None,
        "packages": [
            {"name": p.name, "version": p.version, "unzipped_bytes": p.unzipped_bytes,
             "zipped_bytes": p.zipped_bytes, "source": p.source, "note": p.note}
            for p in report.sorted_packages()
        ],
        "unknown": report.unknown,
        "problems": [{"path": str(p.path), "line": p.line, "message": p.message} for p in report.problems],
    }


def format_import_time(report: ImportTimeReport, count: int) -> str:
    lines = [f"Import of {report.module} ({report.handler}): {report.total_ms:.1f} ms "
             f"(median of {report.runs} fresh interpreters; billed as INIT on every cold start)",
             f"of which {report.module}'s own top-level code: {report.own_ms:.1f} ms",
             "", f"{'package':40} {'self, all modules':>18}"]
    lines += [f"{name:40} {ms:>15.1f} ms" for name, ms in report.slowest_packages(count)]
    lines += ["", f"{'module':40} {'cumulative':>12} {'self':>10}"]
    for timing in report.slowest(count):
        lines.append(f"{timing.module:40} {timing.cumulative_us / 1000:>9.1f} ms "
                     f"{timing.self_us / 1000:>7.1f} ms")
    return "\n".join(lines)


# --- the command ---------------------------------------------------------------------------


def _check_python_version(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not re.fullmatch(r"3\.\d{1,2}", value):
        raise click.BadParameter(f'expected a version like "3.12", got {value!r}')
    return value


@click.command(name="deps")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--site-packages", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Measure installed packages from this site-packages (default: the environment "
                   "lambdalint runs in). Packages not installed there come from the size table.")
@click.option("--zip", "zip_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Measure a built deployment .zip by its entries instead of PATH.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: an aligned table; json: one object with unzipped_bytes, "
                                      "zipped_bytes and packages.")
@click.option("--import-time", "import_time", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also import this handler file in fresh interpreters (python -X importtime) and "
                   "list the slowest imports. Without PATH, only this report is printed.")
@click.option("--runs", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Interpreter runs for --import-time; the median is reported.")
@click.option("--top", type=click.IntRange(1, 200), default=10, show_default=True,
              help="How many of the slowest imports to list.")
@click.option("--python-version", default="3.12", show_default=True, callback=_check_python_version,
              help="Lambda runtime version that requirement markers are evaluated for.")
@click.option("--no-installed", is_flag=True,
              help="Ignore installed packages; use only the shipped size table.")
@click.pass_context
def deps_command(ctx: click.Context, path: Path | None, site_packages: Path | None,
                 zip_file: Path | None, output_format: str, import_time: Path | None, runs: int,
                 top: int, python_version: str, no_installed: bool) -> None:
    """Print what PATH would put in a Lambda deployment package, per distribution, unzipped and
    zipped, against Lambda's 250 MB (unzipped, with layers) and 50 MB (zipped, direct upload)
    limits.

    PATH may be a requirements file, a pyproject.toml, a lock file (poetry.lock, uv.lock,
    Pipfile.lock), a project folder holding one, a build folder (pip install -t) or
    site-packages (measured by its files), or a .zip. Default: the current folder.
    """
    options = DepsOptions(site_packages=site_packages, use_installed=not no_installed,
                          python_version=python_version)
    try:
        output = _run(path, zip_file, import_time, options, runs, top, output_format)
    except LambdalintError as exc:
        click.echo(f"lambdalint deps: {exc.message}", err=True)
        ctx.exit(EXIT_USAGE)
    click.echo(output)


def _run(path: Path | None, zip_file: Path | None, import_time: Path | None, options: DepsOptions,
         runs: int, top: int, output_format: str) -> str:
    target = zip_file or path or (None if import_time else Path("."))
    report = build_report(target, options) if target is not None else None
    timing = (measure_import_time(import_time, runs, site_packages=options.site_packages)
              if import_time else None)
    if output_format == "json":
        data = report_dict(report) if report else {}
        if timing:
            data["import_time"] = timing.to_dict(top)
        return json.dumps(data, indent=2)
    parts = ([format_text(report)] if report else []) + ([format_import_time(timing, top)] if timing else [])
    return "\n\n".join(parts)
