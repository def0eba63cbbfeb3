"""What every rule shares: the base class and small syntax helpers.

A rule is a libcst BatchableCSTVisitor: the engine runs all enabled rules in one traversal.
Rules report through `self.ctx.report(node, code, message, reach)`; `reach` says under which
condition the finding is real (see engine/summary.py), so a rule never decides reachability.

Each rule class carries its own examples, as Fixit does: VALID (code that must not be flagged)
and INVALID (code with `# expect: LAMxxx` on the lines that must be). tests/test_rule_examples.py
runs them all, so a rule cannot exist without its tests.
"""

from __future__ import annotations

from typing import ClassVar, Iterator

import libcst as cst

from ..engine.analyzer import ModuleContext
from ..engine.bindings import dotted
from ..engine.fastcst import children


class Rule(cst.BatchableCSTVisitor):
    CODES: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: ModuleContext) -> None:
        super().__init__()
        self.ctx = ctx


_SCOPE_NODES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Exact classes (libcst's parser builds no subclasses of them): a set lookup instead of an
# isinstance() through ABCMeta for every node walked.
_SCOPE_CLASSES = frozenset(_SCOPE_NODES)
_LOOP_CLASSES = frozenset({cst.For, cst.While})


def walk_body(node: cst.CSTNode, *, into_loops: bool = True) -> Iterator[cst.CSTNode]:
    """Every node below `node` that runs as part of it: nested defs, lambdas and classes are
    skipped (they run later, if at all); nested loops optionally."""
    stack = list(reversed(children(node)))
    while stack:
        child = stack.pop()
        if child.__class__ in _SCOPE_CLASSES:
            continue
        yield child
        if not into_loops and child.__class__ in _LOOP_CLASSES:
            continue
        stack.extend(reversed(children(child)))


def calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    for child in walk_body(node):
        if isinstance(child, cst.Call):
            yield child


def mentions(node: cst.CSTNode, words: tuple[str, ...]) -> bool:
    """Does any name or attribute below `node` contain one of `words` (case-insensitive)?"""
    for child in (node, *walk_body(node)):
        if isinstance(child, cst.Name):
            value = child.value.lower()
            if any(word in value for word in words):
                return True
    return False


DEADLINE_WORDS = ("get_remaining_time_in_millis", "deadline", "remaining", "time_left", "expires_at", "end_time", "stop_at", "timeout_at", "budget")
TIME_CALLS = frozenset({"time.time", "time.monotonic", "time.perf_counter", "time.monotonic_ns", "time.time_ns",
                        "datetime.datetime.now", "datetime.datetime.utcnow"})


def has_deadline(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    """A deadline check in or around a loop: the Lambda context's remaining time, a deadline
    variable, or a comparison against the clock."""
    if mentions(node, DEADLINE_WORDS):
        return True
    for child in (node, *walk_body(node)):
        if isinstance(child, cst.Comparison):
            for call in (c for c in (child, *walk_body(child)) if isinstance(c, cst.Call)):
                if ctx.canonical(call.func) in TIME_CALLS:
                    return True
    return False


def keywords(call: cst.Call) -> set[str]:
    return {arg.keyword.value for arg in call.args if arg.keyword is not None}


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def method_name(call: cst.Call) -> str | None:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def short(expr: cst.CSTNode, limit: int = 40) -> str:
    """Source-ish text of a small expression for messages, without a code generation pass."""
    name = dotted(expr) if isinstance(expr, cst.BaseExpression) else None
    if name:
        return name if len(name) <= limit else name[: limit - 1] + "…"
    if isinstance(expr, cst.Call):
        return short(expr.func, limit - 5) + "(...)"
    if isinstance(expr, cst.Attribute):
        return short(expr.value, limit) + "." + expr.attr.value
    if isinstance(expr, cst.Subscript):
        return short(expr.value, limit) + "[...]"
    return "expression"
