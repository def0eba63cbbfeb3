"""Find templates, read their functions, and hand the engine the handlers they declare.

A template that cannot be read is a LAM600 finding, never a traceback; the other templates are
still read.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from ..config import DEFAULT_EXCLUDES, Config, glob_pattern
from ..engine.project import Handler
from ..findings import Finding, Severity
from .model import FunctionConfig
from .rules import display, filter_findings, handler_problem, template_findings

TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json", "serverless.yml", "serverless.yaml")
TEMPLATE_PATTERNS = ("*.template.yaml", "*.template.yml", "*.template.json")
# Build output holds generated copies of the templates (and of the code): never read them.
SKIP_DIRS = frozenset({".aws-sam", "cdk.out", "node_modules", ".serverless", *DEFAULT_EXCLUDES})
# Words that show a file that failed to parse was meant to be a template (others are skipped).
_TEMPLATE_MARKERS = ("Resources", "AWSTemplateFormatVersion", "Transform", "functions:", "provider:")


_TEMPLATE_NAME = glob_pattern((*TEMPLATE_NAMES, *TEMPLATE_PATTERNS))


def is_template_name(name: str) -> bool:
    # fnmatch's own rule (case-folded on case-insensitive systems), in one compiled pattern:
    # `check` runs this for every file of the tree.
    return _TEMPLATE_NAME.match(os.path.normcase(name)) is not None


def find_templates(paths: Iterable[Path], exclude: Sequence[str] = ()) -> list[Path]:
    """Template files under `paths` (files named explicitly are taken as they are)."""
    found: dict[str, Path] = {}
    for path in paths:
        path = Path(path)
        if path.is_file():
            if is_template_name(path.name):
                found.setdefault(os.path.abspath(path), path)
            continue
        for directory, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not _excluded(d, exclude))
            for name in sorted(filenames):
                if is_template_name(name) and not _excluded(name, exclude):
                    candidate = Path(directory) / name
                    found.setdefault(os.path.abspath(candidate), candidate)
    return list(found.values())


def _excluded(name: str, patterns: Sequence[str]) -> bool:
    return bool(patterns) and _exclusion(tuple(patterns)).match(os.path.normcase(name)) is not None


@lru_cache(maxsize=8)
def _exclusion(patterns: tuple[str, ...]) -> re.Pattern:
    return glob_pattern(patterns)


def read_template(path: Path) -> tuple[list[FunctionConfig], list[Finding]]:
    """The functions of one template file, or a LAM600 finding saying why it cannot be read."""
    # The YAML reader and the template models load only when a template is there to read.
    from . import sam, serverless
    from .loader import TemplateSyntaxError, load

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return [], [_unreadable(path, f"cannot read the file: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return [], [_unreadable(path, f"not UTF-8 (byte {exc.start}): CloudFormation templates must be UTF-8")]
    try:
        document = load(text)
    except TemplateSyntaxError as exc:
        if not any(marker in text for marker in _TEMPLATE_MARKERS):
            return [], []  # a template.yaml of some other tool: not ours to judge
        return [], [_unreadable(path, f"not valid YAML/JSON: {exc.message}", exc.line)]
    try:
        if serverless.is_serverless(document):
            return serverless.parse(path, document), []
        if sam.is_cloudformation(document):
            return sam.parse(path, document), []
    except sam.TemplateError as exc:
        return [], [_unreadable(path, exc.message, exc.line)]
    except RecursionError:
        return [], [_unreadable(path, "the template nests too deeply to read")]
    if isinstance(document, dict) and "Resources" in document:
        return [], [_unreadable(path, "Resources must be a mapping of logical IDs to resources",
                                getattr(document, "key_lines", {}).get("Resources", 1))]
    return [], []


def _unreadable(path: Path, reason: str, line: int = 1) -> Finding:
    return Finding(display(path), max(line, 1), 1, "LAM600",
                   f"template cannot be read ({reason}); its functions were not checked and a deploy "
                   f"would fail on it too — fix the file (`sam validate --lint` / cfn-lint show details)",
                   Severity.ERROR, name="template-unreadable")


def load_functions(paths: Iterable[Path], exclude: Sequence[str] = (),
                   name_root: Path | None = None) -> tuple[list[FunctionConfig], list[Finding]]:
    """Every function declared in the templates under `paths`, and the LAM600 findings of the
    templates that could not be read. Names shared by two templates get the template's path as
    a prefix ("services/billing/template.yaml:Function", relative to `name_root`, default the
    working directory) so that each stays distinct."""
    functions: list[FunctionConfig] = []
    problems: list[Finding] = []
    for template in find_templates(paths, exclude):
        found, errors = read_template(template)
        functions += found
        problems += errors
    counts: dict[str, int] = {}
    for function in functions:
        counts[function.name] = counts.get(function.name, 0) + 1
    for function in functions:
        if counts[function.name] > 1:
            where = os.path.relpath(os.path.abspath(function.template), name_root) if name_root else display(function.template)
            function.name = f"{Path(where).as_posix()}:{function.name}"
    return functions, problems


def handlers(functions: Iterable[FunctionConfig]) -> list[Handler]:
    """The engine's handlers for these functions. A Python function deployed behind several
    functions (an SQS one and an API one, say) is at least once if any of them is, and uses the
    shortest timeout. Handlers whose file or function is missing are left to LAM605."""
    merged: dict[tuple[str, str], Handler] = {}
    for function in functions:
        handler = function.to_handler()
        if handler is None or handler_problem(function) is not None:
            continue
        key = (handler.path, handler.function)
        if key in merged:
            handler = _merge(merged[key], handler)
        merged[key] = handler
    return list(merged.values())


def _merge(a: Handler, b: Handler) -> Handler:
    flags = {a.at_least_once, b.at_least_once}
    flag = True if True in flags else (None if None in flags else False)
    timeouts = [t for t in (a.timeout, b.timeout) if t is not None]
    return Handler(a.path, a.function, flag, min(timeouts) if timeouts else None, source="template")


def handlers_for_check(paths: Sequence[Path], root: Path, config: Config | None = None,
                       enabled: frozenset[str] | None = None,
                       today: dt.date | None = None) -> tuple[list[Handler], list[Finding]]:
    """For `lambdalint check PATHS`: the handlers the templates declare, and the LAM6xx findings.

    Templates under PATHS are read and checked. The templates in the directories above PATHS, up
    to `root` (the project directory), are read for their handlers only, so that
    `lambdalint check src/app.py` still knows the function behind src/app.py is fed by SQS. Only handlers whose file is inside
    PATHS are returned: the engine reports LAM907 for a handler file it was not asked to check.
    With `config`/`enabled`, findings get the same selection, severity overrides,
    per-file-ignores and `# noqa` treatment as the engine's.
    """
    exclude = tuple(config.exclude) if config else ()
    functions, findings = load_functions(paths, exclude)
    findings += template_findings(functions, today)
    seen = {os.path.abspath(f.template) for f in functions}
    for template in _enclosing_templates(paths, Path(root)):
        if os.path.abspath(template) in seen:
            continue
        functions += read_template(template)[0]
    chosen = [h for h in handlers(functions) if inside(h.path, paths)]
    if config is not None or enabled is not None:
        findings = filter_findings(findings, enabled, config.severity if config else (),
                                   config.per_file_ignores if config else (), config.root if config else None)
    return chosen, sorted(set(findings))


def _enclosing_templates(paths: Sequence[Path], root: Path) -> list[Path]:
    """Templates in the directories that hold PATHS, up to `root`: where a project keeps the
    template.yaml that deploys `src/app.py`."""
    root = root.resolve()
    directories: dict[Path, None] = {}
    for path in paths:
        here = Path(os.path.abspath(path)).resolve()
        for directory in (here, *here.parents):
            if directory.is_dir():
                directories[directory] = None
            if directory == root or root not in directory.parents:
                break
    found = []
    for directory in directories:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        found += [directory / n for n in names if is_template_name(n) and (directory / n).is_file()]
    return found


def inside(path: str, paths: Sequence[Path]) -> bool:
    """Is the absolute `path` one of `paths` or under one of them?"""
    for given in paths:
        given_abs = os.path.abspath(given)
        if path == given_abs or path.startswith(given_abs.rstrip(os.sep) + os.sep):
            return True
    return False
