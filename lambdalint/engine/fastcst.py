"""Walking a libcst tree without libcst's visitor machinery.

libcst's `CSTNode.visit` (and the `children` property) rebuilds every node it passes: each
traversal constructs and validates a full copy of the tree, which costs about as much as the
parse itself. lambdalint only reads trees, so this module walks them directly:

* `child_fields(cls)`: the fields of a node class that hold child nodes, in the order libcst
  visits them (the order of the keyword arguments in that class's `_visit_and_replace_children`,
  read once from libcst's own source; a class whose source cannot be read falls back to libcst's
  `children`). The first node of each class a process meets is checked against libcst's own
  `children`: should a libcst release visit a class's children differently, that class falls
  back to `children` (slower, never wrong).
* `Tree`: one iterative pass over a module records, for every node, its children and the
  enter/leave event sequence of a depth-first traversal. The binding pre-pass and the batched
  rule pass then replay that sequence, dispatching only the node types some visitor handles.
  Whitespace and comment nodes are left out: no visitor here handles them and they never
  contain other nodes.

`tests/test_fastcst.py` checks, node by node, that the children and the call sequence are the
ones libcst's own traversal produces.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

# Nodes that hold only whitespace, comments and newlines (ParenthesizedWhitespace: more of the
# same), and punctuation and operator tokens (which hold only whitespace). No visitor here
# handles them, no rule looks for them among children (rules read operators as attributes:
# `comparison.operator`), and none contains an expression or a statement.
_PUNCTUATION = (
    cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen, cst.RightParen,
    cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace,
    cst.Asynchronous,
)
_OPERATOR_BASES = (cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp)


def _trivia_classes() -> frozenset[type]:
    found = {cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
             cst.Newline, cst.Comment, *_PUNCTUATION}
    for value in vars(cst).values():
        if isinstance(value, type) and issubclass(value, _OPERATOR_BASES):
            found.add(value)
    return frozenset(found)


TRIVIA: frozenset[type] = _trivia_classes()
_TRIVIA_NAMES = frozenset((c.__module__, c.__qualname__) for c in TRIVIA)


@lru_cache(maxsize=None)
def child_fields(cls: type) -> tuple[str, ...] | None:
    """Field names of `cls` that hold children, in libcst's visiting order; None when unknown."""
    for klass in cls.__mro__:
        method = klass.__dict__.get("_visit_and_replace_children")
        if method is None:
            continue
        if klass in (cst.CSTNode,) or getattr(klass, "__name__", "") == "BaseLeaf":
            return ()
        try:
            source = textwrap.dedent(inspect.getsource(method))
            tree = ast.parse(source)
        except (OSError, TypeError, SyntaxError):
            return None
        return _visited_fields(tree)
    return ()


def _visited_fields(tree: ast.Module) -> tuple[str, ...] | None:
    """`return Cls(a=visit_required(self, "a", ...), b=self.b, c=visit_sequence(self, "c", ...))`
    -> ("a", "c"). None when the method does not have that shape."""
    function = tree.body[0]
    if not isinstance(function, ast.FunctionDef):
        return None
    returns = [node for node in function.body if isinstance(node, ast.Return)]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Call):
        if len(function.body) == 1 and isinstance(function.body[0], ast.Return) and isinstance(function.body[0].value, ast.Name):
            return ()  # `return self`: a leaf
        return None
    call = returns[0].value
    if call.args:
        return None
    fields: list[str] = []
    for keyword in call.keywords:
        if keyword.arg is None:
            return None
        names = set()
        for node in ast.walk(keyword.value):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("visit_"):
                if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant) or not isinstance(node.args[1].value, str):
                    return None
                names.add(node.args[1].value)
        if not names:
            continue  # a plain value (a string, a flag)
        if names != {keyword.arg}:
            return None
        fields.append(keyword.arg)
    return tuple(fields)


def _useful_fields(cls: type) -> tuple[str, ...] | None:
    """child_fields without those whose declared type admits only trivia (lpar, whitespace_*)."""
    fields = child_fields(cls)
    if fields is None:
        return None
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotation: keep every field
        return fields
    return tuple(name for name in fields if not _only_trivia(hints.get(name)))


def _only_trivia(annotation: object) -> bool:
    """Can a field declared `annotation` hold only trivia nodes (or no node at all)?"""
    if annotation is None:
        return False
    classes: list[type] = []
    stack = [annotation]
    while stack:
        item = stack.pop()
        args = typing.get_args(item)
        if args:
            stack.extend(args)
            continue
        origin = typing.get_origin(item) or item
        if isinstance(origin, type):
            classes.append(origin)
        elif item is not None:
            return False  # a TypeVar, a string, ...: do not guess
    nodes = [c for c in classes if issubclass(c, cst.CSTNode)]
    return bool(nodes) and all(_trivia_class(c) for c in nodes)


def _trivia_class(cls: type) -> bool:
    # By name: libcst's add_slots leaves the class it replaced among __subclasses__().
    if (cls.__module__, cls.__qualname__) in _TRIVIA_NAMES:
        return True
    subclasses = cls.__subclasses__()
    return bool(subclasses) and all(_trivia_class(c) for c in subclasses)


_FIELDS: dict[type, tuple[str, ...] | None] = {}
# value class -> True: a child to keep, False: not a node or trivia (None, str, MaybeSentinel, ...)
_KEEP: dict[type, bool] = {}


def _keep(cls: type) -> bool:
    keep = _KEEP[cls] = isinstance(cls, type) and issubclass(cls, cst.CSTNode) and cls not in TRIVIA
    return keep


def compute_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of `node` except trivia, in libcst's order."""
    cls = node.__class__
    try:
        fields = _FIELDS[cls]
    except KeyError:
        fields = _FIELDS[cls] = _useful_fields(cls)
    if fields is None:
        return [child for child in node.children if child.__class__ not in TRIVIA]
    keep = _KEEP
    out: list[cst.CSTNode] = []
    for name in fields:
        value = getattr(node, name)
        vc = value.__class__
        if vc is tuple or vc is list:
            for item in value:
                ic = item.__class__
                k = keep.get(ic)
                if k is None:
                    k = _keep(ic)
                if k:
                    out.append(item)
        else:
            k = keep.get(vc)
            if k is None:
                k = _keep(vc)
            if k:
                out.append(value)
    return out


_CHECKED: set[type] = set()


def _check_fields(node: cst.CSTNode) -> None:
    """The first time a node class is met in this process, compare what its child fields give
    with libcst's own `children` for that node: a libcst release that visits its children in
    another way then costs speed (the class falls back to `children`), never correctness."""
    cls = node.__class__
    if cls in _CHECKED:
        return
    _CHECKED.add(cls)
    got = compute_children(node)
    wanted = [child for child in node.children if child.__class__ not in TRIVIA]
    if len(got) != len(wanted) or any(a is not b for a, b in zip(got, wanted)):
        _FIELDS[cls] = None


# The children of the tree being analysed, by node id (filled by Tree, cleared by Tree.close).
_KIDS: dict[int, list[cst.CSTNode]] = {}
_PARENTS: dict[int, cst.CSTNode] = {}  # id(node) -> its parent (non-trivia nodes only)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Like `node.children` without whitespace and comments, but without rebuilding the node."""
    kids = _KIDS.get(id(node))
    if kids is None:
        kids = compute_children(node)
    return kids


class Tree:
    """The traversal of one module: every node's children and the enter/leave sequence.

    `visitor` (a CSTVisitor that never prunes and has no attribute methods) is called while the
    tree is walked, as `module.visit(visitor)` would call it. `record`: the visitor classes the
    recorded sequence is for (see `visit_batched`) and the node types hooked there; events of
    node types none of them handles are left out. None: record every node.
    """

    def __init__(self, module: cst.Module, visitor: cst.CSTVisitor | None = None,
                 record: tuple[tuple[type, ...], frozenset[type]] | None = None) -> None:
        self.module = module
        kids = _KIDS
        kids.clear()
        parents = _PARENTS
        parents.clear()
        events: list[tuple[cst.CSTNode, bool]] = []
        append = events.append
        plan = _plan(type(visitor) if visitor is not None else None, record)
        get_steps = plan.get
        keep, new_kind = _KEEP, _keep
        stack: list = [module]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            item = pop()
            cls = item.__class__
            if cls is tuple:  # leaving item[0]
                node = item[0]
                steps = plan[node.__class__]
                if steps[2] is not None:
                    steps[2](visitor, node)
                if steps[3]:
                    append((node, False))
                continue
            steps = get_steps(cls)
            if steps is None:
                steps = plan.add(cls, item)
            enter_fn, record_enter, leave_fn, record_leave, fields = steps
            if enter_fn is not None:
                enter_fn(visitor, item)
            if record_enter:
                append((item, True))
            if leave_fn is not None or record_leave:
                push((item,))
            if not fields:
                if fields is None:  # a class whose fields are unknown: libcst's children
                    found = compute_children(item)
                    kids[id(item)] = found
                    for child in found:
                        parents[id(child)] = item
                    extend(reversed(found))
                continue  # a leaf (Name, SimpleString, ...): children() works it out, []
            # compute_children, inlined: this loop runs for every node of every file.
            found = []
            for name in fields:
                value = getattr(item, name)
                vc = value.__class__
                if vc is tuple or vc is list:
                    for child in value:
                        k = keep.get(child.__class__)
                        if k is None:
                            k = new_kind(child.__class__)
                        if k:
                            found.append(child)
                else:
                    k = keep.get(vc)
                    if k is None:
                        k = new_kind(vc)
                    if k:
                        found.append(value)
            kids[id(item)] = found
            if found:
                for child in found:
                    parents[id(child)] = item
                extend(reversed(found))
        self.events = events
        self.recorded = record

    def close(self) -> None:
        _KIDS.clear()
        _PARENTS.clear()
        self.events = []

    def __enter__(self) -> "Tree":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def visit_batched(self, visitors: Sequence[cst.BatchableCSTVisitor],
                      before: Callable[[cst.CSTNode], None], after: Callable[[cst.CSTNode], None],
                      hooked: Iterable[type]) -> None:
        """What libcst's `visit_batched(module, visitors, before_visit=before, after_leave=after)`
        calls, given that `before`/`after` do nothing for node types outside `hooked`.
        The tree must have been recorded for these visitor classes and hooks (or for all)."""
        hooked = frozenset(hooked)
        classes = tuple(type(v) for v in visitors)
        if self.recorded is not None and self.recorded != (classes, hooked):
            raise ValueError("Tree.visit_batched: the tree was recorded for other visitors")
        # Which visitor methods each node class gets is worked out once per set of visitor
        # classes (names), and bound to this file's visitor instances once per node class.
        names = _dispatch_names(classes, hooked)
        per_class: dict[type, tuple | None] = {}

        def calls_for(cls: type) -> tuple | None:
            spec = names.get(cls)
            if spec is None:
                spec = names[cls] = _dispatch_spec(cls, classes, hooked)
            if spec is False:
                return None
            enter_names, leave_names, hook = spec
            enters = tuple(getattr(visitors[i], name) for i, name in enter_names)
            leaves = tuple(getattr(visitors[i], name) for i, name in leave_names)
            if hook:
                enters, leaves = (before,) + enters, leaves + (after,)
            # Indexed by `entering`: [0] on leave, [1] on enter.
            return (leaves, enters)

        for node, entering in self.events:
            cls = node.__class__
            try:
                calls = per_class[cls]
            except KeyError:
                calls = per_class[cls] = calls_for(cls)
            if calls is not None:
                for fn in calls[entering]:
                    fn(node)


_DISPATCH: dict[tuple, dict[type, tuple | bool]] = {}


def _dispatch_names(classes: tuple[type, ...], hooked: frozenset[type]) -> dict[type, tuple | bool]:
    key = (classes, hooked)
    found = _DISPATCH.get(key)
    if found is None:
        found = _DISPATCH[key] = {}
    return found


def _dispatch_spec(cls: type, classes: tuple[type, ...], hooked: frozenset[type]) -> tuple | bool:
    """((visitor index, visit_ method name), ...), (... leave_ ...), hooked?) for nodes of
    `cls`, or False when nothing is called for them."""
    name = cls.__name__
    methods = [visitor_method_names(c) for c in classes]
    enters = tuple((i, "visit_" + name) for i, found in enumerate(methods) if "visit_" + name in found)
    leaves = tuple((i, "leave_" + name) for i, found in enumerate(methods) if "leave_" + name in found)
    hook = cls in hooked
    return (enters, leaves, hook) if enters or leaves or hook else False


class _Plan(dict):
    """node class -> (visitor's visit fn, record enter?, visitor's leave fn, record leave?,
    child fields: a tuple, or None when unknown)."""

    def __init__(self, visitor_class: type | None, record) -> None:
        super().__init__()
        self.visitor_names = plain_visitor_method_names(visitor_class) if visitor_class is not None else frozenset()
        self.visitor_class = visitor_class
        if record is None:
            self.enter_names = self.leave_names = None
            self.hooked: frozenset[type] = frozenset()
        else:
            classes, self.hooked = record
            names = frozenset().union(*(visitor_method_names(c) for c in classes))
            self.enter_names = {n[6:] for n in names if n.startswith("visit_")}
            self.leave_names = {n[6:] for n in names if n.startswith("leave_")}

    def add(self, cls: type, sample: cst.CSTNode | None = None) -> tuple:
        if sample is not None:
            _check_fields(sample)
        name = cls.__name__
        enter_fn = getattr(self.visitor_class, "visit_" + name) if "visit_" + name in self.visitor_names else None
        leave_fn = getattr(self.visitor_class, "leave_" + name) if "leave_" + name in self.visitor_names else None
        if self.enter_names is None:
            record_enter = record_leave = True
        else:
            hook = cls in self.hooked
            record_enter = hook or name in self.enter_names
            record_leave = hook or name in self.leave_names
        try:
            fields = _FIELDS[cls]
        except KeyError:
            fields = _FIELDS[cls] = _useful_fields(cls)
        steps = self[cls] = (enter_fn, record_enter, leave_fn, record_leave, fields)
        return steps


_PLANS: dict[tuple, _Plan] = {}


def _plan(visitor_class: type | None, record) -> _Plan:
    key = (visitor_class, record)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _Plan(visitor_class, record)
    return plan


@lru_cache(maxsize=None)
def visitor_method_names(cls: type) -> frozenset[str]:
    """The visit_/leave_ methods libcst's visit_batched would call on an instance of `cls`: as
    BatchableCSTVisitor.get_visitors finds them, methods whose attribute name and function name
    both start with visit_/leave_, libcst's typed no-op stubs excluded."""
    names = set()
    for name in dir(cls):
        if name.startswith(("visit_", "leave_")):
            fn = getattr(cls, name, None)
            fn = getattr(fn, "__func__", fn)  # a classmethod's function
            if (inspect.isfunction(fn) and fn.__name__.startswith(("visit_", "leave_"))
                    and not getattr(fn, "_is_no_op", False)):
                names.add(name)
    return frozenset(names)


@lru_cache(maxsize=None)
def plain_visitor_method_names(cls: type) -> frozenset[str]:
    """The visit_/leave_ methods a plain CSTVisitor's on_visit/on_leave would call: any
    attribute of that name (libcst looks them up with getattr), the no-op stubs excluded."""
    names = set()
    for name in dir(cls):
        if name.startswith(("visit_", "leave_")):
            fn = getattr(cls, name, None)
            if callable(fn) and not getattr(fn, "_is_no_op", False):
                names.add(name)
    return frozenset(names)


# -- parsing -------------------------------------------------------------------------------
def _no_validation(self: cst.CSTNode) -> None:
    pass


def parse_module(text: str) -> cst.Module:
    """`libcst.parse_module` without validating each node as it is built (about a tenth of the
    parse, more with a large heap). Validation guards trees built by hand, and rejects a few
    things libcst's grammar admits but Python does not (bytes + str literals): use this only on
    text CPython's own parser accepted. The switch is process-wide for the duration of the call:
    lambdalint does not parse from several threads."""
    node_class = cst.CSTNode
    saved = node_class.__dict__["__post_init__"]
    node_class.__post_init__ = _no_validation  # type: ignore[method-assign]
    try:
        return cst.parse_module(text)
    finally:
        node_class.__post_init__ = saved  # type: ignore[method-assign]


# -- positions -----------------------------------------------------------------------------
class _Found(Exception):
    """Raised to stop code generation once every wanted node has its position."""


class PositionState(CodegenState):
    """libcst's PositionProvidingCodegenState (the ranges PositionProvider gives), without the
    metadata machinery: ranges are (start line, start column, end line, end column) tuples
    keyed by id(node); generation stops as soon as the `wanted` nodes have theirs."""

    def __init__(self, module: cst.Module, wanted: Iterable[cst.CSTNode], keep_tokens: bool = False) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.computed: dict[int, tuple[int, int, int, int]] = {}
        self._stack: list[tuple[int, int]] = []
        self._wanted = {id(node) for node in wanted}
        self._missing = len(self._wanted)
        self._keep = keep_tokens

    # Tokens are kept only when asked: otherwise only the position moves.
    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        if self._keep:
            self.tokens.append(value)
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        segments = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.line += len(segments) - 1
        self.column = len(segments[-1])

    def pop_trailing_newline(self) -> None:
        if self._keep and self.tokens:
            self.tokens.pop()

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self._stack.pop()
        key = id(node)
        computed = self.computed
        if key not in computed:  # a syntactic position recorded inside the node stands
            computed[key] = (line, column, self.line, self.column)
        if self._missing and key in self._wanted:
            self._wanted.discard(key)
            self._missing -= 1
            if not self._missing:
                raise _Found

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[override]
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """The context manager PositionProvidingCodegenState.record_syntactic_position returns."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: PositionState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is _Found:
            return False
        state = self.state
        computed = state.computed
        if self.start_node is not None:
            first = computed[id(self.start_node)]
            start = (first[0], first[1])
        else:
            start = self.start
        if self.end_node is not None:
            last = computed[id(self.end_node)]
            end = (last[2], last[3])
        else:
            end = (state.line, state.column)
        computed[id(self.node)] = (*start, *end)
        return False


def positions(tree: Tree, wanted: Sequence[cst.CSTNode], text: str) -> dict[cst.CSTNode, CodeRange]:
    """The PositionProvider ranges of the `wanted` nodes.

    Instead of generating the code of the whole module, only the statements that hold a wanted
    node are generated, the innermost first: a statement on its own lines (in a module or an
    indented block) generates, given its indentation, exactly the text it has in the file. When
    that text occurs once in the file, its offset gives the statement's first line and column,
    and the positions inside it are those the whole module's code generation would give, moved
    there. When it occurs more than once, the enclosing statement is tried; a node no statement
    places goes to the whole-module pass, which stops at the last such node."""
    found: dict[cst.CSTNode, CodeRange] = {}
    if not wanted:
        return found
    module = tree.module
    generated: dict[int, tuple[dict, int, int] | None] = {}  # id(statement) -> (ranges, line, column)
    rest: list[cst.CSTNode] = []
    for node in wanted:
        for statement, indents in reversed(_enclosing_statements(tree, node)):
            key = id(statement)
            if key not in generated:
                generated[key] = _generate(module, statement, indents, text)
            result = generated[key]
            if result is None:
                continue
            ranges, line, column = result
            span = ranges.get(id(node))
            if span is not None:
                found[node] = _range(span, line, column)
                break
        else:
            rest.append(node)
    if rest:
        state = PositionState(module, rest)
        try:
            module._codegen(state)
        except _Found:
            pass
        for node in rest:
            span = state.computed.get(id(node))
            if span is not None:
                found[node] = _range(span, 1, 0)
    return found


def headers(tree: Tree, wanted: Sequence[cst.CSTNode], text: str) -> dict[cst.CSTNode, CodeRange]:
    """For compound statements (loops, `if`, `with`, `def`, ...): the range of the header, from
    the keyword to the colon before the body (`while True:`), where a finding on the statement
    belongs. Only the header's code is generated, not the body's: positions() of a loop costs a
    generation of the whole loop. A header whose text (with the comments and blank lines before
    it) is not unique in the file is left out: positions() places that statement."""
    found: dict[cst.CSTNode, CodeRange] = {}
    module = tree.module
    for node in wanted:
        body = getattr(node, "body", None)
        if not isinstance(node, cst.BaseCompoundStatement) or not isinstance(body, cst.BaseSuite):
            continue
        chain = _enclosing_statements(tree, node)
        if not chain or chain[-1][0] is not node:
            continue
        state = _HeaderState(module, node)
        state.indent_tokens = list(chain[-1][1])
        try:
            node._codegen(state)
        except _Found:
            pass
        if state.start is None or state.end is None:
            continue
        code = "".join(state.tokens)
        offset = text.find(code)
        if not code or offset < 0 or text.find(code, offset + 1) >= 0:
            continue
        line, column = _line_column(text, offset)
        found[node] = _range((*state.start, *state.end), line, column)
    return found


class _HeaderState(PositionState):
    """Generates a compound statement up to its body: where its syntactic position starts
    (the keyword) and where the header ends (after the colon)."""

    def __init__(self, module: cst.Module, statement: cst.BaseCompoundStatement) -> None:
        super().__init__(module, (), keep_tokens=True)
        self._statement = statement
        self._body = statement.body
        self.start: tuple[int, int] | None = None
        self.end: tuple[int, int] | None = None

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node is self._body:
            self.end = (self.line, self.column)
            raise _Found
        super().before_codegen(node)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[override]
        if node is self._statement and start_node is None:
            return _HeaderStart(self)
        return super().record_syntactic_position(node, start_node=start_node, end_node=end_node)


class _HeaderStart:
    """The statement's syntactic position context: its start is taken when entered."""

    __slots__ = ("state",)

    def __init__(self, state: _HeaderState) -> None:
        self.state = state

    def __enter__(self) -> None:
        self.state.start = (self.state.line, self.state.column)

    def __exit__(self, exc_type, exc, tb) -> bool:
        return False


def _range(span: tuple[int, int, int, int], line: int, column: int) -> CodeRange:
    """A range generated from (1, 0), moved to a statement that starts at (line, column)."""
    start_line, start_column, end_line, end_column = span
    return CodeRange(
        CodePosition(start_line + line - 1, start_column + column if start_line == 1 else start_column),
        CodePosition(end_line + line - 1, end_column + column if end_line == 1 else end_column),
    )


def _generate(module: cst.Module, statement: cst.CSTNode, indents: tuple[str, ...], text: str):
    """(ranges from (1, 0), first line, first column) of a statement found once in `text`, else None."""
    state = PositionState(module, (), keep_tokens=True)
    state.indent_tokens = list(indents)
    statement._codegen(state)
    code = "".join(state.tokens)
    offset = text.find(code)
    if not code or offset < 0 or text.find(code, offset + 1) >= 0:
        return None
    line, column = _line_column(text, offset)
    return state.computed, line, column


_LINE_OWNERS = (cst.Module, cst.IndentedBlock)


def _enclosing_statements(tree: Tree, node: cst.CSTNode) -> list[tuple[cst.CSTNode, tuple[str, ...]]]:
    """The statements that hold `node` and start a line of their own (in a module or an
    indented block), outermost first, each with the indentation it is generated with."""
    parents = _PARENTS
    path = [node]
    while True:
        parent = parents.get(id(path[-1]))
        if parent is None:
            break
        path.append(parent)
    if path[-1] is not tree.module:
        return []  # not in this tree (or not recorded): the whole-module pass places it
    default = tree.module.default_indent
    chain: list[tuple[cst.CSTNode, tuple[str, ...]]] = []
    indents: list[str] = []
    for index in range(len(path) - 1, 0, -1):
        parent, child = path[index], path[index - 1]
        if parent.__class__ is cst.IndentedBlock:
            indents.append(default if parent.indent is None else parent.indent)
        if parent.__class__ in _LINE_OWNERS:
            chain.append((child, tuple(indents)))
    return chain


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and 0-based column of `offset`, counting \\r\\n, \\r and \\n as libcst does."""
    head = text[:offset]
    line = head.count("\n") + head.count("\r") - head.count("\r\n") + 1
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return line, offset - start


def _shift(position: CodePosition, line: int, column: int) -> CodePosition:
    """A position generated from (1, 0) moved to a statement that starts at (line, column)."""
    return CodePosition(position.line + line - 1, position.column + column if position.line == 1 else position.column)
