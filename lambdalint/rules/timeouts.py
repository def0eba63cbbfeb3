"""Family 3: code that runs into the function timeout (LAM301-LAM305).

Messages carry `{timeout}`: the project phase fills in the configured timeout of the handler
that reaches the code (templates and config may give each function its own).
"""

from __future__ import annotations

import libcst as cst

from ..engine.bindings import string_value
from ..engine.fastcst import children
from ..engine.summary import Reach
from .base import Rule, calls_in, has_deadline, has_star_kwargs, walk_body

SLEEPS = frozenset({"time.sleep", "asyncio.sleep"})
TOKEN_WORDS = ("token", "marker", "cursor", "next_page", "nextpage", "last_evaluated", "lastevaluated", "continuation", "page_url", "next_url")
TOKEN_KEYS = frozenset({"NextToken", "ContinuationToken", "NextContinuationToken", "LastEvaluatedKey",
                        "Marker", "NextMarker", "nextToken", "next", "next_page", "cursor"})
COLLECTION_METHODS = frozenset({"all", "filter", "pages", "page_size", "limit"})
DEPTH_WORDS = ("depth", "level", "limit", "max", "remaining", "retries", "budget", "ttl", "hops")
# "... until <TIMEOUT_END>": what happens at the configured timeout, in every LAM3xx message.
TIMEOUT_END = "the function timeout ({timeout}), where Lambda kills the invocation, bills the whole wait and retries at-least-once events"


def _is_constant_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    if isinstance(test, cst.Integer):
        return test.value not in ("0",)
    return False


def _exits(loop: cst.While, ctx) -> bool:
    """Does the loop body contain a way out: break (of this loop), return, raise, sys.exit?"""
    stack = list(children(loop.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(node, (cst.Return, cst.Raise)):
            return True
        if isinstance(node, cst.Break):
            return True
        if isinstance(node, cst.Call) and ctx.canonical(node.func) in ("sys.exit", "os._exit", "exit", "quit"):
            return True
        if isinstance(node, (cst.For, cst.While)):
            # A break inside a nested loop leaves only that loop; return/raise still count.
            stack.extend(n for n in walk_body(node) if isinstance(n, (cst.Return, cst.Raise)))
            continue
        stack.extend(children(node))
    return False


def _bounded_counter(loop: cst.While) -> bool:
    """`while attempt < 5`, or `attempt += 1` in the body with `if attempt >= N: break/raise`."""
    if isinstance(loop.test, cst.Comparison) and any(
        isinstance(c.operator, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual))
        for c in loop.test.comparisons
    ):
        return True
    stepped = {n.target.value for n in walk_body(loop.body) if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name)}
    if not stepped:
        return False
    for node in walk_body(loop.body):
        if isinstance(node, cst.If) and isinstance(node.test, cst.Comparison):
            names = {n.value for n in (node.test, *walk_body(node.test)) if isinstance(n, cst.Name)}
            if names & stepped:
                return True
    return False


class Loops(Rule):
    """LAM301 (sleeping poll loop without deadline), LAM302 (loop without exit), LAM304
    (pagination with network calls and no deadline)."""

    CODES = ("LAM301", "LAM302", "LAM304")
    VALID = (
        """
import time, boto3
glue = boto3.client("glue")

def handler(event, context):
    for attempt in range(5):
        if glue.get_job_run(JobName="j", RunId=event["id"])["JobRun"]["JobRunState"] == "SUCCEEDED":
            return True
        time.sleep(2 ** attempt)
    while context.get_remaining_time_in_millis() > 10_000:
        time.sleep(1)
    attempts = 0
    while True:
        attempts += 1
        if attempts > 3:
            raise RuntimeError("gave up")
        time.sleep(1)
""",
        """
import time, boto3
s3 = boto3.client("s3")

def handler(event, context):
    deadline = time.monotonic() + 60
    while not ready():
        if time.monotonic() > deadline:
            break
        time.sleep(2)
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket="b", PaginationConfig={"MaxItems": 100}):
        s3.delete_objects(Bucket="b", Delete={"Objects": page["Contents"]})
    for page in paginator.paginate(Bucket="b"):
        if context.get_remaining_time_in_millis() < 20_000:
            return page.get("NextContinuationToken")
        s3.delete_objects(Bucket="b", Delete={"Objects": page["Contents"]})
    keys = [o["Key"] for p in paginator.paginate(Bucket="b") for o in p.get("Contents", [])]
    return keys
""",
    )
    INVALID = (
        """
import time
import boto3 as b3
athena = b3.client("athena")
bucket = b3.resource("s3").Bucket("reports")

def wait(query_id):
    while True:  # expect: LAM301
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
        if state == "SUCCEEDED":
            return state
        time.sleep(1)

def handler(event, context):
    wait(event["id"])
    for obj in bucket.objects.filter(Prefix="daily/"):  # expect: LAM304
        obj.copy_from(CopySource={"Bucket": "reports", "Key": obj.key})
    token = None
    while True:  # expect: LAM304
        page = athena.list_query_executions(**({"NextToken": token} if token else {}))
        token = page.get("NextToken")
        if not token:
            break
""",
        """
def handler(event, context):
    while True:  # expect: LAM302
        process(event)
""",
    )

    def visit_While(self, node: cst.While) -> None:
        if self.ctx.function is None:
            return
        infinite = _is_constant_true(node.test)
        if infinite and not _exits(node, self.ctx):
            self._report(node, "LAM302", "`while True` has no break, return or raise; it always runs "
                         "into " + TIMEOUT_END + " — give it an exit and a deadline from "
                         "context.get_remaining_time_in_millis()")
            return
        sleeps = any(self.ctx.canonical(c.func) in SLEEPS for c in calls_in(node.body))
        if sleeps and not has_deadline(self.ctx, node) and not _bounded_counter(node):
            self._report(node, "LAM301", "this loop sleeps between attempts with neither a "
                         "deadline nor a bounded number of attempts; if the condition never comes true it sleeps until " + TIMEOUT_END +
                         " — loop over range(N) or stop when context.get_remaining_time_in_millis() runs low")
            return
        if self._token_loop(node) and self._network_in(node) and not has_deadline(self.ctx, node):
            self._report_pagination(node)

    def visit_For(self, node: cst.For) -> None:
        if self.ctx.function is None or not self._paginates(node.iter):
            return
        # Items of a resource collection are resources: their methods call AWS.
        items = {n.value for n in (node.target, *walk_body(node.target)) if isinstance(n, cst.Name)}
        if (self._network_in(node.body) or self._item_calls(node.body, items)) and not has_deadline(self.ctx, node):
            self._report_pagination(node)

    # -- helpers ------------------------------------------------------------------------
    def _paginates(self, iterable: cst.BaseExpression) -> bool:
        if not isinstance(iterable, cst.Call) or not isinstance(iterable.func, cst.Attribute):
            return False
        method = iterable.func.attr.value
        if method == "paginate":
            return not any(a.keyword is not None and a.keyword.value == "PaginationConfig" and _has_max_items(a.value) for a in iterable.args)
        if method in COLLECTION_METHODS:
            receiver = self.ctx.canonical(iterable.func.value) or ""
            return receiver.startswith("aws.") and "()" in receiver
        return False

    def _token_loop(self, node: cst.While) -> bool:
        test_names = [n.value.lower() for n in (node.test, *walk_body(node.test)) if isinstance(n, cst.Name)]
        if any(word in name for name in test_names for word in TOKEN_WORDS):
            return True
        if _is_constant_true(node.test):
            return any(string_value(n) in TOKEN_KEYS for n in walk_body(node.body) if isinstance(n, cst.SimpleString))
        return False

    def _item_calls(self, body: cst.CSTNode, items: set[str]) -> bool:
        local = self.ctx.catalogs.aws_local_methods
        return any(
            isinstance(c.func, cst.Attribute) and isinstance(c.func.value, cst.Name)
            and c.func.value.value in items and c.func.attr.value not in local and c.func.attr.value != "get"
            for c in calls_in(body)
        )

    def _network_in(self, node: cst.CSTNode) -> bool:
        return any(self.ctx.is_network_call(call) for call in calls_in(node))

    def _report_pagination(self, node: cst.CSTNode) -> None:
        self._report(node, "LAM304", "this loop walks every page and makes network calls "
                     "for each with no deadline; its run time grows with the data until it hits " + TIMEOUT_END + ", halfway through the work" +
                     " — check context.get_remaining_time_in_millis() and hand the rest on (return the continuation token, re-queue)")

    def _report(self, node: cst.CSTNode, code: str, message: str) -> None:
        self.ctx.report(node, code, message, Reach.HANDLER)


def _has_max_items(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Dict) and any(
        isinstance(el, cst.DictElement) and string_value(el.key) == "MaxItems" for el in value.elements
    )


class HttpWithoutTimeout(Rule):
    """LAM303: requests / urlopen / http.client calls with no timeout."""

    CODES = ("LAM303",)
    VALID = (
        """
import requests, httpx, urllib.request, http.client
session = requests.Session()

def handler(event, context):
    requests.get("https://api.example.com", timeout=5)
    session.post("https://api.example.com", json={}, timeout=(3.05, 10))
    httpx.get("https://api.example.com")
    urllib.request.urlopen("https://api.example.com", None, 10)
    http.client.HTTPSConnection("api.example.com", timeout=5)
    requests.get("https://api.example.com", **OPTS)
""",
    )
    INVALID = (
        """
import requests as rq
from urllib.request import urlopen
from http.client import HTTPSConnection
session = rq.Session()

def fetch(url):
    return rq.get(url).json()  # expect: LAM303

def handler(event, context):
    session.post("https://api.example.com/items", json=event)  # expect: LAM303
    session.get("https://api.example.com/items", timeout=None)  # expect: LAM303
    urlopen("https://api.example.com/ping")  # expect: LAM303
    conn = HTTPSConnection("api.example.com")  # expect: LAM303
    return fetch(event["url"])
""",
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = self.ctx.canonical(node.func)
        spec = self.ctx.catalogs.http_timeouts.get(name or "")
        if spec is None or has_star_kwargs(node):
            return
        given = next((a for a in node.args if a.keyword is not None and a.keyword.value == spec["timeout_keyword"]), None)
        if given is not None and not (isinstance(given.value, cst.Name) and given.value.value == "None"):
            return  # timeout=None is an explicit "wait forever": still reported
        position = spec.get("timeout_position")
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if position is not None and len(positional) > position:
            return
        if self.ctx.function is None and not self.ctx.at_module_level:
            return
        self.ctx.report(
            node, "LAM303",
            f"{spec['library']} waits forever by default; a slow or silent server holds the "
            f"invocation until {TIMEOUT_END} "
            f"— pass timeout= shorter than the remaining time",
            Reach.HANDLER if self.ctx.function is not None else Reach.MODULE,
        )


class NetworkRecursion(Rule):
    """LAM305: a function that calls itself and makes network calls, with no depth limit."""

    CODES = ("LAM305",)
    VALID = (
        """
import boto3
s3 = boto3.client("s3")

def walk(prefix, depth=0):
    if depth > 5:
        return
    for p in s3.list_objects_v2(Bucket="b", Prefix=prefix, Delimiter="/").get("CommonPrefixes", []):
        walk(p["Prefix"], depth + 1)

def flatten(tree):
    return [x for child in tree for x in flatten(child)] if isinstance(tree, list) else [tree]

def handler(event, context):
    walk("")
    return flatten(event["tree"])
""",
    )
    INVALID = (
        """
import boto3
s3 = boto3.client("s3")

class Crawler:
    def crawl(self, prefix):
        for p in s3.list_objects_v2(Bucket="b", Prefix=prefix, Delimiter="/").get("CommonPrefixes", []):
            self.crawl(p["Prefix"])  # expect: LAM305

def handler(event, context):
    Crawler().crawl("")
""",
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._frames: list[dict] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = [p.name.value.lower() for p in (*node.params.params, *node.params.kwonly_params)]
        bounded = any(word in p for p in params for word in DEPTH_WORDS)
        self._frames.append({"qual": self.ctx.function.qualname, "calls": [], "network": False, "bounded": bounded})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        frame = self._frames.pop()
        if frame["network"] and not frame["bounded"]:
            for call in frame["calls"]:
                self.ctx.candidates.append((call, "LAM305",
                    "this function calls itself and makes network calls with no depth "
                    "limit; over remote data it ends in RecursionError or runs until " + TIMEOUT_END +
                    " — iterate with a work list and a deadline check, or pass a depth limit",
                    Reach.HANDLER, frame["qual"]))

    def visit_Call(self, node: cst.Call) -> None:
        if not self._frames:
            return
        frame = self._frames[-1]
        name = self.ctx.canonical(node.func) or ""
        qual = frame["qual"]
        cls, _, method = qual.rpartition(".")
        if name == "@" + qual or (cls and name == f"@{cls}().{method}"):
            frame["calls"].append(node)
        elif self.ctx.is_network_call(node):
            frame["network"] = True
