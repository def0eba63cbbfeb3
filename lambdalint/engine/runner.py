"""Running a check: collect files, analyse them (in parallel), join them, filter the findings."""

from __future__ import annotations

import fnmatch
import gc
import json
import os
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..config import Config, glob_pattern
from ..findings import Finding, Severity
from .cache import RUN_RECORDS, Cache, RunRecord, signature
from .modules import ModuleFinder
from .project import Handler, Project, discover_handlers, display_path, findings_for, handler_from_spec, local_imports
from .source import decode, noqa_lines, scan, tool_error
from .summary import ModuleSummary, Settings

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
    excluded = _exclusion_matcher(tuple(exclude))
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
            dirnames[:] = sorted(d for d in dirnames if not excluded(d, os.path.join(directory, d)))
            absolute = None
            for name in sorted(filenames):
                if name.endswith(".py") and not excluded(name, os.path.join(directory, name)):
                    # abspath(join(directory, name)) == join(abspath(directory), name) for a
                    # plain file name: normalise the directory once, not every file.
                    absolute = absolute or os.path.abspath(directory)
                    full = os.path.join(absolute, name)
                    if full not in seen:
                        seen.add(full)
                        files.append(full)
    return files, problems


def _excluded(name: str, path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, f"*/{p}") for p in patterns)


def _exclusion_matcher(patterns: tuple[str, ...]) -> Callable[[str, str], bool]:
    """`_excluded` with the patterns compiled once: fnmatch.fnmatch(x, p) is
    re.match(fnmatch.translate(normcase(p)), normcase(x)); the alternatives of one regex match
    where any of the patterns does."""
    if not patterns:
        return lambda name, path: False
    normcase = os.path.normcase
    on_name = glob_pattern(patterns)
    on_path = glob_pattern(q for p in patterns for q in (p, f"*/{p}"))

    def excluded(name: str, path: str) -> bool:
        return on_name.match(normcase(name)) is not None or on_path.match(normcase(path)) is not None

    return excluded


# -- per-file work (runs in worker processes) ---------------------------------------------
def analyze_file(path: str, shown: str, settings: Settings, force: bool, cache: Cache | None = None,
                 prescanned: ModuleSummary | None = None, lookup: bool = True) -> ModuleSummary:
    """Read, decode and analyse one file. Never raises: problems become LAM9xx findings.

    `force`: the full analysis even without a handler in the file (it is imported by one, or
    configured). `prescanned`: the clean result of this file's cheap scan, from earlier in the
    run, so the scan is not repeated. With a `cache`, a stored result for these bytes is
    returned instead of analysing them (`lookup=False`: the caller already looked), and a new
    result is stored."""
    summary = ModuleSummary(path=path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        summary.errors.append(tool_error(shown, "LAM904", f"{exc.strerror or exc}"))
        return summary
    key = None
    if cache is not None:
        key = cache.key(data, settings, force)
        if lookup:
            hit = cache.load(key, path, shown)
            if hit is not None:
                return hit
    summary = _analyze_bytes(path, shown, data, settings, force, prescanned)
    if key is not None and not any(e.code == "LAM906" for e in summary.errors):
        cache.store(key, summary, shown)
    return summary


def cached_result(path: str, shown: str, settings: Settings, force: bool, cache: Cache) -> ModuleSummary | None:
    """The cached result `analyze_file` would return, or None (not cached, or unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return cache.load(cache.key(data, settings, force), path, shown)


def _analyze_bytes(path: str, shown: str, data: bytes, settings: Settings, force: bool,
                   prescanned: ModuleSummary | None) -> ModuleSummary:
    from ..rules import RULE_CLASSES
    from .analyzer import analyze_module

    summary = ModuleSummary(path=path)
    source = decode(shown, data)
    if source.error is not None:
        summary.errors.append(source.error)
        return summary
    text = source.text
    try:
        if prescanned is not None and force:
            # The scan already ran on these bytes and found nothing wrong.
            handler_hints, imports, syntax_error, needs_libcst = prescanned.handler_names, prescanned.imports, None, False
        else:
            quick = scan(shown, text)
            if quick.parse_error is not None:
                summary.errors.append(quick.parse_error)
                return summary
            handler_hints, imports = quick.handler_hints, quick.imports
            syntax_error, needs_libcst = quick.syntax_error, quick.needs_libcst_parse
        summary.handler_names = handler_hints
        summary.imports = imports
        if force or handler_hints or needs_libcst:
            # CPython parsed it (or it was forced after a clean scan): libcst may skip validation.
            full = analyze_module(shown, text, settings, RULE_CLASSES, validate=needs_libcst)
            full.path = path
            full.handler_names = handler_hints
            if not full.imports:
                full.imports = imports
            if syntax_error is not None and any(e.code == "LAM901" for e in full.errors):
                full.errors = [e for e in full.errors if e.code != "LAM901"] + [syntax_error]
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


# The analysis allocates millions of short-lived objects (libcst builds ~1,600 nodes per
# file) and creates almost no reference cycles: with CPython's default threshold (700) the
# cyclic collector runs thousands of times per run and costs about a fifth of the time.
GC_THRESHOLDS = (50_000, 20, 10)


@contextmanager
def _gc_tuned():
    saved = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _worker_init() -> None:
    """Runs once in each worker process: no automatic cyclic collection at all (reference
    counting frees the trees; the rare cycle, from an exception's traceback, waits for the
    collection after each batch), and what the parent imported stays out of it."""
    gc.freeze()
    gc.disable()


def _preload() -> None:
    """Import the analysis before the pool forks, so workers inherit it instead of each
    importing libcst and the rules and reading the catalogs again."""
    from ..catalog import all_rules, catalogs
    from ..rules import RULE_CLASSES  # noqa: F401
    from .analyzer import analyze_module  # noqa: F401

    catalogs()
    all_rules()


def _crashed(item: "Item") -> ModuleSummary:
    path, shown = item[0], item[1]
    summary = ModuleSummary(path=path)
    summary.errors.append(tool_error(shown, "LAM906", "the process analysing this file died (a crash in the "
                                     "parser, or out of memory); the other files were checked; please report it"))
    return summary


# One unit of work: (path, display path, force, prescanned scan result or None).
Item = tuple[str, str, bool, "ModuleSummary | None"]


# Each worker's import resolver, for the run it works for (workers live for one run).
_FINDERS: dict[tuple[str, bool], tuple[ModuleFinder, set[str]]] = {}


def _analyze_batch(settings: Settings, cache: Cache | None, batch: list[Item], root: str = "",
                   track: bool = False) -> tuple[list[tuple], list[str], bool]:
    """Analyse `batch` in a worker. For a result whose imports the run will follow (a handler
    module, or a forced analysis), the local modules it imports and the names its functions use
    are resolved here too, so that the parent does not have to: ([(summary, local imports,
    resolved names)], directories the resolution looked at, whether a symlink was among them)."""
    finder, sent = _FINDERS.get((root, track)) or _FINDERS.setdefault((root, track), (ModuleFinder(Path(root), track=track), set()))
    results = []
    for path, shown, force, prescanned in batch:
        summary = analyze_file(path, shown, settings, force, cache, prescanned, lookup=False)
        local = resolved = None
        if root and summary.analyzed and (force or summary.handler_names):
            local = local_imports(summary, finder)
            # What the dotted names its functions use resolve to, for the reachability walk.
            names = {ref.replace("()", "") for info in summary.functions.values() for ref in info.refs
                     if not ref.startswith(("@", "aws.")) and "." in ref.strip(".")}
            resolved = {name: finder.resolve(path, name) for name in names}
        results.append((summary, local, resolved))
    if not gc.isenabled():
        gc.collect(1)
    consulted = list(finder.consulted - sent)
    sent.update(consulted)
    return results, consulted, finder.volatile


class Checker:
    """One `lambdalint check` run."""

    def __init__(self, config: Config, enabled: frozenset[str], jobs: int = 0,
                 progress: Callable[[int, int], None] | None = None, cache: bool = True,
                 cache_dir: Path | None = None, apply_noqa: bool = True) -> None:
        """`jobs`: worker processes (0: one per CPU). `cache`: reuse and store per-file results
        (engine/cache.py) in `cache_dir`, by default .lambdalint_cache/ in the config root.
        `apply_noqa=False`: keep findings silenced by `# noqa` comments, for a caller that
        applies them itself (the flake8 plugin: flake8 honours noqa and --disable-noqa)."""
        self.apply_noqa = apply_noqa
        self.config = config
        self.settings = Settings(enabled=enabled)
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.progress = progress
        self.cwd = os.getcwd()
        self.use_cache = cache
        self.cache_dir = cache_dir
        self.cache: Cache | None = None
        self.stats = {"files": 0, "cached": 0, "analysed": 0}

    def run(self, paths: list[Path], handlers: list[Handler] | None = None) -> Report:
        """Check `paths`. `handlers` (e.g. read from SAM/serverless templates) add to, and for
        the same function override, the handlers named in the config."""
        files, problems = collect_files(paths, self.config.exclude)
        self._checked_dirs = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
        configured = _merge_handlers(self._configured_handlers(), handlers or [])
        forced = {h.path for h in configured}
        if self.use_cache and self.cache is None:
            self.cache = Cache.open(self.config.root, self.config.fingerprint(), self.cache_dir)
        deps = any(code.startswith("LAM4") for code in self.settings.enabled)
        run_key = self.cache.run_key(self._run_identity(paths, configured)) if self.cache is not None and RUN_RECORDS else None
        record = self.cache.load_run(run_key) if run_key is not None else None
        if record is not None and record.files == files:
            # Nothing this run depends on changed since it last ran: its result stands.
            self.stats.update(files=len(files), cached=len(files), run_cached=True)
            engine, found = record.findings, [Handler(*h) for h in record.handlers]
            closures = {path: set(names) for path, names in record.closures.items()}
            # The LAM4xx checks read manifests and the installed packages: they run again,
            # unless the run found no manifest at all and the folders searched are unchanged.
            dependency = self._dependency_findings(found, closures)[0] if deps and not record.no_manifests else []
        else:
            engine, found, dependency = self._run_engine(files, forced, configured, deps, run_key)
        findings = engine + self._filter(problems, {}) + self._filter(dependency, {})
        return Report(sorted(set(findings)), len(files), found)

    def _run_engine(self, files: list[str], forced: set[str], configured: list[Handler], deps: bool,
                    run_key: str | None) -> tuple[list[Finding], list[Handler], list[Finding]]:
        """Analyse, join and filter: the engine's findings (filtered), the handlers, and the
        LAM4xx findings (not filtered)."""
        with _gc_tuned():
            return self._engine(files, forced, configured, deps, run_key)

    def _engine(self, files: list[str], forced: set[str], configured: list[Handler], deps: bool,
                run_key: str | None) -> tuple[list[Finding], list[Handler], list[Finding]]:
        finder = ModuleFinder(self.config.root, track=run_key is not None)
        summaries = self._analyze_all(files, forced, finder)
        problems = []
        for handler in configured:
            summary = summaries.get(handler.path)
            if summary is None or (summary.analyzed and handler.function not in summary.functions):
                problems.append(tool_error(display_path(handler.path, self.cwd), "LAM907",
                    f"configured handler {handler.function!r} does not exist in this file; Lambda would fail every invocation with Runtime.HandlerNotFound"))
        found = discover_handlers({p: s for p, s in summaries.items() if s.analyzed}, configured)
        project = Project(summaries, finder, self._local_of, self._resolved_of)
        reach = project.reach(found)
        engine = self._filter(findings_for(summaries, found, reach, self.config.timeout) + problems, summaries)
        closures: dict[str, set[str]] = {}
        if deps:
            for handler in found:
                if handler.path not in closures:
                    closures[handler.path] = {name.split(".")[0] for module in project._module_closure(handler.path)
                                              for name in project.summaries[module].imports if not name.startswith(".")}
        # Where LAM4xx looks for manifests: read once, for the checks and for the run record.
        searched, named = self._manifest_folders(found) if deps else (None, False)
        dependency, any_manifest = self._dependency_findings(found, closures, named) if deps else ([], False)
        if run_key is not None and not finder.volatile:
            read = set(summaries) | {h.path for h in configured}
            consulted = set(finder.consulted)
            no_manifests = False
            if deps and not any_manifest:
                if searched is not None:
                    no_manifests = True
                    consulted |= searched
                    read |= {os.path.join(folder, "pyproject.toml") for folder in searched}
            record = RunRecord(files=files, signatures={path: signature(path) for path in sorted(read)},
                               directories={d: signature(d) for d in sorted(consulted)},
                               findings=engine, handlers=[astuple(h) for h in found],
                               closures={path: sorted(names) for path, names in closures.items()},
                               no_manifests=no_manifests, recorded_ns=time.time_ns())
            self.cache.store_run(run_key, record)
        return engine, found, dependency

    def _manifest_folders(self, handlers: list[Handler]) -> tuple[set[str] | None, bool]:
        """The folders deps.find_requirement_files looks in for these handlers (each handler's
        folder and its parents up to the checked root, resolved as it resolves them): while
        their entries and pyproject.toml files are unchanged, a run that found no manifest
        would find none again. None when a symlink among their entries makes that unsure.
        And whether any of them holds a file whose name a manifest may have."""
        from ..deps.names import may_be_manifest

        folders: set[str] = set()
        for handler in handlers:
            folder = os.path.realpath(os.path.dirname(handler.path))
            stop = os.path.realpath(str(self._checked_root(handler.path)))
            while folder not in folders:
                folders.add(folder)
                parent = os.path.dirname(folder)
                if folder == stop or parent == folder:
                    break
                folder = parent
        named = False
        for folder in folders:
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_symlink():
                            return None, True
                        named = named or may_be_manifest(entry.name)
            except OSError:
                return None, True
        return folders, named

    def _run_identity(self, paths: list[Path], configured: list[Handler]) -> str:
        """Everything besides file contents and directory entries that a run's result depends
        on (the cache salt adds lambdalint's code and the config fingerprint)."""
        config = self.config
        parts = (
            f"{type(self).__module__}.{type(self).__qualname__}", self.apply_noqa, self.cwd, str(config.root),
            sorted(self.settings.enabled), [os.path.abspath(p) for p in paths],
            [astuple(h) for h in configured],
            config.select, config.ignore, config.extend_select, config.per_file_ignores, config.handlers,
            config.at_least_once, config.synchronous, config.timeout, config.memory, config.exclude, config.severity,
        )
        return json.dumps(parts, default=repr)

    def _dependency_findings(self, handlers: list[Handler], closures: dict[str, set[str]],
                             named: bool | None = None) -> tuple[list[Finding], bool]:
        """LAM4xx on the requirement files that describe each handler's function, and whether
        any handler has such a file. `named`: _manifest_folders' answer, when the caller has it."""
        if named is None:
            named = self._manifest_folders(handlers)[1]
        if not self.config.tables.get("deps") and not named:
            return [], False  # nothing near the handlers is named like a manifest
        from ..deps import check_requirements, deps_options_from_config, find_requirement_files

        options = deps_options_from_config(self.config.tables.get("deps", {}), base=self.config.root)
        by_manifest: dict[Path, set[str]] = {}
        folders: dict = {}
        for handler in handlers:
            root = self._checked_root(handler.path)
            for manifest in find_requirement_files(Path(handler.path), root=root, memo=folders):
                by_manifest.setdefault(manifest, set()).add(handler.path)
        findings: list[Finding] = []
        for manifest, handler_paths in sorted(by_manifest.items()):
            imported: set[str] = set()
            for path in handler_paths:
                imported |= closures.get(path, set())
            shown = Path(display_path(str(manifest), self.cwd))
            findings += check_requirements(shown, handler_imports=imported, options=options)
        return findings, bool(by_manifest)

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

    # -- the per-file phase ---------------------------------------------------------------
    def _analyze_all(self, files: list[str], forced: set[str], finder: ModuleFinder) -> dict[str, ModuleSummary]:
        """Every checked file, plus the local modules handlers import (transitively), which get
        the full analysis even when they define no handler and are not among the checked files.

        The first pass runs the cheap scan on each file (the full analysis on files with a
        handler, or configured). A handler module's imports are followed as soon as its
        result arrives, so helpers are analysed while the first pass is still running, on the
        same worker pool. Results are collected by path; their order does not depend on which
        worker finished first."""
        checked = set(files)
        first: dict[str, ModuleSummary] = {}     # first-pass results
        second: dict[str, ModuleSummary] = {}    # forced analyses of imported modules
        requested: set[str] = set()              # sent (or decided) for the forced analysis
        waiting: set[str] = set()                # wanted, but their first-pass result is not in yet
        followed: set[str] = set()
        todo_first: deque[Item] = deque()
        todo_second: deque[Item] = deque()
        cache = self.cache
        settings = self.settings

        def want(path: str) -> None:
            if path in requested:
                return
            if path in checked and path not in first:
                waiting.add(path)
                return
            earlier = first.get(path)
            if earlier is not None and earlier.analyzed:
                return  # it had the full analysis already
            requested.add(path)
            clean = earlier if earlier is not None and not earlier.errors else None
            schedule(todo_second, second, path, True, clean)

        def follow(summary: ModuleSummary, local: set[str] | None) -> None:
            if summary.path not in followed:
                followed.add(summary.path)
                if local is None:
                    local = local_imports(summary, finder)
                self._local_of[summary.path] = local
                for path in sorted(local):
                    want(path)

        def arrived(summary: ModuleSummary, is_first: bool, local: set[str] | None = None,
                    resolved: dict | None = None) -> None:
            path = summary.path
            if resolved is not None:
                self._resolved_of[path] = resolved
            if is_first:
                first[path] = summary
                if path in waiting:
                    waiting.discard(path)
                    want(path)
                if summary.analyzed and (summary.handler_names or path in forced):
                    follow(summary, local)
            else:
                second[path] = summary
                if summary.analyzed:
                    follow(summary, local)

        def schedule(queue: deque, into: dict, path: str, force: bool, prescanned: ModuleSummary | None) -> None:
            shown = display_path(path, self.cwd)
            self.stats["files"] += 1
            if cache is not None:
                hit = cached_result(path, shown, settings, force, cache)
                if hit is not None:
                    self.stats["cached"] += 1
                    done_items.append((hit, into is first, None))
                    return
            queue.append((path, shown, force, prescanned))

        done_items: deque[tuple[ModuleSummary, bool, set[str] | None]] = deque()
        self._local_of: dict[str, set[str]] = {}
        self._resolved_of: dict[str, dict] = {}
        for path in files:
            schedule(todo_first, first, path, path in forced, None)
        self._total = len(files)
        self._done = 0

        def drain() -> None:
            # Results found in the cache are handled like results from a worker.
            while done_items:
                arrived(*done_items.popleft())
                self._done += 1
            self._total = self._done + len(todo_first) + len(todo_second) + in_flight_items[0] + len(waiting)
            self._tick(self._done, max(self._total, self._done))

        in_flight_items = [0]
        drain()
        pending = len(todo_first) + len(todo_second)
        if pending and (self.jobs == 1 or len(files) < PARALLEL_THRESHOLD):
            while todo_second or todo_first:
                queue, is_first = (todo_second, False) if todo_second else (todo_first, True)
                path, shown, force, prescanned = queue.popleft()
                self.stats["analysed"] += 1
                done_items.append((analyze_file(path, shown, settings, force, cache, prescanned, lookup=False), is_first, None))
                drain()
        elif pending:
            self._run_pool(todo_first, todo_second, done_items, drain, in_flight_items, finder)
        if cache is not None and self.stats["analysed"]:
            cache.prune()
        summaries = {path: second.get(path, first[path]) for path in files}
        for path in sorted(set(second) - checked):
            summaries[path] = second[path]
        return summaries

    def _run_pool(self, todo_first: deque, todo_second: deque, done_items: deque, drain: Callable[[], None],
                  in_flight_items: list[int], finder: ModuleFinder) -> None:
        """Feed the worker pool: forced analyses of imported modules first (they are the long
        ones, and they are found while the first pass runs), then first-pass files, in chunks
        that shrink as the queue drains; a few chunks in flight per worker so that none waits.

        A worker that dies (a crash in native code, the out-of-memory killer) breaks the pool:
        the files it may have been working on are then analysed one at a time in a new pool,
        and a file that kills a worker on its own gets a LAM906 finding; the run goes on."""
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        jobs = self.jobs
        suspects: deque[tuple[Item, bool]] = deque()
        _preload()
        while todo_first or todo_second or suspects:
            running: dict = {}  # future -> (batch, is_first, alone)
            pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
            try:
                while todo_first or todo_second or suspects or running:
                    while len(running) < jobs * 2 and (todo_first or todo_second or suspects):
                        if suspects:
                            if running:
                                break  # a suspect runs alone
                            item, is_first = suspects.popleft()
                            batch, alone = [item], True
                        else:
                            if todo_second:
                                queue, size, is_first = todo_second, max(1, min(8, len(todo_second) // jobs)), False
                            else:
                                queue, size, is_first = todo_first, max(1, min(32, len(todo_first) // (jobs * 4))), True
                            batch, alone = [queue.popleft() for _ in range(min(size, len(queue)))], False
                            self.stats["analysed"] += len(batch)
                        running[pool.submit(_analyze_batch, self.settings, self.cache, batch, str(finder.root),
                                            finder.track)] = (batch, is_first, alone)
                        in_flight_items[0] += len(batch)
                        if alone:
                            break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    broken = False
                    for future in finished:
                        batch, is_first, alone = running.pop(future)
                        in_flight_items[0] -= len(batch)
                        try:
                            results, consulted, volatile = future.result()
                            finder.consulted.update(consulted)
                            finder.volatile = finder.volatile or volatile
                        except (BrokenProcessPool, Exception):
                            broken = broken or isinstance(future.exception(), BrokenProcessPool)
                            if alone:
                                results = [(_crashed(batch[0]), None, None)]
                            else:
                                suspects.extend((item, is_first) for item in batch)
                                continue
                        done_items.extend((summary, is_first, local, resolved) for summary, local, resolved in results)
                    if broken:
                        for batch, is_first, alone in running.values():
                            in_flight_items[0] -= len(batch)
                            if alone:
                                done_items.append((_crashed(batch[0]), is_first, None))
                            else:
                                suspects.extend((item, is_first) for item in batch)
                        running.clear()
                        drain()
                        break  # this pool is unusable: start another
                    drain()
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

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
            if self.apply_noqa:
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
