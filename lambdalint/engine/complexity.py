"""How risky a timeout finding is: radon's cyclomatic complexity of the function around it.

A poll loop in a three-line helper is easy to bound; the same loop inside a function with a
dozen branches is where a deadline is forgotten on one path. Computed only for files that have
LAM3xx findings (radon parses the file again with `ast`).
"""

from __future__ import annotations

from radon.complexity import cc_rank, cc_visit


def blocks(text: str) -> list[tuple[int, int, str, int]]:
    """(first line, last line, name, complexity) for every function and method, innermost last."""
    try:
        visited = cc_visit(text)
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return []  # syntax newer than this interpreter's ast: no ranking, the finding stands
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
