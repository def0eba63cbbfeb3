"""engine/fastcst.py replaces libcst's traversal, its PositionProvider and its validating parse
for speed; here, node by node, it must give what libcst itself gives."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from lambdalint.engine import fastcst
from lambdalint.engine.bindings import simple_string_value

ROOT = Path(__file__).resolve().parent.parent
STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Varied syntax: the fixture corpus, and standard library modules with classes, async code,
# decorators, f-strings, match statements, star-args, comprehensions and odd formatting.
SAMPLES = sorted((ROOT / "fixtures" / "handlers").rglob("*.py")) + [
    STDLIB / name for name in ("asyncio/tasks.py", "dataclasses.py", "json/decoder.py", "string.py",
                               "contextlib.py", "shlex.py")
    if (STDLIB / name).is_file()
]
EXTRA = {
    "match.py": "match command.split():\n    case [action, *rest] if rest:\n        pass\n    case {'k': v, **kw}:\n        pass\n    case Point(x=0) | None:\n        pass\n",
    "fstrings.py": 'x = f"{a!r:>{width}} {b=} {{c}}"\ny = rb"\\x00" b"z"\n',
    "crlf.py": "def f(a,\r\n      b):\r\n    return (a\r\n            + b)\r\n",
    "tabs.py": "if x:\n\tif y:\n\t\tz = [1,\n\t\t     2]\n",
    "noeol.py": "def f():\n    return g(1, 2)",
    "semicolons.py": "a = 1; b = f(a); c = [i for i in b if i]\nclass C: x = 1; y = g(2)\n",
    "decorators.py": "@a.b(c=1)\n@d\nasync def f(*args, k: int = 3, **kw) -> None:\n    async with x as (y, z):\n        await y\n",
    "lambda.py": "f = lambda a, /, b=2, *c, d, **e: (a, b, c, d, e)\nprint(*[x for x in range(3)], sep='')\n",
}


def _modules(tmp_path: Path):
    for path in SAMPLES:
        try:
            text = path.read_text(encoding="utf-8")
            cst.parse_module(text)
        except (UnicodeDecodeError, cst.ParserSyntaxError):
            continue  # the fixture corpus's deliberately broken files
        yield path.name, text
    yield from EXTRA.items()


def _all_nodes(module: cst.Module):
    stack = [module]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def test_children_are_libcsts_children_without_trivia(tmp_path):
    checked = 0
    for name, text in _modules(tmp_path):
        module = cst.parse_module(text)
        for node in _all_nodes(module):
            wanted = [child for child in node.children if child.__class__ not in fastcst.TRIVIA]
            got = fastcst.compute_children(node)
            assert len(got) == len(wanted) and all(a is b for a, b in zip(got, wanted)), (name, type(node).__name__)
            checked += 1
    assert checked > 20_000


RECORDED = ("Name", "Call", "Attribute", "FunctionDef", "ClassDef", "If", "Assign", "For", "While",
            "SimpleStatementLine", "Subscript", "Import", "ImportFrom", "Return")


def _recorder_class(tag: str) -> type:
    """A batchable visitor class logging every visit/leave of the node types rules handle."""

    def __init__(self, log: list) -> None:
        cst.BatchableCSTVisitor.__init__(self)
        self.log = log

    def method(kind: str, name: str):
        def record(self, node):
            self.log.append((tag, kind, id(node)))

        record.__name__ = f"{kind}_{name}"  # libcst's get_visitors goes by the function's name
        return record

    methods = {"__init__": __init__}
    for name in RECORDED:
        methods[f"visit_{name}"] = method("visit", name)
        methods[f"leave_{name}"] = method("leave", name)
    return type(f"Recorder{tag}", (cst.BatchableCSTVisitor,), methods)


def test_batched_replay_calls_what_libcst_visit_batched_calls(tmp_path):
    from libcst._batched_visitor import visit_batched

    hooked = frozenset({cst.FunctionDef, cst.ClassDef, cst.If})
    classes = (_recorder_class("a"), _recorder_class("b"))
    for name, text in _modules(tmp_path):
        module = cst.parse_module(text)
        expected: list = []
        visitors = [cls(expected) for cls in classes]

        def before(node, log=expected):
            if type(node) in hooked:
                log.append(("hook", "before", id(node)))

        def after(node, log=expected):
            if type(node) in hooked:
                log.append(("hook", "after", id(node)))

        visit_batched(module, visitors, before_visit=before, after_leave=after)
        got: list = []
        visitors = [cls(got) for cls in classes]
        with fastcst.Tree(module, None, (classes, hooked)) as tree:
            tree.visit_batched(visitors, lambda n: got.append(("hook", "before", id(n))),
                               lambda n: got.append(("hook", "after", id(n))), hooked)
        assert got == expected, name


def test_tree_calls_a_plain_visitor_as_module_visit_does(tmp_path):
    class Log(cst.CSTVisitor):
        def __init__(self):
            super().__init__()
            self.log = []

        def visit_FunctionDef(self, node):
            self.log.append(("in", id(node)))

        def leave_FunctionDef(self, node):
            self.log.append(("out", id(node)))

        def visit_Assign(self, node):
            self.log.append(("assign", id(node)))

        def visit_Name(self, node):
            self.log.append(("name", id(node)))

    for name, text in _modules(tmp_path):
        module = cst.parse_module(text)
        expected, got = Log(), Log()
        module.visit(expected)
        fastcst.Tree(module, got, None).close()
        assert got.log == expected.log, name


def test_positions_are_position_providers(tmp_path):
    for name, text in _modules(tmp_path):
        module = fastcst.parse_module(text)
        reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        nodes = [n for n in _all_nodes(module) if n.__class__ not in fastcst.TRIVIA and n is not module]
        wanted = nodes[::7] + nodes[-3:]  # a spread, and the very last nodes (no final newline)
        with fastcst.Tree(module) as tree:
            got = fastcst.positions(tree, wanted, text)
        for node in wanted:
            assert got[node] == reference[node], (name, type(node).__name__)


def test_positions_of_a_statement_found_twice_fall_back_to_the_whole_module():
    text = "def f():\n    return g(1)\n\n\ndef h():\n    return g(1)\n"
    module = fastcst.parse_module(text)
    calls = [n for n in _all_nodes(module) if isinstance(n, cst.Call)]
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    with fastcst.Tree(module) as tree:
        got = fastcst.positions(tree, calls, text)
    assert [got[c] for c in calls] == [reference[c] for c in calls]
    assert {got[c].start.line for c in calls} == {2, 6}


def test_parse_without_validation_builds_the_same_tree(tmp_path):
    for name, text in _modules(tmp_path):
        assert fastcst.parse_module(text).deep_equals(cst.parse_module(text)), name
    # ... and validation is back on afterwards.
    with pytest.raises(cst.CSTValidationError):
        cst.Integer(value="not a number")


@pytest.mark.parametrize("literal", ['""', "''", '""""""', '"a"', '"""a\nb"""', "'\"x'", '"é"', "'''a'b'''",
                                     '""""a"""', 'r"x\\d"', 'b"x"', '"a\\nb"', 'u"x"', "'''\"'''"])
def test_simple_string_value_is_evaluated_value(literal):
    node = cst.parse_expression(literal)
    assert simple_string_value(node) == node.evaluated_value
    assert type(simple_string_value(node)) is type(node.evaluated_value)


def test_a_class_whose_fields_disagree_with_libcst_falls_back_to_libcsts_children(monkeypatch):
    # As if a libcst release had reordered BinaryOperation's children: the first node of the
    # class met by a walk is compared with libcst's own `children`, and the class then uses those.
    monkeypatch.setitem(fastcst._FIELDS, cst.BinaryOperation, ("right", "left"))
    monkeypatch.setattr(fastcst, "_CHECKED", set())
    monkeypatch.setattr(fastcst, "_PLANS", {})
    module = cst.parse_module("x = first + second\n")
    with fastcst.Tree(module) as tree:
        operation = next(node for node, entering in tree.events if isinstance(node, cst.BinaryOperation))
        assert [n.value for n in fastcst.children(operation)] == ["first", "second"]
    assert fastcst._FIELDS[cst.BinaryOperation] is None


def test_headers_place_a_compound_statement_on_its_header():
    text = (
        "import time\n\n\n"
        "def handler(event, context):\n"
        "    # wait for the job\n"
        "    while True:  # forever\n"
        "        time.sleep(1)\n"
        "    for item in event['Records']:\n"
        "        if item:\n"
        "            pass\n"
        "    while True:  # forever\n"
        "        time.sleep(1)\n"
    )
    module = fastcst.parse_module(text)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    loops = sorted((n for n in _all_nodes(module) if isinstance(n, (cst.While, cst.For, cst.If, cst.FunctionDef))),
                   key=lambda n: reference[n].start.line)
    with fastcst.Tree(module) as tree:
        got = fastcst.headers(tree, loops, text)
    first_while, second_while = [n for n in loops if isinstance(n, cst.While)]
    (function,) = [n for n in loops if isinstance(n, cst.FunctionDef)]
    (loop,) = [n for n in loops if isinstance(n, cst.For)]
    (branch,) = [n for n in loops if isinstance(n, cst.If)]
    # The first `while True:  # forever` has a comment above it: its header text is unique.
    assert (got[first_while].start.line, got[first_while].start.column) == (6, 4)
    assert (got[first_while].end.line, got[first_while].end.column) == (6, 15)
    assert got[first_while].start == reference[first_while].start
    # The second has the same text, and nothing before it tells them apart: left to positions().
    assert second_while not in got
    assert (got[loop].start.line, got[loop].start.column, got[loop].end.column) == (8, 4, 33)
    assert (got[branch].start.line, got[branch].start.column, got[branch].end.column) == (9, 8, 16)
    assert got[function].start == reference[function].start and got[function].end.line == 4
