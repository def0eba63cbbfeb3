"""Reading a file into text, and the cheap scan that decides whether it needs the full analysis.

Every failure here becomes a LAM9xx finding with a line, never an exception: unreadable, binary
(NUL bytes), not UTF-8 (and no coding cookie), or not parseable.
"""

from __future__ import annotations

import ast
import codecs
import re
import tokenize
import warnings
from collections import deque
from dataclasses import dataclass
from io import BytesIO

from ..findings import Finding, Severity

_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_NOQA = re.compile(r"#\s*noqa(?::[\s]*(?P<codes>[A-Za-z]+[0-9]+(?:[,\s]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
# A module-level def that looks like a Lambda handler. Only a hint: the analysis confirms it.
_EVENT = r"(?:event|evt|_event|event_data|lambda_event)"
_CONTEXT = r"(?:context|ctx|_context|_ctx|lambda_context|_)"
_ANNOTATION = r"(?:\s*:[^,()\[\]=]*(?:\[[^\]]*\]\]?)?[^,()=]*)?"
_HANDLER_DEF = re.compile(
    rf"^(?:async\s+)?def\s+(?P<name>\w+)\s*\(\s*{_EVENT}{_ANNOTATION},\s*{_CONTEXT}\b"
    rf"|^(?:async\s+)?def\s+(?P<usual>lambda_handler|handler)\s*\(\s*\w+{_ANNOTATION},\s*\w+{_ANNOTATION}\)",
    re.MULTILINE,
)


def tool_error(path: str, code: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(path, max(line, 1), max(column, 1), code, message, Severity.ERROR)


@dataclass
class Source:
    path: str
    text: str | None
    error: Finding | None = None


def decode(path: str, data: bytes) -> Source:
    """Bytes to text the way Python's import system would, or a LAM902/LAM903 finding."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return Source(path, None, tool_error(path, "LAM903", "the file contains NUL bytes and cannot be imported by the Lambda runtime; remove it or give it its real extension", line))
    encoding = "utf-8"
    for first_lines in data.split(b"\n", 2)[:2]:
        match = _COOKIE.match(first_lines)
        if match:
            encoding = match.group(1).decode("ascii", "replace")
            break
    try:
        codecs.lookup(encoding)
    except LookupError:
        return Source(path, None, tool_error(path, "LAM902", f"unknown source encoding {encoding!r} in the coding cookie; Lambda cannot import this module"))
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return Source(path, None, tool_error(path, "LAM902", f"byte 0x{data[exc.start]:02x} is not valid {encoding}; the Lambda runtime cannot import this module (SyntaxError at INIT) — re-save the file as UTF-8", line, column))
    return Source(path, text)


def noqa_lines(text: str) -> dict[int, frozenset[str] | None]:
    """Line -> codes silenced there (None: every code, a bare `# noqa`)."""
    if "noqa" not in text and "NOQA" not in text:
        return {}
    result: dict[int, frozenset[str] | None] = {}
    try:
        tokens = list(tokenize.generate_tokens(iter(text.splitlines(keepends=True)).__next__))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        tokens = []
    comments = [(tok.start[0], tok.string) for tok in tokens if tok.type == tokenize.COMMENT]
    if not tokens:  # fall back to a line scan when the file does not tokenize
        comments = [(i, line[line.index("#"):]) for i, line in enumerate(text.splitlines(), 1) if "#" in line]
    for line, comment in comments:
        match = _NOQA.search(comment)
        if match:
            codes = match.group("codes")
            result[line] = frozenset(re.split(r"[,\s]+", codes.strip().upper())) if codes else None
    return result


@dataclass
class Scan:
    """The cheap pass: syntax check, imports and handler hints, without libcst."""

    imports: list[str]
    handler_hints: list[str]
    parse_error: Finding | None = None
    needs_libcst_parse: bool = False  # ast could not parse it; libcst (newer grammar) may
    syntax_error: Finding | None = None  # ast's report, used if libcst cannot parse it either


def scan(path: str, text: str) -> Scan:
    hints = [m.group("name") or m.group("usual") for m in _HANDLER_DEF.finditer(text)]
    try:
        with warnings.catch_warnings():
            # The checked code's SyntaxWarnings (invalid escapes, `1()`) are not lambdalint's
            # output: they would be printed on stderr for every such file.
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        # Possibly syntax newer than this interpreter: libcst reads 3.0-3.14, so let it decide.
        # CPython's message and position are the better ones when libcst agrees it is broken.
        error = tool_error(path, "LAM901", f"{exc.msg}; Lambda fails to import this module at INIT (Runtime.UserCodeSyntaxError)",
                           exc.lineno or 1, exc.offset or 1)
        if not safe_for_libcst(text):
            # libcst's native parser crashes (stack overflow) or takes minutes on some shapes
            # that CPython rejects outright (200+ nested brackets, 10,000 chained `not`):
            # CPython's verdict stands.
            return Scan([], hints, error)
        return Scan([], hints, None, needs_libcst_parse=True, syntax_error=error)
    except (RecursionError, MemoryError):
        return Scan([], hints, tool_error(path, "LAM905", "expressions nest too deeply to parse; CPython fails to compile this module too — flatten the expression"))
    except ValueError as exc:  # e.g. source with NUL that slipped through a coding cookie
        return Scan([], hints, tool_error(path, "LAM903", f"{exc}"))
    # Imports matter for modules the analysis follows (handlers, and the modules they import,
    # whose full analysis collects its own): a module with no handler hint keeps none here.
    return Scan(_ast_imports(tree) if hints else [], hints)


_BODIES = ("body", "handlers", "orelse", "finalbody", "cases")


def _statements(tree: ast.Module):
    """The nodes `ast.walk(tree)` yields, in the same breadth-first order, minus every node
    below an expression: imports are statements, and only statements (and except handlers and
    match cases, through their bodies) hold statements."""
    queue = deque([tree])
    while queue:
        node = queue.popleft()
        for name in _BODIES:
            children = getattr(node, name, None)
            if children:
                queue.extend(children)
        yield node


# Limits for handing a file CPython could not parse to libcst. Brackets and indentation: CPython's
# own tokenizer limits (MAXLEVEL 200, MAXINDENT 100), so a file past them is not Python. The
# others keep libcst's recursive native parser far from its stack limit and its slow paths.
MAX_BRACKETS = 200
MAX_INDENT = 100
MAX_PREFIX_RUN = 500
MAX_TOKENS_PER_STATEMENT = 5000
_PREFIX = frozenset({"not", "-", "+", "~", "await", "lambda", "*", "**", ":"})


def safe_for_libcst(text: str) -> bool:
    """Can libcst be asked to parse this text, which CPython's ast rejected? False for shapes
    that crash or stall libcst's parser, and when the text does not even tokenize (libcst would
    reject it too)."""
    depth = indent = run = count = 0
    try:
        for token in tokenize.generate_tokens(iter(text.splitlines(keepends=True)).__next__):
            kind, value = token.type, token.string
            count += 1
            if kind == tokenize.OP and value in "([{":
                depth += 1
                if depth > MAX_BRACKETS:
                    return False
            elif kind == tokenize.OP and value in ")]}":
                depth -= 1
            elif kind == tokenize.INDENT:
                indent += 1
                if indent > MAX_INDENT:
                    return False
            elif kind == tokenize.DEDENT:
                indent -= 1
            elif kind in (tokenize.NEWLINE, tokenize.ENDMARKER):
                count = 0
            if value in _PREFIX and kind in (tokenize.OP, tokenize.NAME):
                run += 1
                if run > MAX_PREFIX_RUN:
                    return False
            elif kind not in (tokenize.NL, tokenize.COMMENT):
                run = 0
            if count > MAX_TOKENS_PER_STATEMENT:
                return False
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _ast_imports(tree: ast.Module) -> list[str]:
    imports: list[str] = []
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            imports.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            imports.append(base)
            # `from . import util` and `from pkg import submodule` import modules by name too.
            imports.extend(f"{base}.{a.name}" if not base.endswith(".") else base + a.name for a in node.names if a.name != "*")
    return imports
