"""Family 5: cold start and init cost (LAM501-LAM504)."""

from __future__ import annotations

import libcst as cst

from ..engine.fastcst import children
from ..engine.summary import Reach
from .base import Rule, short

INIT = "INIT is limited to 10 s for on-demand functions and billed like invocation time since August 2025"


class _PerInvocation(Rule):
    """Shared by LAM501 and LAM504: work in handler code that a warm invocation should reuse,
    unless it sits in a lazy-initialisation guard or a cached factory."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._tests: list[cst.BaseExpression] = []
        self._cached: list[bool] = []

    def visit_If(self, node: cst.If) -> None:
        self._tests.append(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self._tests.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        decorators = self.ctx.function.decorators if self.ctx.function else ()
        self._cached.append(any(d in self.ctx.catalogs.caching_decorators for d in decorators))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._cached.pop()

    def per_invocation(self) -> bool:
        if self.ctx.function is None or any(self._cached):
            return False
        return not any(self._lazy_guard(test) for test in self._tests)

    def _lazy_guard(self, test: cst.BaseExpression) -> bool:
        """A test on state that outlives the invocation: a global, a module-level name, self.x."""
        scope = self.ctx.scope
        stack = [test]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name):
                where, _ = self.ctx.resolver.lookup(node.value, scope)
                if where == "module" or (scope is not None and node.value in scope.globals):
                    return True
            if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
                return True
            stack.extend(children(node))
        return False


class ClientPerInvocation(_PerInvocation):
    """LAM501: SDK clients and connections created inside handler code."""

    CODES = ("LAM501",)
    VALID = (
        """
import boto3, functools, psycopg2
from boto3 import client as mk
s3 = mk("s3")
_db = None
_clients = {}

def db():
    global _db
    if _db is None:
        _db = psycopg2.connect(dsn="...")
    return _db

@functools.lru_cache(maxsize=None)
def regional(region):
    return boto3.client("s3", region_name=region)

def client_for(region):
    if region not in _clients:
        _clients[region] = boto3.client("sqs", region_name=region)
    return _clients[region]

def handler(event, context):
    return s3.list_buckets(), db(), regional("eu-west-1"), client_for("us-east-1")
""",
    )
    INVALID = (
        """
import boto3 as b3
import psycopg2
from boto3 import client as mk
import redis

class Repo:
    def __init__(self):
        self.table = b3.resource("dynamodb").Table("orders")  # expect: LAM501

def handler(event, context):
    s3 = mk("s3")  # expect: LAM501
    conn = psycopg2.connect(host="db", dbname="orders")  # expect: LAM501
    cache = redis.Redis(host="cache")  # expect: LAM501
    Repo()
    return s3, conn, cache
""",
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = self.ctx.canonical(node.func) or ""
        cats = self.ctx.catalogs
        kind = None
        if name in cats.aws_clients or name in cats.aws_resources:
            kind = "SDK client" if name in cats.aws_clients else "SDK resource"
        elif name in cats.connections:
            kind = "connection"
        if kind is None or not self.per_invocation():
            return
        self.ctx.report(
            node, "LAM501",
            f"this {kind} ({short(node.func)}) is built on every invocation, paying "
            f"its set-up (service model, credentials, TCP/TLS handshake) in billed duration each time — create it "
            f"once at module level and reuse it across warm invocations",
            Reach.HANDLER,
        )


class ModelPerInvocation(_PerInvocation):
    """LAM504: models and pickled artifacts loaded on every invocation."""

    CODES = ("LAM504",)
    VALID = (
        """
import joblib
model = joblib.load("/opt/model.joblib")
_tok = None

def tokenizer():
    global _tok
    if _tok is None:
        from transformers import AutoTokenizer
        _tok = AutoTokenizer.from_pretrained("/opt/tok")
    return _tok

def handler(event, context):
    return model.predict([event["x"]]), tokenizer()
""",
    )
    INVALID = (
        """
import joblib, pickle
from transformers import AutoModel

def handler(event, context):
    model = joblib.load("/opt/model.joblib")  # expect: LAM504
    with open("/opt/vocab.pkl", "rb") as fh:
        vocab = pickle.load(fh)  # expect: LAM504
    encoder = AutoModel.from_pretrained("/opt/encoder")  # expect: LAM504
    return model, vocab, encoder
""",
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = self.ctx.canonical(node.func) or ""
        cats = self.ctx.catalogs
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        if name not in cats.model_loaders and method not in cats.model_loader_methods:
            return
        if method in cats.model_loader_methods and name.startswith("aws."):
            return
        if not self.per_invocation():
            return
        self.ctx.report(
            node, "LAM504",
            f"{short(node.func)}(...) reads and deserialises the artifact on every "
            f"invocation; warm invocations pay in duration and GB-seconds what only the cold start should — load it "
            f"once at module level or in a cached loader",
            Reach.HANDLER,
        )


class ImportTimeWork(Rule):
    """LAM502 (network calls at import) and LAM503 (sleeping, subprocesses, downloads at import)."""

    CODES = ("LAM502", "LAM503")
    VALID = (
        """
import boto3, os, requests, subprocess
s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
session = requests.Session()
paginator = s3.get_paginator("list_objects_v2")

def handler(event, context):
    return s3.get_object(Bucket="b", Key=event["key"])

if __name__ == "__main__":
    print(requests.get("http://localhost:3000", timeout=1).status_code)
    subprocess.run(["make"])
""",
    )
    INVALID = (
        """
import time, subprocess
import boto3
import requests as rq
import nltk

ssm = boto3.client("ssm")
API_KEY = ssm.get_parameter(Name="/prod/key", WithDecryption=True)["Parameter"]["Value"]  # expect: LAM502
RATES = rq.get("https://rates.example.com/latest", timeout=2).json()  # expect: LAM502
nltk.download("punkt")  # expect: LAM503
time.sleep(1)  # expect: LAM503

class Config:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId="db")  # expect: LAM502

def handler(event, context):
    return API_KEY
""",
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._statement: cst.CSTNode | None = None

    # The finding points at the import-time statement a developer must change (the whole
    # `X = json.loads(client.get(...))`), not at a call nested inside it.
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._statement = node.body[0] if node.body else None

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._statement = None

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.at_module_level:
            return
        name = self.ctx.canonical(node.func) or ""
        where = self._statement or node
        if name in self.ctx.catalogs.blocking_at_import:
            self.ctx.report(
                where, "LAM503",
                f"{short(node.func)}(...) runs at import time, lengthening every cold start; "
                f"{INIT} — ship the data in the package or a layer and do the work lazily",
                Reach.MODULE,
            )
        elif self.ctx.is_network_call(node):
            self.ctx.report(
                where, "LAM502",
                f"{short(node.func)}(...) goes over the network at import time; its latency "
                f"is added to every cold start and a failure or hang fails the environment's INIT ({INIT}) — keep "
                f"the client at module level but fetch lazily on first use and cache the result",
                Reach.MODULE,
            )
