"""How risky a timeout finding is: radon's cyclomatic complexity of the function around it.

A poll loop in a three-line helper is easy to bound; the same loop inside a function with a
dozen branches is where a deadline is forgotten on one path. Computed only for files that have
LAM3xx findings (radon parses the file again with `ast`).
"""

from __future__ import annotations

import ast
import re
import warnings

from radon.complexity import cc_rank, cc_visit, cc_visit_ast


# Stands for the risk in a candidate's message until the project phase knows the finding is
# reported (NUL: never in source text, so never in a message otherwise).
RISK = "\0risk\0"


def fill_risks(findings: list, path: str) -> list:
    """`findings` (of one file, some carrying RISK) with the risk described, from the file's
    current text."""
    from dataclasses import replace

    from .source import decode

    lines = [f.line for f in findings if RISK in f.message]
    if not lines:
        return findings
    try:
        with open(path, "rb") as fh:
            source = decode(path, fh.read())
    except OSError:
        source = None
    ranked = blocks_around(source.text, lines) if source is not None and source.text is not None else []
    return [replace(f, message=f.message.replace(RISK, describe(f.line, ranked))) if RISK in f.message else f
            for f in findings]


def blocks(text: str) -> list[tuple[int, int, str, int]]:
    """(first line, last line, name, complexity) for every function and method, innermost last."""
    try:
        visited = cc_visit(text)
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return []  # syntax newer than this interpreter's ast: no ranking, the finding stands
    return _flatten(visited)


def blocks_around(text: str, lines: list[int]) -> list[tuple[int, int, str, int]]:
    """What `blocks(text)` gives for the functions that can contain `lines`: radon visits only
    the top-level statements spanning those lines (a function's complexity depends on its own
    subtree only, and blocks of other statements cannot contain these lines). Only those
    statements are parsed when the file's layout shows where they are."""
    source = _LINE_BREAK.split(text)
    spans = _top_level_spans(source, lines)
    if spans is not None:
        found = _blocks_of_spans(source, spans)
        if found is not None:
            return found
    tree = _parse(text)
    if tree is None:
        return []
    wanted = []
    for statement in tree.body:
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
        last = statement.end_lineno or statement.lineno
        if any(first <= line <= last for line in lines):
            wanted.append(statement)
    return (_visit(wanted) or []) if wanted else []


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python counts as a line break
_TOP_LEVEL_DEF = re.compile(r"(?:async[ \t]+)?(?:def|class)[ \t]")


def _top_level_spans(source: list[str], lines: list[int]) -> list[tuple[int, int]] | None:
    """(first line, last line) of the top-level `def`/`class` statements (with their
    decorators) that hold `lines` of the file whose lines are `source`, told from the layout
    alone: the nearest line above that starts in column 0 must open a def or class, and the
    statement runs to the next line that starts in column 0. None when the layout does not say
    (code at module level, a string whose lines start in column 0): the caller parses the
    whole file then."""
    spans: set[tuple[int, int]] = set()
    for line in lines:
        if not 1 <= line <= len(source):
            return None
        start = None
        for index in range(line - 1, -1, -1):
            current = source[index]
            if current[:1] in ("", " ", "\t", "#"):
                continue
            if not _TOP_LEVEL_DEF.match(current):
                return None
            start = index
            break
        if start is None:
            return None
        while start > 0 and source[start - 1].startswith("@"):
            start -= 1
        end = len(source)
        for index in range(line, len(source)):
            if source[index][:1] not in ("", " ", "\t", "#"):
                end = index
                break
        spans.add((start + 1, end))
    return sorted(spans)


def _blocks_of_spans(source: list[str], spans: list[tuple[int, int]]) -> list[tuple[int, int, str, int]] | None:
    """What blocks_around gives, from parsing only these spans of lines (padded with empty
    lines so that line numbers stay those of the file). None when a span does not parse on
    its own: the layout misled _top_level_spans."""
    statements: list[ast.stmt] = []
    for first, last in spans:
        parsed = _parse("\n" * (first - 1) + "\n".join(source[first - 1:last]) + "\n")
        if parsed is None:
            return None
        statements += parsed.body
    return _visit(statements)


def _parse(text: str) -> ast.Module | None:
    """The module's ast (its SyntaxWarnings are the checked code's, not ours), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return None


def _visit(statements: list[ast.stmt]) -> list[tuple[int, int, str, int]] | None:
    """radon's blocks of these statements, flattened; None when radon cannot visit them."""
    try:
        visited = cc_visit_ast(ast.Module(body=statements, type_ignores=[]))
    except (RecursionError, ValueError, MemoryError):
        return None
    return _flatten(visited)


def _flatten(visited) -> list[tuple[int, int, str, int]]:
    out: list[tuple[int, int, str, int]] = []
    stack = list(visited)
    while stack:
        block = stack.pop()
        out.append((block.lineno, block.endline or block.lineno, block.fullname if hasattr(block, "fullname") else block.name, block.complexity))
        stack.extend(getattr(block, "closures", []) or [])
        stack.extend(getattr(block, "methods", []) or [])
    return sorted(out, key=lambda b: (b[0], -b[1]))


def describe(line: int, found: list[tuple[int, int, str, int]]) -> str:
    """' (risk: `fn` has cyclomatic complexity 12, radon rank C)' for the innermost function."""
    inner = None
    for start, end, name, complexity in found:
        if start <= line <= end:
            inner = (name, complexity)
    if inner is None:
        return ""
    name, complexity = inner
    return f" [risk: `{name}` has cyclomatic complexity {complexity}, radon rank {cc_rank(complexity)}]"
