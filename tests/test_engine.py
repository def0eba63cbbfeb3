"""The engine across files: handler discovery, reachability through local modules, classes,
callbacks and decorators; configuration of handlers and event sources; suppression."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from lambdalint.config import Config, from_table
from lambdalint.testing import check_tree


def write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")


def found(root: Path, config: Config | None = None, select=()) -> set[tuple[str, int, str]]:
    return {(Path(f.path).name if not Path(f.path).is_absolute() else Path(f.path).name, f.line, f.code)
            for f in check_tree(root, select=select, config=config)}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_finding_lands_in_the_helper_module_the_handler_imports(project):
    write(project, {
        "app.py": """
            from orders.db import save_order
            import services.payments as pay

            def lambda_handler(event, context):
                for record in event["Records"]:
                    save_order(record)
                    pay.charge(record)
        """,
        "orders/__init__.py": "",
        "orders/db.py": """
            SEEN = []

            def save_order(record):
                SEEN.append(record["messageId"])

            def unused(record):
                SEEN.append(record)
        """,
        "services/__init__.py": "",
        "services/payments.py": """
            import stripe

            def charge(record):
                stripe.Charge.create(amount=1, currency="usd")
        """,
    })
    assert found(project) == {("db.py", 4, "LAM101"), ("payments.py", 4, "LAM201")}


def test_code_no_handler_reaches_is_not_flagged(project):
    write(project, {
        "scripts/backfill.py": """
            import boto3, time
            CACHE = []

            def main():
                s3 = boto3.client("s3")
                while True:
                    CACHE.append(s3.list_buckets())
                    time.sleep(1)
        """,
    })
    assert found(project) == set()


def test_relative_imports_methods_and_callbacks(project):
    write(project, {
        "pkg/__init__.py": "",
        "pkg/app.py": """
            from concurrent.futures import ThreadPoolExecutor
            from . import util
            from .repo import Repo

            repo = Repo()

            def process(record):
                util.notify(record)

            def handler(event, context):
                repo.store(event["Records"])
                with ThreadPoolExecutor() as pool:
                    list(pool.map(process, event["Records"]))
        """,
        "pkg/util.py": """
            import requests

            def notify(record):
                requests.post("https://hooks.example.com", json=record)
        """,
        "pkg/repo.py": """
            import boto3

            class Repo:
                def store(self, records):
                    client = boto3.client("dynamodb")
                    for r in records:
                        client.put_item(TableName="t", Item=r)
        """,
    })
    assert found(project) == {
        ("util.py", 4, "LAM201"), ("util.py", 4, "LAM303"),
        ("repo.py", 5, "LAM501"), ("repo.py", 7, "LAM202"),
    }


def test_powertools_routes_are_reached_through_resolve(project):
    write(project, {
        "app.py": """
            import requests
            from aws_lambda_powertools.event_handler import APIGatewayRestResolver

            app = APIGatewayRestResolver()

            @app.get("/quote")
            def quote():
                return requests.get("https://rates.example.com").json()

            def lambda_handler(event, context):
                return app.resolve(event, context)
        """,
    })
    assert found(project) == {("app.py", 8, "LAM303")}


def test_configured_handler_and_event_sources(project):
    write(project, {
        "app.py": """
            import boto3
            ses = boto3.client("ses")

            def main(payload, ctx):
                ses.send_email(Source="a@example.com", Destination={"ToAddresses": [payload["to"]]}, Message={})

            def sqs_entry(event, context):
                for record in event["Records"]:
                    ses.send_email(Source="a@example.com", Destination={}, Message={})
        """,
    })
    # Configured handlers replace discovery; at-least-once is declared, not guessed.
    config = from_table({"handlers": ["app.py:main"], "at-least-once": ["app.py:main"]}, project)
    assert found(project, config) == {("app.py", 5, "LAM201")}
    # The same code, declared synchronous: no idempotency finding.
    config = from_table({"handlers": ["app.py:sqs_entry"], "synchronous": ["app.py:sqs_entry"]}, project)
    assert found(project, config) == set()
    # SAM-style module.function spec, and a handler that does not exist.
    config = from_table({"handlers": ["app.sqs_entry", "app.py:missing"]}, project)
    assert found(project, config) == {("app.py", 9, "LAM201"), ("app.py", 1, "LAM907")}


def test_timeout_from_config_appears_in_messages(project):
    write(project, {"app.py": """
        import requests

        def handler(event, context):
            return requests.get(event["url"]).text
    """})
    findings = check_tree(project, config=from_table({"timeout": 30}, project))
    assert [f.code for f in findings] == ["LAM303"]
    assert "(30 s)" in findings[0].message


def test_noqa_and_per_file_ignores(project):
    write(project, {
        "app.py": """
            import requests
            LOG = []

            def handler(event, context):
                LOG.append(event)  # noqa: LAM101
                LOG.append(1)  # noqa
                LOG.append(2)  # noqa: LAM303
                return requests.get("https://x.example.com")  # noqa:LAM303,LAM101
        """,
        "legacy/old.py": """
            import requests

            def handler(event, context):
                return requests.get("https://x.example.com")
        """,
    })
    assert found(project) == {("app.py", 7, "LAM101"), ("old.py", 4, "LAM303")}
    config = from_table({"per-file-ignores": {"legacy/*": ["LAM3"]}}, project)
    assert found(project, config) == {("app.py", 7, "LAM101")}


def test_one_finding_per_statement_even_when_two_handlers_reach_it(project):
    write(project, {"app.py": """
        import requests

        def shared(url):
            return requests.get(url)

        def handler_a(event, context):
            return shared(event["a"])

        def handler_b(event, context):
            return shared(event["b"])
    """})
    assert found(project) == {("app.py", 4, "LAM303")}


@pytest.mark.parametrize("source", [
    # Python 3.12 type parameters and aliases, 3.14 template strings and bare except lists.
    "type Payload = dict[str, object]\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n",
    'def render(name):\n    return t"hello {name}"\n',
    "def f():\n    try:\n        pass\n    except ValueError, TypeError:\n        pass\n",
])
def test_newer_syntax_than_the_running_interpreter_parses(project, source):
    write(project, {"app.py": source + "\nLOG = []\n\ndef handler(event, context):\n    LOG.append(event)\n"})
    codes = {code for _, _, code in found(project)}
    assert codes == {"LAM101"}, codes


def test_select_prefix_and_name(project):
    write(project, {"app.py": """
        import boto3, requests
        LOG = []

        def handler(event, context):
            s3 = boto3.client("s3")
            LOG.append(s3)
            return requests.get("https://x.example.com")
    """})
    assert {c for _, _, c in found(project, select=["LAM1"])} == {"LAM101"}
    assert {c for _, _, c in found(project, select=["client-created-per-invocation"])} == {"LAM501"}


def test_timeout_findings_carry_radon_complexity_rank(project):
    write(project, {"app.py": """
        import time

        def wait(job, kind):
            while job.state() != "DONE":
                if kind == "a":
                    time.sleep(1)
                elif kind == "b":
                    time.sleep(2)
                else:
                    time.sleep(3)

        def handler(event, context):
            wait(event["job"], event["kind"])
    """})
    [finding] = check_tree(project)
    assert finding.code == "LAM301"
    assert "[risk: `wait` has cyclomatic complexity 4, radon rank A]" in finding.message


COMPLEXITY_CASES = {
    "decorated": "import time\n\n\n@app.route('/x')\n@other\ndef handler(event, context):\n    if event:\n        for r in event:\n            while True:\n                time.sleep(1)\n    return 1\n\n\ndef after():\n    pass\n",
    "method": "class Poller:\n    '''Doc.'''\n\n    def poll(self, n):\n        while n:\n            if n > 3:\n                n -= 1\n            else:\n                n -= 2\n        return n\n",
    "column_zero_string": "def f(x):\n    text = '''\nwhile True:\n'''\n    while x:\n        x -= 1\n    return text\n",
    "module_level_loop": "import time\nwhile True:\n    time.sleep(1)\n\ndef g():\n    return 1\n",
    "nested": "def outer(a):\n    def inner(b):\n        while b:\n            b -= 1\n        return b\n    return inner(a) if a else 0\n",
    "crlf": "def f(x):\r\n    while x:\r\n        x -= 1\r\n    return x\r\n",
}


@pytest.mark.parametrize("name", sorted(COMPLEXITY_CASES))
def test_risk_from_the_statements_around_a_line_is_the_whole_files(name):
    from lambdalint.engine import complexity

    text = COMPLEXITY_CASES[name]
    lines = [number for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1) if "while" in line]
    whole = complexity.blocks(text)
    around = complexity.blocks_around(text, lines)
    for line in lines:
        assert complexity.describe(line, around) == complexity.describe(line, whole), (name, line)
    assert any(complexity.describe(line, around) for line in lines) or name == "module_level_loop"
