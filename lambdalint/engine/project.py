"""The project phase: join the per-file summaries. Which functions does each handler reach
(across modules), which handlers are fed by at-least-once sources, which paths are guarded by an
idempotency mechanism, which modules run at a handler's import. Candidates become findings here.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ..findings import Finding
from .modules import ModuleFinder
from .summary import FunctionInfo, ModuleSummary, Reach

Node = tuple[str, str]  # (absolute file path, function qualname)
_CLASS_ENTRY = ("__init__", "__post_init__", "__call__", "__enter__", "__exit__")


@dataclass
class Handler:
    path: str
    function: str
    at_least_once: bool | None = None  # None: decide from the code
    timeout: int | None = None
    source: str = "discovered"          # discovered | config | template


@dataclass
class Reachability:
    functions: dict[Node, set[int]] = field(default_factory=dict)  # node -> handler indexes
    unguarded_at_least_once: set[Node] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)


class Project:
    def __init__(self, summaries: dict[str, ModuleSummary], finder: ModuleFinder,
                 local_imports: dict[str, set[str]] | None = None,
                 resolved: dict[str, dict[str, tuple[str, str] | None]] | None = None) -> None:
        """`local_imports` and `resolved`: for some modules, the local modules they import and
        what the dotted names they use resolve to, when the workers worked them out already."""
        self.summaries = summaries
        self.finder = finder
        self._local_imports = local_imports or {}
        self._resolved = resolved or {}
        self._decorated: dict[str, dict[str, list[str]]] = {}
        self._next: dict[Node, list[Node]] = {}
        self._targets: dict[tuple[str, str], list[Node]] = {}
        self._nested_index: dict[str, dict[str, list[str]]] = {}

    # -- resolving references -------------------------------------------------------------
    def targets(self, path: str, ref: str) -> list[Node]:
        """Functions a canonical reference in `path` may run."""
        key = (path, ref)
        found = self._targets.get(key)
        if found is None:
            found = self._targets[key] = self._find_targets(path, ref)
        return found

    def _find_targets(self, path: str, ref: str) -> list[Node]:
        if ref.startswith("@"):
            return self._local(path, ref[1:])
        if ref.startswith("aws.") or "." not in ref.strip("."):
            return []
        name = ref.replace("()", "")
        known = self._resolved.get(path)
        found = known[name] if known is not None and name in known else self.finder.resolve(path, name)
        if found is None:
            return []
        module, rest = found
        if not rest or module not in self.summaries:
            return []
        return self._local(module, rest, instance=ref.endswith("()") or "()." in ref)

    def _local(self, path: str, name: str, instance: bool = False) -> list[Node]:
        summary = self.summaries.get(path)
        if summary is None:
            return []
        qual = name.replace("()", "")
        functions = summary.functions
        if qual in functions:
            return [(path, qual)]
        # A class: constructing it runs __init__ (and __post_init__ for dataclasses).
        entries = [(path, f"{qual}.{m}") for m in _CLASS_ENTRY if f"{qual}.{m}" in functions]
        if entries:
            return entries
        return []

    def decorated_by(self, path: str, prefix: str) -> list[Node]:
        """Functions in `path` registered on an object (`@app.get(...)`) that reachable code uses
        (`app.resolve(event, context)`): the object calls them."""
        index = self._decorated.get(path)
        if index is None:
            index = {}
            for qual, info in self.summaries[path].functions.items():
                for root in info.decorator_roots:
                    index.setdefault(root, []).append(qual)
            self._decorated[path] = index
        if not index:
            return []
        return [(path, q) for root, quals in index.items() if prefix.startswith(root + ".") or prefix == root for q in quals]

    # -- the walk -------------------------------------------------------------------------
    def reach(self, handlers: list[Handler]) -> Reachability:
        result = Reachability()
        for index, handler in enumerate(handlers):
            seen = self._walk((handler.path, handler.function), stop_at_guard=False)
            for node in seen:
                result.functions.setdefault(node, set()).add(index)
            if self._is_at_least_once(handler, seen):
                result.unguarded_at_least_once |= self._walk((handler.path, handler.function), stop_at_guard=True)
        for handler in handlers:
            result.modules |= self._module_closure(handler.path)
        return result

    def _info(self, node: Node) -> FunctionInfo | None:
        summary = self.summaries.get(node[0])
        return summary.functions.get(node[1]) if summary else None

    def _walk(self, start: Node, stop_at_guard: bool) -> set[Node]:
        seen: set[Node] = set()
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            info = self._info(node)
            if info is None:
                continue
            if stop_at_guard and self._guarded(info):
                continue
            seen.add(node)
            queue.extend(self._successors(node, info))
        return seen

    def _successors(self, node: Node, info: FunctionInfo) -> list[Node]:
        """The functions `node` may run (the same for every walk: computed once)."""
        found = self._next.get(node)
        if found is None:
            found = []
            path = node[0]
            for ref in info.refs:
                found.extend(self.targets(path, ref))
                if not ref.startswith("aws."):
                    found.extend(self.decorated_by(path, ref.lstrip("@")))
            # Nested functions run when their parent does (callbacks, closures).
            found.extend((path, q) for q in self._nested(path).get(node[1], ()))
            self._next[node] = found
        return found

    def _nested(self, path: str) -> dict[str, list[str]]:
        """qualname -> the functions defined directly in it (`f.<locals>.g`, and the methods of
        a class defined in it, `f.<locals>.C.m`), in definition order."""
        index = self._nested_index.get(path)
        if index is None:
            index = {}
            for qual in self.summaries[path].functions:
                parent, sep, _ = qual.rpartition(".<locals>.")
                if sep:
                    index.setdefault(parent, []).append(qual)
            self._nested_index[path] = index
        return index

    def _guarded(self, info: FunctionInfo) -> bool:
        if info.guarded:
            return True
        return any(_is_idempotent_decorator(d) for d in info.decorators)

    def _is_at_least_once(self, handler: Handler, seen: set[Node]) -> bool:
        if handler.at_least_once is not None:
            return handler.at_least_once
        return any((info := self._info(node)) is not None and info.at_least_once for node in seen)

    def _module_closure(self, path: str) -> set[str]:
        closure: set[str] = set()
        queue = deque([path])
        while queue:
            current = queue.popleft()
            if current in closure or current not in self.summaries:
                continue
            closure.add(current)
            known = self._local_imports.get(current)
            if known is not None:
                queue.extend(known)
                continue
            for name in self.summaries[current].imports:
                found = self.finder.resolve(current, name)
                if found is not None:
                    queue.append(found[0])
        return closure


def _is_idempotent_decorator(name: str) -> bool:
    from ..catalog import catalogs

    last = name.rsplit(".", 1)[-1]
    return name in catalogs().idempotent_decorators or last in ("idempotent", "idempotent_function")


def local_imports(summary: ModuleSummary, finder: ModuleFinder) -> set[str]:
    out = set()
    for name in summary.imports:
        found = finder.resolve(summary.path, name)
        if found is not None:
            out.add(found[0])
    return out


def discover_handlers(summaries: dict[str, ModuleSummary], configured: list[Handler]) -> list[Handler]:
    """Handlers named in the config replace discovery; handlers read from templates add to it
    (and override a discovered handler of the same function with their event sources)."""
    declared = [h for h in configured if h.source != "template"]
    templated = [h for h in configured if h.source == "template"]
    found = declared or [Handler(path, info.qualname) for path in sorted(summaries)
                         for info in summaries[path].functions.values() if info.handler_shaped]
    merged = {(h.path, h.function): h for h in found}
    merged.update({(h.path, h.function): h for h in templated})
    return list(merged.values())


def findings_for(summaries: dict[str, ModuleSummary], handlers: list[Handler], reach: Reachability,
                 default_timeout: int) -> list[Finding]:
    """Candidates whose condition holds, with the reaching handler's timeout (and, for timeout
    findings, the risk) filled in."""
    from .complexity import RISK, fill_risks

    out: list[Finding] = []
    for path, summary in summaries.items():
        out.extend(summary.errors)
        first = len(out)
        for candidate in summary.candidates:
            node = (path, candidate.function)
            if candidate.reach is Reach.ALWAYS:
                ok = True
            elif candidate.reach is Reach.MODULE:
                ok = path in reach.modules and not candidate.function
            elif candidate.reach is Reach.HANDLER:
                ok = node in reach.functions
            else:
                ok = node in reach.unguarded_at_least_once
            if not ok:
                continue
            timeouts = [handlers[i].timeout or default_timeout for i in reach.functions.get(node, ())]
            timeout = min(timeouts) if timeouts else default_timeout
            finding = candidate.finding
            if "{timeout}" in finding.message:
                from dataclasses import replace

                finding = replace(finding, message=finding.message.replace("{timeout}", f"{timeout} s"))
            out.append(finding)
        if any(RISK in f.message for f in out[first:]):
            out[first:] = fill_risks(out[first:], path)
    return out


def display_path(path: str, cwd: str | None = None) -> str:
    cwd = cwd or os.getcwd()
    # The common case without relpath's work (what relpath returns for it): a normalised path
    # below a normalised absolute cwd, as collect_files and ModuleFinder produce them.
    n = len(cwd)
    if (len(path) > n + 1 and path[n] == os.sep and path.startswith(cwd) and os.path.isabs(cwd)
            and os.path.normpath(cwd) == cwd and os.path.normpath(path) == path):
        return path[n + 1:]
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def handler_from_spec(spec: str, root: Path) -> tuple[str, str]:
    """`app.py:lambda_handler`, `src/app.py:handler` or SAM's `app.lambda_handler` -> (abs path, function)."""
    if ":" in spec:
        file_part, function = spec.rsplit(":", 1)
    else:
        module, _, function = spec.rpartition(".")
        file_part = module.replace(".", "/") + ".py"
    return os.path.normpath(os.path.join(os.path.abspath(root), file_part)), function
