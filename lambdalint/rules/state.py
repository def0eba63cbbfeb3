"""Family 1: state that leaks between warm invocations (LAM101-LAM105)."""

from __future__ import annotations

import libcst as cst

from ..engine.bindings import dotted, string_value
from ..engine.summary import Reach
from .base import Rule, short

GROWTH = {
    "list": {"append", "extend", "insert"},
    "deque": {"append", "extend", "insert", "appendleft", "extendleft"},
    "set": {"add", "update"},
    "dict": set(),
}
KEYED_DICT_WRITES = {"setdefault", "update"}
EVICTIONS = {"pop", "popitem", "clear", "popleft", "remove", "discard"}
LEAK = "leaks into the next warm invocation (Lambda reuses the execution environment)"


def _is_constant(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.ConcatenatedString)) or (
        isinstance(expr, cst.Name) and expr.value in ("None", "True", "False")
    )


class GlobalContainerMutated(Rule):
    """LAM101 (module-level container changed from handler code) and LAM103 (module-level dict
    keyed by request data with no eviction, and `cache`/`lru_cache(maxsize=None)`)."""

    CODES = ("LAM101", "LAM103")
    VALID = (
        # Module-level constants read by the handler; locals shadowing module names.
        """
ALLOWED = {"eu-west-1", "us-east-1"}
results = []

def handler(event, context):
    results = []
    for record in event["Records"]:
        if record["awsRegion"] in ALLOWED:
            results.append(record["messageId"])
    return results
""",
        # A cache with eviction, and a bounded lru_cache.
        """
from functools import lru_cache
_tokens = {}

@lru_cache(maxsize=256)
def price(sku):
    return 1

def handler(event, context):
    if len(_tokens) > 100:
        _tokens.clear()
    _tokens[event["user"]] = price(event["sku"])
""",
        # A zero-argument cached factory is a singleton.
        """
import functools, boto3

@functools.cache
def s3():
    return boto3.client("s3")

def handler(event, context):
    return s3().list_buckets()
""",
        # Filled at import time, read in the handler.
        """
ROUTES = {}
ROUTES["GET /"] = "index"
ITEMS = []
ITEMS.extend(range(3))

def handler(event, context):
    return ROUTES.get(event["routeKey"]), len(ITEMS)
""",
    )
    INVALID = (
        """
import collections
seen = []
by_user = collections.defaultdict(list)
STATE = {}

def remember(record):
    seen.append(record["messageId"])  # expect: LAM101
    by_user[record["user"]].append(record)  # expect: LAM103

def handler(event, context):
    STATE["last_request"] = context.aws_request_id  # expect: LAM101
    for record in event["Records"]:
        remember(record)
""",
        """
from functools import lru_cache, cache
_profiles = {}

@lru_cache(maxsize=None)  # expect: LAM103
def lookup(user_id):
    return {"id": user_id}

@cache  # expect: LAM103
def rate(currency):
    return 1.0

def handler(event, context):
    uid = event["pathParameters"]["id"]
    _profiles[uid] = lookup(uid)  # expect: LAM103
    return rate(event["currency"])
""",
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._evicted: set[str] = set()
        self._keyed: list[tuple[cst.CSTNode, str, str]] = []

    # -- evictions anywhere in the module make a keyed dict a bounded cache --------------
    def visit_Del(self, node: cst.Del) -> None:
        target = node.target
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self._evicted.add(target.value.value)

    def _note_len(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "len" and node.args:
            arg = node.args[0].value
            if isinstance(arg, cst.Name):
                self._evicted.add(arg.value)

    # -- mutations ----------------------------------------------------------------------
    def _container(self, expr: cst.BaseExpression) -> tuple[str, str] | None:
        """(name, container kind) when `expr` names a module-level mutable container."""
        found = self.ctx.module_binding(expr)
        if found is None or found[1].kind != "value":
            return None
        kind = self.ctx.container_of(found[1])
        return (found[0], kind) if kind else None

    def visit_Call(self, node: cst.Call) -> None:
        self._note_len(node)
        if not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        receiver = node.func.value
        found = self._container(receiver) if isinstance(receiver, cst.Name) else None
        if found and method in EVICTIONS:
            self._evicted.add(found[0])
        if self.ctx.function is None:
            return
        if found:
            name, kind = found
            if method in GROWTH.get(kind, ()):
                self._report_leak(node, name, f".{method}()")
            elif kind == "dict" and method in KEYED_DICT_WRITES:
                key = node.args[0].value if node.args else None
                if method == "update" or key is None or not _is_constant(key):
                    self._keyed.append((node, name, self.ctx.function.qualname))
                else:
                    self._report_leak(node, name, f".{method}()")
        elif isinstance(receiver, cst.Subscript) and method in GROWTH["list"] | GROWTH["set"]:
            # by_user[user].append(x): a dict of lists keyed by request data.
            inner = self._container(receiver.value)
            if inner and inner[1] == "dict":
                self._keyed.append((node, inner[0], self.ctx.function.qualname))

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.function is None:
            return
        for target in node.targets:
            self._item_write(target.target, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self.ctx.function is None:
            return
        if isinstance(node.target, cst.Name) and node.target.value in (self.ctx.scope.globals if self.ctx.scope else ()):
            found = self._container(node.target)
            if found:
                self._report_leak(node, found[0], " += ...")
                return
        self._item_write(node.target, node)

    def _item_write(self, target: cst.BaseExpression, statement: cst.CSTNode) -> None:
        if not isinstance(target, cst.Subscript) or len(target.slice) != 1:
            return
        found = self._container(target.value)
        if not found:
            return
        name, kind = found
        index = target.slice[0].slice
        key = index.value if isinstance(index, cst.Index) else None
        if kind == "dict" and (key is None or not _is_constant(key)):
            self._keyed.append((statement, name, self.ctx.function.qualname))
        else:
            self._report_leak(statement, name, "[...] =")

    def _report_leak(self, node: cst.CSTNode, name: str, how: str) -> None:
        self.ctx.report(
            node, "LAM101",
            f"module-level `{name}` is changed from handler code ({name}{how}); "
            f"its content {LEAK}, and growth counts against the function's memory until it is "
            f"killed (Runtime.OutOfMemory) — build it inside the handler instead",
            Reach.HANDLER,
        )

    # -- functools caches ---------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = [p for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
                  if p.name.value not in ("self", "cls")]
        if not params and not isinstance(node.params.star_arg, cst.Param) and node.params.star_kwarg is None:
            return
        for decorator in node.decorators:
            if self._unbounded_cache(decorator.decorator):
                # The engine has entered the decorated function already: the finding is real
                # when a handler reaches it.
                self.ctx.report(decorator, "LAM103",
                    f"`{node.name.value}` is cached with no size limit and called with request data; "
                    f"every distinct argument stays in memory for the life of the execution environment until the "
                    f"function exceeds its configured memory (Runtime.OutOfMemory) — use lru_cache(maxsize=N) or a TTL cache",
                    Reach.HANDLER)

    def _unbounded_cache(self, expr: cst.BaseExpression) -> bool:
        name = self.ctx.canonical(expr.func if isinstance(expr, cst.Call) else expr)
        if name == "functools.cache":
            return True
        if name != "functools.lru_cache" or not isinstance(expr, cst.Call):
            return False
        for arg in expr.args:
            if arg.keyword is None or arg.keyword.value == "maxsize":
                return isinstance(arg.value, cst.Name) and arg.value.value == "None"
        return False  # lru_cache() defaults to maxsize=128

    def finish(self) -> None:
        for node, name, function in self._keyed:
            if name in self._evicted:
                continue
            self.ctx.candidates.append((node, "LAM103",
                f"module-level `{name}` is keyed by request data and never evicted; "
                f"it grows with every distinct key for the life of the execution environment until the function "
                f"exceeds its configured memory (Runtime.OutOfMemory) — bound it (cachetools.LRUCache/TTLCache) or evict",
                Reach.HANDLER, function))


def _lazy_init_test(test: cst.BaseExpression, name: str) -> bool:
    """`if X is None`, `if not X`, `if X is None or ...`, `X or make()`: a test of whether X
    has been initialised yet (not `if now - X > 60`, which is a test of its value)."""
    if isinstance(test, cst.Name):
        return test.value == name
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _lazy_init_test(test.expression, name)
    if isinstance(test, cst.BooleanOperation):
        return _lazy_init_test(test.left, name) or _lazy_init_test(test.right, name)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, right = test.left, test.comparisons[0].comparator
        operator = test.comparisons[0].operator
        if isinstance(operator, (cst.Is, cst.Equal, cst.IsNot, cst.NotEqual)):
            sides = {dotted(left), dotted(right)}
            return name in sides and "None" in sides
        if isinstance(operator, (cst.In, cst.NotIn)):
            return dotted(right) == name  # `if key not in X:`
    return False



class GlobalRebound(Rule):
    """LAM102: `global X` and an assignment to X in handler code, other than lazy initialisation."""

    CODES = ("LAM102",)
    VALID = (
        """
import boto3
_client = None
_conn = None

def handler(event, context):
    global _client, _conn
    if _client is None:
        _client = boto3.client("dynamodb")
    _conn = _conn or connect()
    return _client.describe_limits()
""",
        # A global declared but only read; a local of the same name elsewhere.
        """
COUNT = 0

def handler(event, context):
    global COUNT
    return COUNT

def other(event, context):
    COUNT = 5
    return COUNT
""",
    )
    INVALID = (
        """
current_user = None
invocations = 0

def authorize(event):
    global current_user
    current_user = event["requestContext"]["authorizer"]["principalId"]  # expect: LAM102

def handler(event, context):
    global invocations
    invocations += 1  # expect: LAM102
    authorize(event)
    return current_user
""",
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._tests: list[cst.BaseExpression] = []

    def visit_If(self, node: cst.If) -> None:
        self._tests.append(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self._tests.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._check(node, target.target.value, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self._check(node, node.target.value, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            binding = self.ctx.resolver.module.get(node.target.value)
            if binding is not None and self.ctx.container_of(binding):
                return  # a container grown with += is LAM101's
            self._check(node, node.target.value, None)

    def _check(self, node: cst.CSTNode, name: str, value: cst.BaseExpression | None) -> None:
        scope = self.ctx.scope
        if scope is None or name not in scope.globals:
            return
        if value is not None:
            canonical = self.ctx.canonical(value) or ""
            cats = self.ctx.catalogs
            if canonical.startswith("aws.") or canonical.rstrip("()") in cats.connections:
                return  # (re)creating a client: LAM501's business, not state
            if isinstance(value, cst.BooleanOperation) and _lazy_init_test(value.left, name):
                return  # X = X or make()
        if any(_lazy_init_test(test, name) for test in self._tests):
            return
        self.ctx.report(
            node, "LAM102",
            f"handler code rebinds module-level `{name}`; the value set for one event "
            f"{LEAK} — return it or pass it as an argument (lazy `if {name} is None:` initialisation is fine)",
            Reach.HANDLER,
        )


_PLAIN_OBJECTS = frozenset({"types.SimpleNamespace()", "argparse.Namespace()", "object()"})


class GlobalObjectAttributeWritten(Rule):
    """LAM104: `OBJ.attr = value` in handler code on a module-level instance of a local class."""

    CODES = ("LAM104",)
    VALID = (
        """
import boto3, logging
from types import SimpleNamespace
s3 = boto3.client("s3")
logger = logging.getLogger()
settings = SimpleNamespace(bucket="b")
settings.region = "eu-west-1"

class Job:
    def __init__(self, key):
        self.key = key

def handler(event, context):
    logger.disabled = False
    job = Job(event["key"])
    job.status = "started"
    return s3.head_object(Bucket=settings.bucket, Key=job.key)
""",
    )
    INVALID = (
        """
from types import SimpleNamespace

class RequestState:
    tenant = None

state = RequestState()
ctx = SimpleNamespace()

def handler(event, context):
    state.tenant = event["headers"]["x-tenant"]  # expect: LAM104
    setattr(ctx, "request_id", context.aws_request_id)  # expect: LAM104
    return state.tenant
""",
    )

    def _module_object(self, expr: cst.BaseExpression) -> str | None:
        found = self.ctx.module_binding(expr)
        if found is None or found[1].kind != "value":
            return None
        value = self.ctx.resolver._value(found[1], None) or ""
        local_instance = value.startswith("@") and value.endswith("()")
        return found[0] if local_instance or value in _PLAIN_OBJECTS else None

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.function is None:
            return
        for target in node.targets:
            if isinstance(target.target, cst.Attribute):
                name = self._module_object(target.target.value)
                if name:
                    self._report(node, name, target.target.attr.value)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.function is None or len(node.args) < 2:
            return
        if isinstance(node.func, cst.Name) and node.func.value == "setattr":
            name = self._module_object(node.args[0].value)
            if name:
                attr = string_value(node.args[1].value) or "..."
                self._report(node, name, attr)

    def _report(self, node: cst.CSTNode, name: str, attr: str) -> None:
        self.ctx.report(
            node, "LAM104",
            f"handler code sets `{name}.{attr}` on a module-level object; the value "
            f"{LEAK} — create the object per invocation or pass the value along",
            Reach.HANDLER,
        )


class EnvironMutated(Rule):
    """LAM105: `os.environ` changed in handler code."""

    CODES = ("LAM105",)
    VALID = (
        """
import os
os.environ["POWERTOOLS_SERVICE_NAME"] = "orders"

def handler(event, context):
    table = os.environ["TABLE"]
    env = dict(os.environ)
    env["X"] = "1"
    return os.environ.get("STAGE", "dev"), table
""",
    )
    INVALID = (
        """
import os
from os import environ

def handler(event, context):
    os.environ["TENANT"] = event["tenant"]  # expect: LAM105
    environ.update({"REQUEST_ID": context.aws_request_id})  # expect: LAM105
    os.putenv("X", "1")  # expect: LAM105
""",
    )
    _METHODS = frozenset({"update", "setdefault", "pop", "clear", "popitem"})

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.function is None:
            return
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Subscript) and self.ctx.canonical(t.value) == "os.environ":
                self._report(node)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.function is None:
            return
        name = self.ctx.canonical(node.func) or ""
        if name in ("os.putenv", "os.unsetenv") or (
            name.startswith("os.environ.") and name.rsplit(".", 1)[-1] in self._METHODS
        ):
            self._report(node)

    def _report(self, node: cst.CSTNode) -> None:
        self.ctx.report(
            node, "LAM105",
            f"handler code changes os.environ; the process environment {LEAK}, "
            f"and libraries that read it at import never see the change — pass the value explicitly",
            Reach.HANDLER,
        )
