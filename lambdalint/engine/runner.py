"""Running a check: collect files, analyse them (in parallel), join them, filter the findings."""

from __future__ import annotations

import fnmatch
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..config import Config
from ..findings import Finding, Severity
from .analyzer import Settings, analyze_module
from .modules import ModuleFinder
from .project import Handler, Project, discover_handlers, display_path, findings_for, handler_from_spec, local_imports
from .source import decode, noqa_lines, scan, tool_error
from .summary import ModuleSummary

# Below this many files a process pool costs more to start than it saves.
PARALLEL_THRESHOLD = 16


@dataclass
class Report:
    findings: list[Finding]
    files_checked: int
    handlers: list[Handler] = field(default_factory=list)


# -- file collection ----------------------------------------------------------------------
def collect_files(paths: Iterable[Path], exclude: Iterable[str]) -> tuple[list[str], list[Finding]]:
    """Python files under `paths`. Directories are walked without following symlinks (no loops);
    files named explicitly are always checked."""
    patterns = tuple(exclude)
    files: list[str] = []
    problems: list[Finding] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        absolute = os.path.abspath(path)
        if absolute not in seen:
            seen.add(absolute)
            files.append(absolute)

    for path in paths:
        path_str = os.fspath(path)
        if os.path.isfile(path_str) or (os.path.islink(path_str) and not os.path.exists(path_str)):
            add(path_str)
            continue
        if not os.path.isdir(path_str):
            problems.append(tool_error(path_str, "LAM904", "no such file or directory"))
            continue
        for directory, dirnames, filenames in os.walk(path_str, onerror=None, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not _excluded(d, os.path.join(directory, d), patterns))
            for name in sorted(filenames):
                if name.endswith(".py") and not _excluded(name, os.path.join(directory, name), patterns):
                    add(os.path.join(directory, name))
    return files, problems


def _excluded(name: str, path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, f"*/{p}") for p in patterns)


# -- per-file work (runs in worker processes) ---------------------------------------------
def analyze_file(path: str, shown: str, settings: Settings, force: bool) -> ModuleSummary:
    """Read, decode and analyse one file. Never raises: problems become LAM9xx findings."""
    from ..rules import RULE_CLASSES

    summary = ModuleSummary(path=path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        summary.errors.append(tool_error(shown, "LAM904", f"{exc.strerror or exc}"))
        return summary
    source = decode(shown, data)
    if source.error is not None:
        summary.errors.append(source.error)
        return summary
    text = source.text
    try:
        quick = scan(shown, text)
        if quick.parse_error is not None:
            summary.errors.append(quick.parse_error)
            return summary
        summary.handler_names = quick.handler_hints
        summary.imports = quick.imports
        if force or quick.handler_hints or quick.needs_libcst_parse:
            full = analyze_module(shown, text, settings, RULE_CLASSES)
            full.path = path
            full.handler_names = quick.handler_hints
            if not full.imports:
                full.imports = quick.imports
            if quick.syntax_error is not None and any(e.code == "LAM901" for e in full.errors):
                full.errors = [e for e in full.errors if e.code != "LAM901"] + [quick.syntax_error]
            summary = full
    except RecursionError:
        summary.errors.append(tool_error(shown, "LAM905", "expressions nest too deeply to analyse; CPython fails to compile this module too — flatten the expression"))
    except Exception as exc:  # a bug in lambdalint must not stop the other files
        summary.errors.append(tool_error(shown, "LAM906", f"lambdalint failed on this file ({type(exc).__name__}: {exc}); please report it"))
    if summary.candidates or summary.errors:
        summary.noqa = noqa_lines(text)
    return summary


def _noqa_of(path: str) -> dict[int, frozenset[str] | None]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return noqa_lines(fh.read())
    except OSError:
        return {}


def _merge_handlers(configured: list[Handler], extra: list[Handler]) -> list[Handler]:
    merged = {(h.path, h.function): h for h in configured}
    for handler in extra:
        merged[(handler.path, handler.function)] = handler
    return list(merged.values())


def _analyze_batch(batch: list[tuple[str, str, Settings, bool]]) -> list[ModuleSummary]:
    return [analyze_file(*item) for item in batch]


class Checker:
    """One `lambdalint check` run."""

    def __init__(self, config: Config, enabled: frozenset[str], jobs: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.config = config
        self.settings = Settings(enabled=enabled)
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.progress = progress
        self.cwd = os.getcwd()

    def run(self, paths: list[Path], handlers: list[Handler] | None = None) -> Report:
        """Check `paths`. `handlers` (e.g. read from SAM/serverless templates) add to, and for
        the same function override, the handlers named in the config."""
        files, problems = collect_files(paths, self.config.exclude)
        self._checked_dirs = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
        configured = _merge_handlers(self._configured_handlers(), handlers or [])
        forced = {h.path for h in configured}
        summaries = self._analyze([(f, f in forced) for f in files])
        finder = ModuleFinder(self.config.root)
        # Follow imports from handler modules into local modules (checked or not), transitively:
        # helpers a handler imports need the full analysis even when they define no handler.
        frontier = [s for s in summaries.values() if s.analyzed and (s.handler_names or s.path in forced)]
        followed: set[str] = set()
        while frontier:
            wanted: set[str] = set()
            for summary in frontier:
                if summary.path in followed:
                    continue
                followed.add(summary.path)
                wanted |= {p for p in local_imports(summary, finder) if p not in summaries or not summaries[p].analyzed}
            fresh = self._analyze([(p, True) for p in sorted(wanted)]) if wanted else {}
            summaries.update(fresh)
            frontier = [s for s in fresh.values() if s.analyzed]
        for handler in configured:
            summary = summaries.get(handler.path)
            if summary is None or (summary.analyzed and handler.function not in summary.functions):
                problems.append(tool_error(display_path(handler.path, self.cwd), "LAM907",
                    f"configured handler {handler.function!r} does not exist in this file; Lambda would fail every invocation with Runtime.HandlerNotFound"))
        handlers = discover_handlers({p: s for p, s in summaries.items() if s.analyzed}, configured)
        project = Project(summaries, finder)
        reach = project.reach(handlers)
        findings = findings_for(summaries, handlers, reach, self.config.timeout) + problems
        if any(code.startswith("LAM4") for code in self.settings.enabled):
            findings += self._dependency_findings(handlers, project)
        findings = self._filter(findings, summaries)
        return Report(sorted(set(findings)), len(files), handlers)

    def _dependency_findings(self, handlers: list[Handler], project: Project) -> list[Finding]:
        """LAM4xx on the requirement files that describe each handler's function."""
        from ..deps import check_requirements, deps_options_from_config, find_requirement_files

        options = deps_options_from_config(self.config.tables.get("deps", {}), base=self.config.root)
        by_manifest: dict[Path, set[str]] = {}
        for handler in handlers:
            root = self._checked_root(handler.path)
            for manifest in find_requirement_files(Path(handler.path), root=root):
                by_manifest.setdefault(manifest, set()).add(handler.path)
        findings: list[Finding] = []
        for manifest, handler_paths in sorted(by_manifest.items()):
            imported: set[str] = set()
            for path in handler_paths:
                for module in project._module_closure(path):
                    imported |= {name.split(".")[0] for name in project.summaries[module].imports if not name.startswith(".")}
            shown = Path(display_path(str(manifest), self.cwd))
            findings += check_requirements(shown, handler_imports=imported, options=options)
        return findings

    def _checked_root(self, path: str) -> Path:
        """The deepest directory the user asked to check that holds `path`: manifests above it
        (the repository's own pyproject.toml, say) do not describe this function."""
        best = None
        for checked in self._checked_dirs:
            if path.startswith(checked + os.sep) and (best is None or len(checked) > len(best)):
                best = checked
        return Path(best) if best else self.config.root

    def _configured_handlers(self) -> list[Handler]:
        handlers = []
        sync = {handler_from_spec(s, self.config.root) for s in self.config.synchronous}
        alo = {handler_from_spec(s, self.config.root) for s in self.config.at_least_once}
        for spec in self.config.handlers:
            path, function = handler_from_spec(spec, self.config.root)
            flag = True if (path, function) in alo else False if (path, function) in sync else None
            handlers.append(Handler(path, function, flag, source="config"))
        return handlers

    def _analyze(self, items: list[tuple[str, bool]]) -> dict[str, ModuleSummary]:
        work = [(path, display_path(path, self.cwd), self.settings, force) for path, force in items]
        results: dict[str, ModuleSummary] = {}
        if len(work) < PARALLEL_THRESHOLD or self.jobs == 1:
            for index, item in enumerate(work):
                summary = analyze_file(*item)
                results[summary.path] = summary
                self._tick(index + 1, len(work))
            return results
        size = max(1, min(64, len(work) // (self.jobs * 4)))
        batches = [work[i:i + size] for i in range(0, len(work), size)]
        done = 0
        with ProcessPoolExecutor(max_workers=self.jobs) as pool:
            for batch in pool.map(_analyze_batch, batches):
                for summary in batch:
                    results[summary.path] = summary
                done += len(batch)
                self._tick(done, len(work))
        return results

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def _filter(self, findings: list[Finding], summaries: dict[str, ModuleSummary]) -> list[Finding]:
        by_shown = {display_path(p, self.cwd): s.noqa for p, s in summaries.items()}
        severities = dict(self.config.severity)
        out = []
        for finding in findings:
            if finding.code not in self.settings.enabled:
                continue
            noqa = by_shown.get(finding.path)
            if noqa is None:  # a file the analysis did not read, e.g. requirements.txt
                noqa = by_shown[finding.path] = _noqa_of(finding.path)
            if finding.line in noqa:
                codes = noqa[finding.line]
                if codes is None or finding.code in codes:
                    continue
            if self._per_file_ignored(finding):
                continue
            if finding.code in severities:
                from dataclasses import replace

                finding = replace(finding, severity=Severity(severities[finding.code]))
            out.append(finding)
        return out

    def _per_file_ignored(self, finding: Finding) -> bool:
        path = finding.path
        rel = display_path(os.path.abspath(path), str(self.config.root))
        for glob, codes in self.config.per_file_ignores:
            if fnmatch.fnmatch(rel, glob) or fnmatch.fnmatch(path, glob):
                if any(finding.code.startswith(c) for c in codes):
                    return True
        return False
