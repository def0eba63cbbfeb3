"""The per-file analysis: one libcst parse, one batched traversal running every enabled rule.

`ModuleContext` is what rules see: the enclosing function, name resolution (`canonical`), the
catalogs, and `report()`. Rules never decide reachability: they report a candidate with the
condition under which it is real (`Reach`), and the project phase (project.py) decides, once it
knows which handlers reach which functions across files.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

import libcst as cst

from ..catalog import Catalogs, all_rules, catalogs
from ..findings import Finding, Severity
from . import complexity, fastcst
from .bindings import BindingCollector, FunctionScope, Resolver, dotted, string_value
from .source import tool_error
from .summary import Candidate, FunctionInfo, ModuleSummary, Reach, Settings  # noqa: F401 (Settings: re-exported)


class ModuleContext:
    """Shared state of one file's traversal; rules read it and call `report`."""

    def __init__(self, path: str, module: cst.Module, collected: BindingCollector, cats: Catalogs):
        self.path = path
        self.module = module
        self.catalogs = cats
        self.resolver = Resolver(collected, cats.aws_clients, cats.aws_resources)
        self.collected = collected
        self.functions: dict[str, FunctionInfo] = {}
        self.candidates: list[tuple[cst.CSTNode, str, str, Reach, str]] = []
        self._scopes: list[FunctionScope] = []
        self._infos: list[FunctionInfo] = []
        self._classes: list[str] = []
        self._main_guard = 0
        self._canonical: dict[tuple[int, int], str | None] = {}

    # -- where we are -------------------------------------------------------------------
    @property
    def scope(self) -> FunctionScope | None:
        return self._scopes[-1] if self._scopes else None

    @property
    def function(self) -> FunctionInfo | None:
        return self._infos[-1] if self._infos else None

    @property
    def at_module_level(self) -> bool:
        """Import-time code: not inside any function, not under `if __name__ == "__main__"`."""
        return not self._scopes and not self._main_guard

    def enter(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.FunctionDef):
            scope = self.collected.functions[id(node)]
            params = tuple(p.name.value for p in (*node.params.posonly_params, *node.params.params))
            info = FunctionInfo(
                qualname=scope.qualname,
                line=0,
                params=params,
                module_level=not self._scopes and not self._classes,
                class_name=scope.class_name,
                decorators=tuple(filter(None, (self._decorator_name(d) for d in node.decorators))),
                decorator_roots=tuple(filter(None, (self._decorator_root(d) for d in node.decorators))),
            )
            self.functions[scope.qualname] = info
            self._scopes.append(scope)
            self._infos.append(info)
        elif isinstance(node, cst.ClassDef):
            self._classes.append(node.name.value)
        elif isinstance(node, cst.If) and not self._scopes and _is_main_guard(node):
            self._main_guard += 1

    def leave(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.FunctionDef):
            self._scopes.pop()
            self._infos.pop()
        elif isinstance(node, cst.ClassDef):
            self._classes.pop()
        elif isinstance(node, cst.If) and not self._scopes and _is_main_guard(node):
            self._main_guard -= 1

    # -- names --------------------------------------------------------------------------
    def canonical(self, expr: cst.BaseExpression) -> str | None:
        # Rules ask about the same expressions over and over (every rule looks at every
        # call's callee). Bindings are complete before the rules run, so the answer depends
        # only on the expression and the scope it is seen from.
        key = (id(expr), id(self._scopes[-1]) if self._scopes else 0)
        try:
            return self._canonical[key]
        except KeyError:
            value = self._canonical[key] = self.resolver.canonical(expr, self.scope)
            return value

    def module_binding(self, expr: cst.BaseExpression):
        return self.resolver.module_binding(expr, self.scope)

    def _decorator_name(self, decorator: cst.Decorator) -> str | None:
        expr = decorator.decorator
        return self.resolver.canonical(expr.func if isinstance(expr, cst.Call) else expr, self.scope)

    def _decorator_root(self, decorator: cst.Decorator) -> str | None:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        if isinstance(expr, cst.Attribute):
            return self.resolver.canonical(expr.value, self.scope)
        return None

    def is_aws(self, canonical: str | None) -> bool:
        return bool(canonical) and canonical.startswith("aws.")

    def is_network_call(self, call: cst.Call) -> bool:
        """Does this call go over the network (SDK operation, HTTP, a remote client's method)?"""
        name = self.canonical(call.func)
        if not name:
            return False
        if name.startswith("aws."):
            parts = name.split(".")
            method = parts[-1]
            return len(parts) >= 3 and method not in self.catalogs.aws_local_methods and not name.endswith("()")
        cats = self.catalogs
        if name in cats.network_calls:
            return True
        if name in cats.connections or name.endswith("()"):
            return False  # constructing a client is not a request
        if name.startswith(cats.network_module_prefixes) and "." in name:
            return "()" not in name
        for prefix in cats.network_instance_prefixes:
            if name.startswith(prefix + "."):
                return name[len(prefix) + 1:].split(".", 1)[0] not in cats.network_instance_local
        return False

    def container_of(self, binding) -> str:
        """'list' / 'dict' / 'set' / 'deque' when a module-level binding holds a mutable
        container, following import aliases (`from collections import deque as dq`)."""
        if binding.container:
            return binding.container
        node = binding.node
        if isinstance(node, cst.Call):
            from .bindings import container_kind_of_call

            return container_kind_of_call(self.resolver.canonical(node.func, None))
        return ""

    # -- output -------------------------------------------------------------------------
    def report(self, node: cst.CSTNode, code: str, message: str, reach: Reach) -> None:
        function = self.function.qualname if self.function else ""
        self.candidates.append((node, code, message, reach, function))


def _is_main_guard(node: cst.If) -> bool:
    test = node.test
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, right = test.left, test.comparisons[0].comparator
        names = {dotted(left), dotted(right)}
        values = {string_value(left), string_value(right)}
        return "__name__" in names and "__main__" in values
    return False


class SummaryVisitor(cst.BatchableCSTVisitor):
    """Records what the project phase needs about each function: what it references, whether
    an idempotency mechanism guards it, and whether it reads an at-least-once event."""

    def __init__(self, ctx: ModuleContext):
        super().__init__()
        self.ctx = ctx

    def visit_Name(self, node: cst.Name) -> None:
        # The most frequent call of the whole analysis (every name): ctx's properties inlined.
        ctx = self.ctx
        infos = ctx._infos
        if not infos:
            return
        info = infos[-1]
        where, binding = ctx.resolver.lookup(node.value, ctx._scopes[-1] if ctx._scopes else None)
        if binding is not None and binding.kind in ("def", "import"):
            info.refs.add("@" + binding.target if binding.kind == "def" else binding.target)
            # SQSEvent(event), `event: S3Event`, @event_source(data_class=EventBridgeEvent)
            if binding.kind == "import" and not info.at_least_once and binding.target in self.ctx.catalogs.at_least_once_calls:
                info.at_least_once = node.value
        elif where == "module" and binding is not None:
            info.refs.add("@" + node.value)

    def visit_Call(self, node: cst.Call) -> None:
        info = self.ctx.function
        if info is None:
            return
        name = self.ctx.canonical(node.func)
        if name:
            info.refs.add(name)
            if name in self.ctx.catalogs.at_least_once_calls and not info.at_least_once:
                info.at_least_once = name.rsplit(".", 1)[-1]
        cats = self.ctx.catalogs
        # event.get("Records")
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and node.args:
            key = string_value(node.args[0].value)
            if key in cats.at_least_once_keys and self._is_event(node.func.value):
                info.at_least_once = info.at_least_once or f'event.get("{key}")'
        # A conditional write recording the event id: the dedup-table pattern.
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "ConditionExpression":
                condition = string_value(arg.value) or ""
                if any(word in condition for word in cats.dedup_conditions):
                    info.guarded = True

    def visit_Subscript(self, node: cst.Subscript) -> None:
        info = self.ctx.function
        if info is None or info.at_least_once or len(node.slice) != 1:
            return
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            key = string_value(index.value)
            if key in self.ctx.catalogs.at_least_once_keys and self._is_event(node.value):
                info.at_least_once = f'event["{key}"]'

    def _is_event(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Name):
            return False
        where, binding = self.ctx.resolver.lookup(expr.value, self.ctx.scope)
        return "event" in expr.value.lower() or (binding is not None and binding.kind == "param" and expr.value in ("e", "evt", "payload", "data"))

    def visit_If(self, node: cst.If) -> None:
        self._check_guard(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._check_guard(node.test)

    def _check_guard(self, test: cst.BaseExpression) -> None:
        info = self.ctx.function
        if info is None or info.guarded:
            return
        pattern = self.ctx.catalogs.guard_name
        for word in _identifiers(test):
            if pattern.search(word):
                info.guarded = True
                return


def _identifiers(expr: cst.CSTNode) -> Iterable[str]:
    """Names, attribute names and short string literals inside an expression."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node.value
        elif isinstance(node, cst.SimpleString):
            value = string_value(node)
            if value and len(value) < 64:
                yield value
        stack.extend(fastcst.children(node))


def _position_of(positions, node: cst.CSTNode) -> tuple[int, int, int, int]:
    code_range = positions.get(node)
    if code_range is None:
        return 1, 1, 0, 0
    return code_range.start.line, code_range.start.column + 1, code_range.end.line, code_range.end.column + 1


def analyze_module(path: str, text: str, settings: Settings, rule_classes: Sequence[type],
                   validate: bool = True) -> ModuleSummary:
    """Parse once, collect bindings, run the summary visitor and every enabled rule in one pass.
    `validate=False`: the text is known to be valid Python (CPython's ast parsed it), so libcst's
    per-node validation, which only rejects invalid code, is skipped."""
    summary = ModuleSummary(path=path, analyzed=True)
    try:
        module = cst.parse_module(text) if validate else fastcst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        summary.errors.append(tool_error(path, "LAM901", f"{exc.message.splitlines()[0] if exc.message else 'invalid syntax'}; Lambda fails to import this module at INIT (Runtime.UserCodeSyntaxError)", exc.raw_line, exc.raw_column + 1))
        return summary
    except cst.CSTValidationError as exc:
        # The grammar admits it but Python does not (bytes + str literals, say).
        summary.errors.append(tool_error(path, "LAM901", f"{exc}; Lambda fails to import this module at INIT (Runtime.UserCodeSyntaxError)"))
        return summary
    except RecursionError:
        summary.errors.append(tool_error(path, "LAM905", "expressions nest too deeply to analyse; CPython fails to compile this module too — flatten the expression"))
        return summary
    active = _active(tuple(rule_classes), settings.enabled)
    collector = BindingCollector()
    # The binding pre-pass runs while the tree is walked; the walk records, for the batched
    # pass, the nodes the summary visitor and the active rules handle.
    with fastcst.Tree(module, collector, ((SummaryVisitor, *active), _CONTEXT_NODES)) as tree:
        _run_visitors(summary, tree, collector, path, text, settings, active)
    return summary


@lru_cache(maxsize=16)
def _active(rule_classes: tuple[type, ...], enabled: frozenset[str]) -> tuple[type, ...]:
    """The rule classes with at least one enabled code."""
    return tuple(cls for cls in rule_classes if set(cls.CODES) & enabled)


# Node types ModuleContext.enter/leave act on (the batched pass calls them for these only).
_CONTEXT_NODES = frozenset({cst.FunctionDef, cst.ClassDef, cst.If})


def _run_visitors(summary: ModuleSummary, tree: "fastcst.Tree", collector: BindingCollector, path: str, text: str,
                  settings: Settings, active: Sequence[type]) -> None:
    module = tree.module
    cats = catalogs()
    ctx = ModuleContext(path, module, collector, cats)
    visitors: list[cst.BatchableCSTVisitor] = [SummaryVisitor(ctx)]
    visitors += [cls(ctx) for cls in active]
    tree.visit_batched(visitors, ctx.enter, ctx.leave, _CONTEXT_NODES)
    for visitor in visitors:
        finish = getattr(visitor, "finish", None)
        if finish is not None:
            finish()
    summary.imports = collector.imports
    summary.functions = ctx.functions
    wanted = [c for c in ctx.candidates if c[1] in settings.enabled]
    if wanted:
        # Positions cost a code generation of the file up to the last reported node: only for
        # files that have something to report, and only as far as needed.
        # A finding on a loop (or another compound statement) is placed on its header.
        nodes = [c[0] for c in wanted]
        positions = fastcst.headers(tree, nodes, text)
        positions.update(fastcst.positions(tree, [n for n in nodes if n not in positions], text))
        rules = all_rules()
        for node, code, message, reach, function in wanted:
            line, column, end_line, end_column = _position_of(positions, node)
            if code.startswith("LAM3"):
                # The risk (radon's complexity of the enclosing function) is worked out for the
                # findings that are reported, once reachability is known (project.findings_for).
                message += complexity.RISK
            meta = rules.get(code)
            finding = Finding(path, line, column, code, message,
                              meta.severity if meta else Severity.WARNING,
                              name=meta.name if meta else "", end_line=end_line, end_column=end_column)
            summary.candidates.append(Candidate(finding, reach, function))
