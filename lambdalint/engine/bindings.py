"""What each name in a module stands for: lambdalint's own, cheap scope model.

libcst's ScopeProvider resolves every name in a file and costs several times the parse itself;
rules here only need to know, for a handful of names, whether they are module-level, what they
were imported as, and what an assignment constructed (an SDK client, a list, an instance of a
local class). One light pre-pass collects that; `Resolver` answers the questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import libcst as cst

MUTABLE_LITERALS = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)


@dataclass
class Binding:
    """One name's meaning.

    kind: "import" (target is the qualified name it imports), "def" (a function or class defined
    here; target is its local qualname), "value" (an assignment; target is the canonical name of
    what the right-hand side constructs, or "" when unknown), "param" (a function parameter).
    container: "list", "dict", "set", "deque", ... when the value is a mutable container.
    """

    kind: str
    target: str = ""
    container: str = ""
    node: cst.CSTNode | None = None
    assigned_in_functions: bool = False


@dataclass
class FunctionScope:
    """Names bound in one function body (Python makes them local for the whole body)."""

    qualname: str
    node: cst.CSTNode
    class_name: str = ""  # enclosing class for methods
    locals: dict[str, Binding] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` as a string; None for anything that is not a plain dotted name."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted(expr.value)
        return f"{base}.{expr.attr.value}" if base else None
    return None


def import_targets(node: cst.Import | cst.ImportFrom) -> Iterable[tuple[str, str]]:
    """(bound name, qualified target) for each name an import statement binds."""
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted(alias.name) or ""
            if alias.asname is not None:
                yield dotted(alias.asname.name) or full, full
            else:
                head = full.split(".")[0]
                yield head, head
        return
    module = dotted(node.module) if node.module is not None else ""
    prefix = "." * len(node.relative) + (module or "")
    if isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        name = dotted(alias.name) or ""
        bound = dotted(alias.asname.name) if alias.asname is not None else name
        sep = "" if prefix.endswith(".") else "."
        yield bound or name, f"{prefix}{sep}{name}" if prefix else name


def assigned_names(target: cst.BaseExpression) -> Iterable[str]:
    """Plain names bound by an assignment target (tuples unpacked, attributes/subscripts skipped)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from assigned_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from assigned_names(target.value)


class BindingCollector(cst.CSTVisitor):
    """The pre-pass: module-level bindings, each function's locals, and `self.x = ...` in classes.

    Right-hand sides are stored unevaluated; `Resolver` canonicalises them lazily, so a function
    may use a module-level name defined further down the file.
    """

    def __init__(self) -> None:
        self.module: dict[str, Binding] = {}
        self.functions: dict[int, FunctionScope] = {}
        self.class_attrs: dict[str, dict[str, Binding]] = {}
        self.imports: list[str] = []  # every module imported anywhere in the file, dotted
        self._stack: list[FunctionScope] = []
        self._classes: list[str] = []
        self._qual: list[str] = []

    # -- scopes ---------------------------------------------------------------------------
    def _bind(self, name: str, binding: Binding) -> None:
        if self._stack:
            scope = self._stack[-1]
            if name in scope.globals:
                existing = self.module.get(name)
                if existing is not None:
                    existing.assigned_in_functions = True
                else:
                    self.module[name] = Binding("value", assigned_in_functions=True, node=binding.node)
                return
            if name in scope.nonlocals:
                return
            scope.locals.setdefault(name, binding)
        elif not self._classes:
            # Module level: the first binding decides the kind, as later rebinds are usually
            # the same thing (try/except import fallbacks, conditional definitions).
            self.module.setdefault(name, binding)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        name = node.name.value
        self._bind(name, Binding("def", ".".join(self._qual + [name]), node=node))
        qual = ".".join(self._qual + [name])
        scope = FunctionScope(qual, node, class_name=self._classes[-1] if self._classes else "")
        self.functions[id(node)] = scope
        self._stack.append(scope)
        self._qual.extend([name, "<locals>"])
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope.locals[param.name.value] = Binding("param", node=param)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.locals[star.name.value] = Binding("param", node=star)
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()
        del self._qual[-2:]

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        name = node.name.value
        self._bind(name, Binding("def", ".".join(self._qual + [name]), node=node))
        self._classes.append(".".join(self._qual + [name]))
        self._qual.append(name)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()
        self._qual.pop()

    # -- statements that bind -------------------------------------------------------------
    def visit_Global(self, node: cst.Global) -> None:
        if self._stack:
            self._stack[-1].globals.update(n.name.value for n in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        if self._stack:
            self._stack[-1].nonlocals.update(n.name.value for n in node.names)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.extend(dotted(alias.name) or "" for alias in node.names)
        for bound, target in import_targets(node):
            self._bind(bound, Binding("import", target, node=node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = "." * len(node.relative) + (dotted(node.module) or "" if node.module is not None else "")
        self.imports.append(base)
        for bound, target in import_targets(node):
            # `from pkg import submodule` may import a module: the project phase checks.
            self.imports.append(target)
            self._bind(bound, Binding("import", target, node=node))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assign(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value)
        elif isinstance(node.target, cst.Name) and self._stack:
            self._bind(node.target.value, Binding("value", node=node))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and self._stack:
            self._bind(node.target.value, Binding("value", node=None))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._assign(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        for name in assigned_names(node.target):
            self._bind(name, Binding("value", node=None))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        # Comprehension variables are local to the comprehension; binding them in the
        # enclosing function only hides module names of the same spelling, which is harmless.
        if self._stack:
            for name in assigned_names(node.target):
                self._stack[-1].locals.setdefault(name, Binding("value"))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._assign(node.asname.name, node.item)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            for name in assigned_names(node.name.name):
                self._bind(name, Binding("value"))

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, Binding("value", node=value, container=container_kind(value)))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for name in assigned_names(target):
                self._bind(name, Binding("value"))
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
            and self._stack
            and self._stack[-1].class_name
        ):
            attrs = self.class_attrs.setdefault(self._stack[-1].class_name, {})
            attrs.setdefault(target.attr.value, Binding("value", node=value))


_CONTAINER_CALLS = {
    "list": "list",
    "dict": "dict",
    "set": "set",
    "collections.deque": "deque",
    "collections.defaultdict": "dict",
    "collections.OrderedDict": "dict",
    "collections.Counter": "dict",
    "deque": "deque",
    "defaultdict": "dict",
    "OrderedDict": "dict",
    "Counter": "dict",
}


def container_kind_of_call(canonical: str | None) -> str:
    """Container kind built by calling `canonical` (`collections.deque` -> 'deque')."""
    if not canonical:
        return ""
    return _CONTAINER_CALLS.get(canonical, "")


def container_kind(value: cst.BaseExpression | None) -> str:
    """'list' / 'dict' / 'set' / 'deque' when `value` builds a mutable container, else ''."""
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    if isinstance(value, (cst.Set, cst.SetComp)):
        return "set"
    if isinstance(value, cst.Call):
        name = dotted(value.func)
        if name in ("list", "dict", "set"):
            return name
    return ""  # other constructors are resolved through imports by ModuleContext.container_of


class Resolver:
    """Turns expressions into canonical names, following imports and constructing assignments.

    Canonical names: `requests.post` (however `requests` was imported), `@save_order` (a function
    or class defined in this module, by local qualname), `aws.s3` (a boto3 client or resource for
    service s3), `aws.dynamodb.Table()` (a DynamoDB Table resource), `redis.Redis()` (an instance
    constructed by calling `redis.Redis`). None means "not something we can name".
    """

    def __init__(self, collected: BindingCollector, aws_clients: frozenset[str], aws_resources: frozenset[str]):
        self.module = collected.module
        self.functions = collected.functions
        self.class_attrs = collected.class_attrs
        self._aws_clients = aws_clients
        self._aws_resources = aws_resources
        self._busy: set[int] = set()

    def lookup(self, name: str, scope: FunctionScope | None) -> tuple[str, Binding | None]:
        """('local' | 'module' | 'builtin', binding) for `name` seen from `scope`."""
        if scope is not None and name not in scope.globals:
            binding = scope.locals.get(name)
            if binding is not None:
                return "local", binding
        binding = self.module.get(name)
        if binding is not None:
            return "module", binding
        return "builtin", None

    def module_binding(self, expr: cst.BaseExpression, scope: FunctionScope | None) -> tuple[str, Binding] | None:
        """(name, binding) when `expr` is a bare name that refers to a module-level binding."""
        if not isinstance(expr, cst.Name):
            return None
        where, binding = self.lookup(expr.value, scope)
        if where == "module" and binding is not None:
            return expr.value, binding
        return None

    def canonical(self, expr: cst.BaseExpression, scope: FunctionScope | None) -> str | None:
        # Exact class tests (libcst's parser builds no subclasses): cheaper than isinstance()
        # through ABCMeta, on the hottest path of every rule.
        kind = expr.__class__
        if kind is cst.Name:
            return self._name(expr.value, scope)
        if kind is cst.Attribute:
            if expr.value.__class__ is cst.Name and expr.value.value == "self" and scope and scope.class_name:
                binding = self.class_attrs.get(scope.class_name, {}).get(expr.attr.value)
                if binding is not None:
                    return self._value(binding, None) or None
                return f"@{scope.class_name}().{expr.attr.value}"
            base = self.canonical(expr.value, scope)
            return f"{base}.{expr.attr.value}" if base else None
        if kind is cst.Call:
            return self._call(expr, scope)
        return None

    def _name(self, name: str, scope: FunctionScope | None) -> str | None:
        where, binding = self.lookup(name, scope)
        if binding is None:
            return name  # a builtin, or a name we cannot see (star import): keep its spelling
        if binding.kind == "import":
            return binding.target
        if binding.kind == "def":
            return "@" + binding.target
        if binding.kind == "param":
            return None
        value = self._value(binding, scope if where == "local" else None)
        if value:
            return value
        # A plain module-level variable: name it so rules can tell module state apart.
        return f"@{name}" if where == "module" else None

    def _value(self, binding: Binding, scope: FunctionScope | None) -> str | None:
        node = binding.node
        if not isinstance(node, cst.BaseExpression) or id(node) in self._busy:
            return None
        self._busy.add(id(node))
        try:
            if isinstance(node, cst.Call):
                return self._call(node, scope)
            if isinstance(node, (cst.Name, cst.Attribute)):
                return self.canonical(node, scope)
            return None
        finally:
            self._busy.discard(id(node))

    def _call(self, call: cst.Call, scope: FunctionScope | None) -> str | None:
        func = self.canonical(call.func, scope)
        if func is None:
            return None
        if func in self._aws_clients or func in self._aws_resources:
            service = service_argument(call)
            return f"aws.{service}" if service else "aws.unknown"
        return func + "()"


def service_argument(call: cst.Call) -> str | None:
    """The service name given to boto3.client(...)/resource(...), when it is a literal."""
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "service_name":
            value = arg.value
            if isinstance(value, cst.SimpleString):
                evaluated = simple_string_value(value)
                return evaluated if isinstance(evaluated, str) else None
            return None
    return None


def simple_string_value(node: cst.SimpleString) -> str | bytes:
    """`node.evaluated_value` (which runs ast.literal_eval, i.e. a parse) without the parse for
    the common literal: no prefix, no backslash, no carriage return."""
    value = node.value
    if value[0] in "\"'" and "\\" not in value and "\r" not in value:
        if len(value) >= 6 and value[:3] in ('"""', "'''"):
            return value[3:-3]
        return value[1:-1]
    return node.evaluated_value


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (not an f-string), else None."""
    if isinstance(expr, cst.SimpleString):
        value = simple_string_value(expr)
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        left, right = string_value(expr.left), string_value(expr.right)
        return left + right if left is not None and right is not None else None
    return None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    """`f(**opts)` may pass any keyword: a rule asking "is timeout= given?" must assume yes."""
    return any(arg.star == "**" for arg in call.args)
