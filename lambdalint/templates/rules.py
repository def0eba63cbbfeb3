"""LAM6xx: findings about a function's configuration, at the template line that sets it.

Each check is a small function from a FunctionConfig to findings; the limits and runtime dates
are data (rules/catalogs/function_limits.toml, rules/catalogs/runtimes.toml).
"""

from __future__ import annotations

import ast
import datetime as dt
import fnmatch
import os
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..catalog import all_rules, catalog
from ..errors import DataError
from ..findings import Finding, Severity
from .model import FunctionConfig

_PYTHON = re.compile(r"^python(\d+)\.(\d+)$")
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+\d+(?:[,\s]+[A-Z]+\d+)*))?", re.IGNORECASE)


@dataclass(frozen=True)
class Runtime:
    identifier: str
    deprecation: dt.date | None
    block_create: dt.date | None
    block_update: dt.date | None
    preview: bool
    source: str

    @property
    def version(self) -> tuple[int, int]:
        return _version(self.identifier) or (0, 0)


def _version(identifier: str) -> tuple[int, int] | None:
    match = _PYTHON.match(identifier)
    return (int(match.group(1)), int(match.group(2))) if match else None


@lru_cache(maxsize=None)
def runtimes() -> tuple[Runtime, ...]:
    """rules/catalogs/runtimes.toml, validated, oldest first."""
    out = []
    for entry in catalog("runtimes").get("runtime", []):
        identifier = entry.get("identifier", "")
        if _version(identifier) is None:
            raise DataError(f"runtimes.toml: {identifier!r} is not a pythonX.Y runtime identifier")
        dates = {key: entry.get(key) for key in ("deprecation", "block_create", "block_update")}
        for key, value in dates.items():
            if value is not None and not isinstance(value, dt.date):
                raise DataError(f"runtimes.toml: {identifier}.{key} must be a date (YYYY-MM-DD), got {value!r}")
        out.append(Runtime(identifier, dates["deprecation"], dates["block_create"], dates["block_update"],
                           bool(entry.get("preview", False)), str(entry.get("source", ""))))
    return tuple(sorted(out, key=lambda r: r.version))


@lru_cache(maxsize=None)
def limits() -> dict[str, int]:
    data = catalog("function_limits")
    keys = ("memory_min_mb", "memory_max_mb", "timeout_max_s", "managed_instances_timeout_max_s",
            "sqs_visibility_factor", "deprecation_warning_days")
    missing = [k for k in keys if not isinstance(data.get(k), int)]
    if missing:
        raise DataError(f"function_limits.toml: missing or non-integer {', '.join(missing)}")
    return {k: data[k] for k in keys}


def _finding(function: FunctionConfig, field: str, code: str, message: str,
             severity: Severity | None = None, line: int | None = None) -> Finding:
    rule = all_rules()[code]
    return Finding(display(function.template), line or function.line_of(field), 1, code, message,
                   severity or rule.severity, name=rule.name)


def display(path: Path) -> str:
    from ..engine.project import display_path

    return display_path(os.path.abspath(path))


# -- LAM601 -------------------------------------------------------------------------------

def check_runtime(function: FunctionConfig, today: dt.date) -> Iterator[Finding]:
    version = _version(function.runtime or "")
    if version is None:
        return
    table = runtimes()
    known = {r.identifier: r for r in table}
    newest = _newest_supported(table, today)
    advice = f"move to {newest.identifier}" if newest else "move to a supported Python runtime"
    runtime = known.get(function.runtime or "")
    if runtime is None:
        if table and version < table[0].version:
            yield _finding(function, "runtime", "LAM601",
                           f"runtime {function.runtime} was retired before {table[0].identifier} "
                           f"(deprecated {table[0].deprecation}): it gets no security patches and AWS blocks "
                           f"creating and updating functions on it — {advice}")
        return
    if runtime.deprecation is None:
        return
    days = (runtime.deprecation - today).days
    if days <= 0:
        yield _finding(function, "runtime", "LAM601",
                       f"runtime {runtime.identifier} was deprecated on {runtime.deprecation}: Lambda no longer "
                       f"applies security patches to it{_blocks(runtime, today)} — {advice}")
    elif days <= limits()["deprecation_warning_days"]:
        yield _finding(function, "runtime", "LAM601",
                       f"runtime {runtime.identifier} will be deprecated on {runtime.deprecation} (in {days} "
                       f"days): Lambda then stops applying security patches to it{_blocks(runtime, today)} — "
                       f"{advice}", severity=Severity.WARNING)


def _blocks(runtime: Runtime, today: dt.date) -> str:
    parts = []
    for date, what in ((runtime.block_create, "creating"), (runtime.block_update, "updating")):
        if date is not None:
            parts.append(f"{what} functions {'has been' if date <= today else 'will be'} blocked from {date}")
    return "; " + " and ".join(parts) if parts else ""


def _newest_supported(table: Iterable[Runtime], today: dt.date) -> Runtime | None:
    supported = [r for r in table if not r.preview and (r.deprecation is None or r.deprecation > today)]
    return supported[-1] if supported else None


# -- LAM602 / LAM604 ----------------------------------------------------------------------

def check_timeout(function: FunctionConfig, today: dt.date) -> Iterator[Finding]:
    timeout, limit = function.timeout, limits()
    if timeout is None:
        return
    if not function.capacity_provider and timeout > limit["timeout_max_s"]:
        yield _finding(function, "timeout", "LAM602",
                       f"Timeout {timeout} s is over Lambda's {limit['timeout_max_s']} s (15 minute) limit: "
                       f"CloudFormation rejects the function and the deployment fails (only functions with a "
                       f"capacity provider, Lambda Managed Instances, may run longer) — set Timeout to "
                       f"{limit['timeout_max_s']} or less and split the work (Step Functions, SQS batches)")
    elif function.capacity_provider and timeout > limit["managed_instances_timeout_max_s"]:
        yield _finding(function, "timeout", "LAM602",
                       f"Timeout {timeout} s is over the {limit['managed_instances_timeout_max_s']} s limit of "
                       f"Lambda Managed Instances: the deployment fails — set Timeout to "
                       f"{limit['managed_instances_timeout_max_s']} or less and split the work")


def check_memory(function: FunctionConfig, today: dt.date) -> Iterator[Finding]:
    memory, limit = function.memory, limits()
    if memory is not None and not limit["memory_min_mb"] <= memory <= limit["memory_max_mb"]:
        yield _finding(function, "memory", "LAM604",
                       f"MemorySize {memory:,} MB is outside Lambda's {limit['memory_min_mb']}-"
                       f"{limit['memory_max_mb']:,} MB: CloudFormation rejects the function and the deployment "
                       f"fails — pick a size in that range (`lambdalint profile` measures which is cheapest)")


# -- LAM603 / LAM606 ----------------------------------------------------------------------

def check_sqs_visibility(function: FunctionConfig, today: dt.date) -> Iterator[Finding]:
    timeout, factor = function.timeout, limits()["sqs_visibility_factor"]
    if timeout is None:
        return
    for event in function.events:
        queue = event.queue
        if queue is None or queue.visibility_timeout is None:
            continue
        visibility = queue.visibility_timeout
        given = "VisibilityTimeout" if queue.explicit else "the default VisibilityTimeout"
        wanted = timeout * factor
        if visibility < timeout:
            yield _finding(function, "", "LAM603",
                           f"queue {queue.logical_id}: {given} {visibility} s is shorter than the {timeout} s "
                           f"timeout of {function.name}, which it triggers: Lambda refuses to create the event "
                           f"source mapping (and a message still being processed would be delivered again) — "
                           f"set VisibilityTimeout to at least {wanted} s ({factor} × the function timeout)",
                           line=queue.line)
        elif visibility < wanted:
            yield _finding(function, "", "LAM606",
                           f"queue {queue.logical_id}: {given} {visibility} s is less than {factor} × the {timeout} s "
                           f"timeout of {function.name}: a batch retried after throttling can become visible "
                           f"again while it is still being handled and be processed twice — set "
                           f"VisibilityTimeout to at least {wanted} s (AWS's recommendation)", line=queue.line)


# -- LAM605 -------------------------------------------------------------------------------

def check_handler(function: FunctionConfig, today: dt.date) -> Iterator[Finding]:
    problem = handler_problem(function)
    if problem:
        yield _finding(function, "handler", "LAM605", problem)


def handler_problem(function: FunctionConfig) -> str | None:
    """Why Lambda would not find this Python function's handler, or None."""
    if not function.has_python_code() or "handler" in function.unknown:
        return None
    if function.handler is None:
        return ("no Handler is set: Lambda cannot start a zip function without one (the deployment "
                "fails) — set Handler to path/module.function, e.g. app.lambda_handler")
    if function.handler_path is None or not function.handler_function:
        return (f"Handler {function.handler!r} is not `module.function`: Lambda fails every invocation "
                f"(Runtime.HandlerNotFound) — write it as path/module.function, e.g. app.lambda_handler")
    shown = display(function.handler_path)
    if not function.handler_path.is_file():
        code_dir = display(function.code_dir or function.template.parent)
        return (f"Handler {function.handler}: {shown} does not exist (code directory {code_dir}): "
                f"Lambda fails every invocation with Runtime.ImportModuleError — point Handler at an existing "
                f"module, relative to the code directory")
    if defines(function.handler_path, function.handler_function) is False:
        return (f"Handler {function.handler}: {shown} defines no {function.handler_function!r}: Lambda fails "
                f"every invocation with Runtime.HandlerNotFound — rename the function or fix the Handler")
    return None


def defines(path: Path, name: str) -> bool | None:
    """Does the module bind `name` at top level (def, class, assignment, import)? None when it
    cannot tell: the file does not parse (the engine reports that) or uses `import *`."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError, RecursionError):
        return None
    names: set[str] = set()
    star = False
    for node in _top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                star |= alias.name == "*"
                names.add((alias.asname or alias.name).split(".")[0])
    if name in names:
        return True
    return None if star else False


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside if/try blocks (conditional definitions)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level(block)


# -- all together -------------------------------------------------------------------------

CHECKS: tuple[Callable[[FunctionConfig, dt.date], Iterator[Finding]], ...] = (
    check_runtime, check_timeout, check_memory, check_sqs_visibility, check_handler,
)


def template_findings(functions: Iterable[FunctionConfig], today: dt.date | None = None) -> list[Finding]:
    """Every LAM601-LAM606 finding for these functions (a queue shared by two functions is
    reported once per function: each has its own timeout)."""
    today = today or dt.date.today()
    found = {f for function in functions for check in CHECKS for f in check(function, today)}
    return sorted(found)


def filter_findings(findings: Iterable[Finding], enabled: frozenset[str] | None = None,
                    severities: Iterable[tuple[str, str]] = (),
                    per_file_ignores: Iterable[tuple[str, tuple[str, ...]]] = (),
                    root: Path | None = None) -> list[Finding]:
    """What the engine does for Python files, for template findings: rule selection, severity
    overrides, per-file-ignores and `# noqa: LAM6xx` comments on the template line."""
    overrides = dict(severities)
    ignores = list(per_file_ignores)
    noqa_cache: dict[str, dict[int, frozenset[str] | None]] = {}
    out = []
    for finding in findings:
        if enabled is not None and finding.code not in enabled:
            continue
        noqa = noqa_cache.setdefault(finding.path, _noqa(finding.path))
        if finding.line in noqa and (noqa[finding.line] is None or finding.code in noqa[finding.line]):
            continue
        if _ignored(finding, ignores, root):
            continue
        if finding.code in overrides:
            finding = replace(finding, severity=Severity(overrides[finding.code]))
        out.append(finding)
    return out


def _noqa(path: str) -> dict[int, frozenset[str] | None]:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    out: dict[int, frozenset[str] | None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _NOQA.search(line) if "#" in line else None
        if match:
            codes = match.group("codes")
            out[number] = frozenset(re.split(r"[,\s]+", codes.strip().upper())) if codes else None
    return out


def _ignored(finding: Finding, ignores: list[tuple[str, tuple[str, ...]]], root: Path | None) -> bool:
    from ..engine.project import display_path

    relative = display_path(os.path.abspath(finding.path), str(root)) if root else finding.path
    return any((fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(finding.path, glob))
               and any(finding.code.startswith(c) for c in codes) for glob, codes in ignores)
