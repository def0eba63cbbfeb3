"""Generate the handler-dense benchmark corpus: Lambda services, each a handler file and the
helper package it imports, from varied templates. Deterministic: the same seed and count give
byte-identical files.

Every service looks like a small real project:

    svc_042_invoice_sqs/
        app.py                  the handler (60-250 lines): SQS, S3, API Gateway, EventBridge,
                                Kinesis, DynamoDB Streams or SNS, with module-level clients,
                                config, decorators (local and Powertools), sometimes a class
        invoice_lib/__init__.py
        invoice_lib/db.py       repository functions or a repository class (DynamoDB)
        invoice_lib/models.py   dataclasses with parsing and validation
        invoice_lib/remote.py   HTTP and SDK calls with retry decorators (some services only)

Handlers import their helpers with aliases (`from invoice_lib.db import save as persist`,
`from invoice_lib import models as m`), so lambdalint follows every import and gives every file
the full analysis. A share of the code carries the mistakes lambdalint looks for (clients
created per invocation, HTTP without timeout, unbounded polls, module state written by the
handler), so findings, and their positions, are part of the work measured.

    python benchmarks/gen_corpus.py OUTPUT_DIR [--services 320] [--seed 1]
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import shutil
import sys
from pathlib import Path
from string import Template

ENTITIES = ["order", "invoice", "shipment", "payment", "customer", "report", "image", "ticket",
            "device", "reading", "subscription", "coupon", "refund", "booking", "account",
            "document", "message", "session", "product", "claim", "transfer", "delivery"]
SOURCES = ["sqs", "s3", "api", "eventbridge", "kinesis", "dynamodb", "sns"]
FIELDS = ["amount", "currency", "status", "region", "owner_id", "created_at", "priority",
          "quantity", "sku", "email", "country", "channel", "version", "tenant_id", "score"]
SERVICES = ["dynamodb", "sqs", "sns", "s3", "events", "secretsmanager", "ssm", "kinesis",
            "stepfunctions", "lambda", "ses", "firehose"]


def _t(text: str, **values: str) -> str:
    return Template(text).substitute(**values)


class Service:
    """One generated service: names and choices shared by its files."""

    def __init__(self, index: int, rng: random.Random) -> None:
        self.rng = rng
        self.index = index
        self.entity = rng.choice(ENTITIES)
        self.source = SOURCES[index % len(SOURCES)] if rng.random() < 0.7 else rng.choice(SOURCES)
        self.Entity = "".join(part.title() for part in self.entity.split("_"))
        self.pkg = f"{self.entity}_lib"
        self.dir = f"svc_{index:03d}_{self.entity}_{self.source}"
        self.fields = rng.sample(FIELDS, rng.randint(4, 8))
        self.table_env = f"{self.entity.upper()}_TABLE"
        self.boto = rng.choice(["boto3", "boto3", "boto3 as b3", "boto3 as aws"])
        self.boto_name = self.boto.split(" as ")[-1]
        self.powertools = rng.random() < 0.35
        self.with_class = rng.random() < 0.5
        self.with_remote = rng.random() < 0.6
        self.faulty = rng.random() < 0.45  # carries some of the mistakes lambdalint reports


# -- helper modules ----------------------------------------------------------------------------
def models_module(s: Service) -> str:
    rng = s.rng
    lines = [f'"""Data model for {s.entity} records: parsing, validation and serialisation."""', "",
             "from __future__ import annotations", "", "import json", "from dataclasses import dataclass, field, asdict",
             "from datetime import datetime, timezone", "from decimal import Decimal", "from typing import Any", "", "",
             f"class {s.Entity}Error(ValueError):", f'    """A {s.entity} that cannot be processed."""', "", ""]
    lines.append("@dataclass")
    lines.append(f"class {s.Entity}:")
    lines.append(f"    {s.entity}_id: str")
    types = {}
    for name in s.fields:
        kind = rng.choice(["str", "int", "Decimal", "str | None"])
        types[name] = kind
        default = {"str": '""', "int": "0", "Decimal": 'Decimal("0")', "str | None": "None"}[kind]
        lines.append(f"    {name}: {kind} = {default}")
    lines.append("    tags: list[str] = field(default_factory=list)")
    lines += ["", "    @classmethod", "    def from_dict(cls, data: dict[str, Any]) -> " + f'"{s.Entity}":']
    lines.append(f'        if "{s.entity}_id" not in data:')
    lines.append(f'            raise {s.Entity}Error("missing {s.entity}_id")')
    lines.append("        values = {")
    for name in s.fields:
        conv = {"str": f'str(data.get("{name}", ""))', "int": f'int(data.get("{name}", 0))',
                "Decimal": f'Decimal(str(data.get("{name}", "0")))', "str | None": f'data.get("{name}")'}[types[name]]
        lines.append(f'            "{name}": {conv},')
    lines.append("        }")
    lines.append(f'        return cls({s.entity}_id=str(data["{s.entity}_id"]), tags=list(data.get("tags", [])), **values)')
    lines += ["", "    @classmethod", f'    def from_json(cls, body: str) -> "{s.Entity}":', "        try:",
              "            data = json.loads(body)", "        except json.JSONDecodeError as exc:",
              f'            raise {s.Entity}Error(f"not JSON: {{exc}}") from exc', "        return cls.from_dict(data)"]
    lines += ["", "    def to_dict(self) -> dict[str, Any]:", "        out = asdict(self)",
              "        for key, value in list(out.items()):", "            if isinstance(value, Decimal):",
              "                out[key] = str(value)", "        return out"]
    lines += ["", "    def validate(self) -> list[str]:", "        problems = []"]
    for name in rng.sample(s.fields, min(3, len(s.fields))):
        if types[name] in ("int", "Decimal"):
            lines += [f"        if self.{name} < 0:", f'            problems.append("{name} must not be negative")']
        else:
            lines += [f"        if not self.{name}:", f'            problems.append("{name} is required")']
    lines += ["        return problems", ""]
    for extra in range(rng.randint(1, 4)):
        name = rng.choice(s.fields)
        lines += [f"    def with_{name}_{extra}(self, value: Any) -> \"{s.Entity}\":",
                  "        data = self.to_dict()", f'        data["{name}"] = value', "        return type(self).from_dict(data)", ""]
    lines += ["", f"def parse_many(items: list[dict[str, Any]]) -> tuple[list[{s.Entity}], list[str]]:",
              "    good, bad = [], []", "    for item in items:", "        try:",
              f"            good.append({s.Entity}.from_dict(item))", f"        except ({s.Entity}Error, TypeError, ValueError) as exc:",
              f'            bad.append(f"{{item.get(\'{s.entity}_id\', \'?\')}}: {{exc}}")', "    return good, bad", "", "",
              "def now_iso() -> str:", "    return datetime.now(timezone.utc).isoformat(timespec=\"seconds\")", ""]
    return "\n".join(lines)


def db_module(s: Service) -> str:
    rng = s.rng
    head = _t('''"""Persistence for $entity records (DynamoDB table from $$${table_env})."""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Iterator

import $boto
from boto3.dynamodb.conditions import Key

from .models import $Entity, now_iso

log = logging.getLogger(__name__)
TABLE_NAME = os.environ.get("$table_env", "$entity-table")
_table = $boto_name.resource("dynamodb").Table(TABLE_NAME)
''', entity=s.entity, table_env=s.table_env, boto=s.boto, boto_name=s.boto_name, Entity=s.Entity)
    functions = []
    guarded = rng.random() < 0.5
    cond = ',\n        ConditionExpression="attribute_not_exists(pk)",' if guarded else ""
    functions.append(_t('''
def save($e: $Entity) -> None:
    item = $e.to_dict()
    item["pk"] = f"$e#{$e.${e}_id}"
    item["updated_at"] = now_iso()
    _table.put_item(
        Item=item$cond
    )
''', e=s.entity, Entity=s.Entity, cond=cond))
    functions.append(_t('''
def load(${e}_id: str) -> dict[str, Any] | None:
    response = _table.get_item(Key={"pk": f"$e#{${e}_id}"}, ConsistentRead=True)
    item = response.get("Item")
    if item is None:
        log.info("$e %s not found", ${e}_id)
    return item
''', e=s.entity))
    functions.append(_t('''
def query_by_owner(owner: str, limit: int = 100) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"IndexName": "by-owner", "KeyConditionExpression": Key("owner").eq(owner), "Limit": limit}
    while True:
        page = _table.query(**kwargs)
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            break
        kwargs["ExclusiveStartKey"] = last
''', e=s.entity))
    functions.append(_t('''
def save_batch(items: list[$Entity]) -> int:
    written = 0
    with _table.batch_writer(overwrite_by_pkeys=["pk"]) as batch:
        for chunk_start in range(0, len(items), 25):
            for $e in items[chunk_start:chunk_start + 25]:
                batch.put_item(Item={"pk": f"$e#{$e.${e}_id}", **$e.to_dict()})
                written += 1
    return written
''', e=s.entity, Entity=s.Entity))
    if rng.random() < 0.5:
        functions.append(_t('''
def wait_until_active(timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    client = _table.meta.client
    while time.monotonic() < deadline:
        status = client.describe_table(TableName=TABLE_NAME)["Table"]["TableStatus"]
        if status == "ACTIVE":
            return True
        time.sleep(1)
    return False
'''))
    if rng.random() < 0.5:
        functions.append(_t('''
def mark_status(${e}_id: str, status: str, expected: str | None = None) -> bool:
    kwargs: dict[str, Any] = {
        "Key": {"pk": f"$e#{${e}_id}"},
        "UpdateExpression": "SET #s = :s, updated_at = :t",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": status, ":t": now_iso()},
    }
    if expected is not None:
        kwargs["ConditionExpression"] = "#s = :e"
        kwargs["ExpressionAttributeValues"][":e"] = expected
    try:
        _table.update_item(**kwargs)
    except _table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True
''', e=s.entity))
    body = "".join("\n" + f for f in functions)
    if s.with_class:
        body += _t('''

class ${Entity}Repository:
    """The same operations on an injectable table (tests pass a stub)."""

    def __init__(self, table: Any = None) -> None:
        self.table = table or _table
        self.writes = 0

    def get(self, ${e}_id: str) -> dict[str, Any] | None:
        return self.table.get_item(Key={"pk": f"$e#{${e}_id}"}).get("Item")

    def put(self, $e: $Entity) -> None:
        self.table.put_item(Item={"pk": f"$e#{$e.${e}_id}", **$e.to_dict()})
        self.writes += 1

    def delete(self, ${e}_id: str) -> None:
        self.table.delete_item(Key={"pk": f"$e#{${e}_id}"})
''', e=s.entity, Entity=s.Entity)
    return head + body


def remote_module(s: Service) -> str:
    rng = s.rng
    timeout = "" if (s.faulty and rng.random() < 0.5) else ", timeout=5"
    http = rng.choice(["requests", "requests as http"])
    http_name = http.split(" as ")[-1]
    return _t('''"""Calls to other services: the partner API and internal notifications."""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import time
from typing import Any, Callable, TypeVar

import $boto
import $http

log = logging.getLogger(__name__)
T = TypeVar("T")
PARTNER_URL = os.environ.get("PARTNER_URL", "https://partner.example.com/api/v2")
TOPIC_ARN = os.environ.get("TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:$entity-events")
_sns = $boto_name.client("sns")
_session = $http_name.Session()


def retry(times: int = 3, base_delay: float = 0.2) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Retry on connection problems with jittered exponential backoff."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            for attempt in range(times):
                try:
                    return func(*args, **kwargs)
                except $http_name.ConnectionError:
                    if attempt == times - 1:
                        raise
                    time.sleep(base_delay * (2 ** attempt) + random.random() / 10)
            raise RuntimeError("unreachable")

        return wrapper

    return decorate


@retry(times=$times)
def fetch_profile(owner_id: str) -> dict[str, Any]:
    response = _session.get(f"{PARTNER_URL}/owners/{owner_id}"$timeout)
    response.raise_for_status()
    return response.json()


@retry()
def submit(payload: dict[str, Any]) -> str:
    response = $http_name.post(f"{PARTNER_URL}/$entity", json=payload, timeout=(2, 10))
    if response.status_code >= 500:
        raise $http_name.ConnectionError(f"partner returned {response.status_code}")
    return response.json()["id"]


def notify(event_type: str, detail: dict[str, Any]) -> None:
    _sns.publish(
        TopicArn=TOPIC_ARN,
        Message=json.dumps({"type": event_type, "detail": detail}, default=str),
        MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}},
    )
    log.debug("published %s", event_type)
''', boto=s.boto, boto_name=s.boto_name, http=http, http_name=http_name, entity=s.entity,
              times=str(rng.randint(2, 5)), timeout=timeout)


# -- the handler --------------------------------------------------------------------------------
SOURCE_LOOP = {
    "sqs": ('for record in event["Records"]:', 'payload = json.loads(record["body"])', 'record["messageId"]'),
    "s3": ('for record in event["Records"]:', 'payload = _read_object(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))', 'record["s3"]["object"]["key"]'),
    "kinesis": ('for record in event["Records"]:', 'payload = json.loads(base64.b64decode(record["kinesis"]["data"]))', 'record["kinesis"]["sequenceNumber"]'),
    "dynamodb": ('for record in event["Records"]:', 'payload = _from_image(record["dynamodb"].get("NewImage", {}))', 'record["eventID"]'),
    "sns": ('for record in event["Records"]:', 'payload = json.loads(record["Sns"]["Message"])', 'record["Sns"]["MessageId"]'),
}


HOOKS = {
    "_normalise": "$P = _normalise($P)",
    "_summarise": "_summarise([$P])",
    "_chunks": "_chunks([$P])",
    "_partition": "_partition([$P])",
    "_should_skip": "_should_skip($P)",
    "_publish_metrics": '_publish_metrics("processed", 1)',
    "_render": "logger.debug(_render($P))",
    "_parse_timestamp": '_parse_timestamp($P.get("created_at"))',
    "_load_secret": '_load_secret(f"{STAGE}/partner")',
    "_dedupe": "_dedupe([$P])",
    "_diff": "_diff({}, $P)",
    "_list_archive": '_list_archive("incoming/")',
    "_score": "_score($P)",
    "_wait_for_export": '_wait_for_export(str($P.get("export_id", "")))',
    "_archive": "_archive($P)",
    "_remember": '_remember(str($P.get("id", "")))',
}


def _hooks(s: Service, body: list[str], payload: str, indent: str) -> str:
    """Calls from the handler to some of the helpers defined above it (the others stay unused)."""
    names = [re.match(r"\s*def (\w+)", chunk).group(1) for chunk in body if re.match(r"\s*def (\w+)", chunk)]
    calls = [HOOKS[name].replace("$P", payload) for name in names if name in HOOKS and s.rng.random() < 0.7]
    return "".join(f"\n{indent}{call}" for call in calls)


def _fragment_functions(s: Service, client_var: str) -> list[str]:
    """Helper functions in the handler module, drawn from a pool."""
    e, E, rng = s.entity, s.Entity, s.rng
    f1, f2 = rng.sample(s.fields, 2)
    pool = [
        _t('''
def _normalise(payload: dict[str, Any]) -> dict[str, Any]:
    out = {key.strip().lower(): value for key, value in payload.items() if value not in (None, "")}
    if "$f1" in out and isinstance(out["$f1"], str):
        out["$f1"] = out["$f1"].strip()
    out.setdefault("tags", [])
    return out
''', f1=f1),
        _t('''
def _summarise(items: list[dict[str, Any]]) -> dict[str, Any]:
    values = sorted(float(item.get("$f2", 0) or 0) for item in items)
    if not values:
        return {"count": 0}
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return {"count": len(values), "min": values[0], "max": values[-1], "median": median, "total": sum(values)}
''', f2=f2),
        _t('''
def _chunks(items: list[Any], size: int = 25) -> list[list[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]
'''),
        _t('''
def _partition(items: list[dict[str, Any]], key: str = "$f1") -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[str(item.get(key, "unknown"))].append(item)
    return dict(groups)
''', f1=f1),
        _t('''
def _should_skip(payload: dict[str, Any]) -> bool:
    if payload.get("test") or payload.get("dry_run"):
        return True
    status = str(payload.get("status", "")).upper()
    return status in {"CANCELLED", "ARCHIVED", "DELETED"}
'''),
        _t('''
def _publish_metrics(name: str, value: float, unit: str = "Count") -> None:
    _cloudwatch.put_metric_data(
        Namespace="$E",
        MetricData=[{"MetricName": name, "Value": value, "Unit": unit, "Dimensions": [{"Name": "Stage", "Value": STAGE}]}],
    )
''', E=E),
        _t('''
def _render(payload: dict[str, Any]) -> str:
    lines = [f"$E {payload.get('${e}_id', '?')}"]
    for key in sorted(payload):
        if key.startswith("_"):
            continue
        value = payload[key]
        if isinstance(value, float):
            value = f"{value:.2f}"
        lines.append(f"  {key:<20} {value}")
    return "\\n".join(lines)
''', E=E, e=e),
        _t('''
def _parse_timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / (1000 if value > 1e11 else 1), tz=timezone.utc)
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value), fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None
'''),
        _t('''
def _load_secret(name: str) -> dict[str, Any]:
    cached = _SECRETS.get(name)
    if cached is not None and cached[0] > time.time():
        return cached[1]
    value = json.loads(_secrets.get_secret_value(SecretId=name)["SecretString"])
    if len(_SECRETS) > 32:
        _SECRETS.clear()
    _SECRETS[name] = (time.time() + 300, value)
    return value
'''),
        _t('''
def _dedupe(items: list[dict[str, Any]], key: str = "${e}_id") -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for item in items:
        marker = str(item.get(key))
        if marker in seen:
            continue
        seen.add(marker)
        unique.append(item)
    return unique
''', e=e),
        _t('''
def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changed = {}
    for key in set(old) | set(new):
        before, after = old.get(key), new.get(key)
        if before != after:
            changed[key] = (before, after)
    return dict(sorted(changed.items()))
'''),
        _t('''
def _list_archive(prefix: str) -> list[str]:
    keys: list[str] = []
    token = None
    while len(keys) < MAX_ITEMS:
        kwargs = {"Bucket": ARCHIVE_BUCKET, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = $boto_name.client("s3").list_objects_v2(**kwargs) if False else {"Contents": [], "IsTruncated": False}
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
        if not page.get("IsTruncated"):
            break
        token = page.get("NextContinuationToken")
    return keys
''', boto_name=s.boto_name),
        _t('''
def _score(payload: dict[str, Any]) -> float:
    weights = {"$f1": 0.5, "$f2": 0.3, "tags": 0.2}
    total = 0.0
    for key, weight in weights.items():
        value = payload.get(key)
        if isinstance(value, (int, float)):
            total += weight * float(value)
        elif isinstance(value, (list, tuple, set)):
            total += weight * len(value)
        elif value:
            total += weight
    return round(total, 3)
''', f1=f1, f2=f2),
    ]
    if s.faulty:
        pool += [
            _t('''
def _wait_for_export(export_id: str) -> str:
    while True:
        status = $client.describe_export(ExportArn=export_id)["ExportDescription"]["ExportStatus"]
        if status != "IN_PROGRESS":
            return status
        time.sleep(2)
''', client=client_var),
            _t('''
def _archive(payload: dict[str, Any]) -> None:
    s3 = $boto_name.client("s3")
    s3.put_object(Bucket=ARCHIVE_BUCKET, Key=f"$e/{payload.get('${e}_id')}.json", Body=json.dumps(payload, default=str))
''', boto_name=s.boto_name, e=e),
            _t('''
def _remember(key: str) -> None:
    _seen_ids.append(key)
'''),
        ]
    rng.shuffle(pool)
    return pool


def handler_module(s: Service, target_lines: int) -> str:
    rng, e, E = s.rng, s.entity, s.Entity
    imports = ["from __future__ import annotations", "", "import json", "import logging", "import os", "import time",
               "from collections import defaultdict", "from datetime import datetime, timezone", "from typing import Any"]
    if s.source == "kinesis":
        imports.insert(2, "import base64")
    if s.source == "s3":
        imports.append("from urllib.parse import unquote_plus")
    imports += ["", f"import {s.boto}"]
    if s.powertools:
        imports += ["from aws_lambda_powertools import Logger, Tracer", "from aws_lambda_powertools.utilities.typing import LambdaContext"]
    db_alias = rng.choice(["", " as persist", " as store_one"])
    save_name = db_alias.split(" as ")[-1] if db_alias else "save"
    imports += ["", f"from {s.pkg}.db import load, save{db_alias}",
                rng.choice([f"from {s.pkg} import models as m", f"from {s.pkg} import models"]),
                ]
    models_name = imports[-1].split()[-1]
    if s.with_remote:
        imports.append(rng.choice([f"from {s.pkg}.remote import notify, submit", f"from {s.pkg} import remote"]))
    remote_style = "module" if imports[-1].endswith("import remote") else "names" if s.with_remote else ""
    if s.with_class:
        imports.append(f"from {s.pkg}.db import {E}Repository")

    header = [f'"""{E} {s.source} worker ({s.dir}).', "",
              f"Reads {e} events from {s.source.upper()} and keeps the {e} table current; generated for the benchmark.", '"""', ""]
    config = ["", ""]
    if s.powertools:
        config += [f'logger = Logger(service="{e}-service")', f'tracer = Tracer(service="{e}-service")']
    else:
        config += ["logger = logging.getLogger()", 'logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))']
    client_service = rng.choice(SERVICES)
    client_var = f"_{client_service}"
    config += [f'STAGE = os.environ.get("STAGE", "dev")', f'ARCHIVE_BUCKET = os.environ.get("ARCHIVE_BUCKET", "{e}-archive")',
               f'MAX_ITEMS = int(os.environ.get("MAX_ITEMS", "{rng.choice([50, 100, 500, 1000])}"))',
               f'_cloudwatch = {s.boto_name}.client("cloudwatch")', f'_secrets = {s.boto_name}.client("secretsmanager")',
               f'{client_var} = {s.boto_name}.client("{client_service}")', "_SECRETS: dict[str, tuple[float, Any]] = {}",
               "_seen_ids: list[str] = []"]
    if s.source == "s3":
        config.append(f'_s3 = {s.boto_name}.client("s3")')
    body: list[str] = []
    if s.source == "s3":
        body.append('''
def _read_object(bucket: str, key: str) -> dict[str, Any]:
    obj = _s3.get_object(Bucket=bucket, Key=key)
    text = obj["Body"].read().decode("utf-8")
    if key.endswith(".json"):
        return json.loads(text)
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    header, *values = rows or [[]]
    return {"rows": [dict(zip(header, row)) for row in values], "key": key}
''')
    if s.source == "dynamodb":
        body.append('''
def _from_image(image: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, typed in image.items():
        (kind, value), = typed.items()
        out[name] = int(value) if kind == "N" and value.isdigit() else float(value) if kind == "N" else value
    return out
''')
    if s.with_class:
        body.append(_t('''
class ${E}Processor:
    """Applies one $e change: validation, persistence, notification."""

    def __init__(self, repository: ${E}Repository | None = None, dry_run: bool = False) -> None:
        self.repository = repository or ${E}Repository()
        self.dry_run = dry_run
        self.processed = 0
        self.errors: list[str] = []

    def process(self, payload: dict[str, Any]) -> bool:
        try:
            item = $models.$E.from_dict(payload)
        except ($models.${E}Error, ValueError) as exc:
            self.errors.append(str(exc))
            return False
        problems = item.validate()
        if problems:
            self.errors.extend(problems)
            return False
        if not self.dry_run:
            self.repository.put(item)
        self.processed += 1
        return True

    def report(self) -> dict[str, Any]:
        return {"processed": self.processed, "errors": self.errors[:10], "error_count": len(self.errors)}
''', E=E, e=e, models=models_name))
    fragments = _fragment_functions(s, client_var)
    state = rng.getstate()
    handler = _handler_function(s, save_name, models_name, remote_style, body)

    def size() -> int:
        return sum(len(x.splitlines()) for x in header + imports + config + body + [handler]) + 8

    while fragments and size() + len(fragments[-1].splitlines()) + 2 <= target_lines:
        body.append(fragments.pop())
    rng.setstate(state)
    handler = _handler_function(s, save_name, models_name, remote_style, body)
    text = "\n".join(header + imports + config) + "\n\n" + "\n".join(body) + "\n" + handler
    return text


def _handler_function(s: Service, save_name: str, models_name: str, remote_style: str, body: list[str]) -> str:
    rng, e, E = s.rng, s.entity, s.Entity
    name = rng.choice(["lambda_handler", "handler", "main"] if s.source != "api" else ["lambda_handler", "handler"])
    ctx_type = "LambdaContext" if s.powertools else "Any"
    decorators = ""
    if s.powertools:
        decorators = "@logger.inject_lambda_context(log_event=False)\n@tracer.capture_lambda_handler\n"
    submit = ("remote.submit" if remote_style == "module" else "submit") if remote_style else ""
    notify = ("remote.notify" if remote_style == "module" else "notify") if remote_style else ""
    extra_calls = ""
    if submit:
        extra_calls += f"\n            {submit}(item.to_dict())"
    if notify:
        extra_calls += f'\n            {notify}("{e}.updated", {{"id": item.{e}_id}})'
    faulty = ""
    if s.faulty:
        faulty = rng.choice([
            "\n    global _last_run\n    _last_run = time.time()",
            '\n    _seen_ids.append(getattr(context, "aws_request_id", ""))',
            f'\n    table = {s.boto_name}.resource("dynamodb").Table(os.environ.get("{s.table_env}", "t"))\n    table.load()',
            "",
        ])
    processor = ""
    if s.with_class:
        processor = f"\n    processor = {E}Processor(dry_run=STAGE == \"test\")"
    if s.source == "api":
        return _t('''

${decorators}def $name(event: dict[str, Any], context: $ctx_type) -> dict[str, Any]:$faulty
    method = event.get("httpMethod") or event.get("requestContext", {}).get("http", {}).get("method", "GET")
    params = event.get("pathParameters") or {}
    ${e}_id = params.get("${e}_id")
    if method == "GET":
        if not ${e}_id:
            return {"statusCode": 400, "body": json.dumps({"message": "${e}_id is required"})}
        item = load(${e}_id)
        if item is None:
            return {"statusCode": 404, "body": json.dumps({"message": "not found"})}
        return {"statusCode": 200, "body": json.dumps(item, default=str)}
    try:
        body = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        return {"statusCode": 400, "body": json.dumps({"message": "body must be JSON"})}
    try:
        item = $models.$E.from_dict(body)
    except ($models.${E}Error, ValueError) as exc:
        return {"statusCode": 422, "body": json.dumps({"message": str(exc)})}
    problems = item.validate()
    if problems:
        return {"statusCode": 422, "body": json.dumps({"problems": problems})}$hooks
    $save(item)$extra
    logger.info("stored $e %s", item.${e}_id)
    return {"statusCode": 201, "body": json.dumps({"${e}_id": item.${e}_id})}
''', decorators=decorators, name=name, ctx_type=ctx_type, faulty=faulty, e=e, E=E, models=models_name,
                  save=save_name, extra=extra_calls.replace("\n            ", "\n    "), hooks=_hooks(s, body, "body", "    "))
    if s.source == "eventbridge":
        return _t('''

${decorators}def $name(event: dict[str, Any], context: $ctx_type) -> dict[str, Any]:$faulty$processor
    detail = event.get("detail", {})
    detail_type = event.get("detail-type", "")
    logger.info("received %s from %s", detail_type, event.get("source"))
    if detail_type not in ("${E}Created", "${E}Updated"):
        return {"ignored": detail_type}
    try:
        item = $models.$E.from_dict(detail)
    except ($models.${E}Error, ValueError) as exc:
        logger.warning("bad $e event: %s", exc)
        return {"error": str(exc)}$hooks
    if not item.validate():
        $save(item)$extra
    return {"${e}_id": item.${e}_id, "remaining_ms": context.get_remaining_time_in_millis()}
''', decorators=decorators, name=name, ctx_type=ctx_type, faulty=faulty, processor=processor, e=e, E=E,
                  models=models_name, save=save_name, extra=extra_calls.replace("\n            ", "\n        "), hooks=_hooks(s, body, "detail", "    "))
    loop, read, ident = SOURCE_LOOP[s.source]
    use_processor = "processor.process(payload)" if s.with_class else "True"
    return _t('''

${decorators}def $name(event: dict[str, Any], context: $ctx_type) -> dict[str, Any]:$faulty$processor
    failures: list[dict[str, str]] = []
    done = 0
    $loop
        ident = $ident
        try:
            $read$hooks
            if not $use_processor:
                failures.append({"itemIdentifier": ident})
                continue
            item = $models.$E.from_dict(payload)
            $save(item)$extra
            done += 1
        except Exception:
            logger.exception("failed on %s", ident)
            failures.append({"itemIdentifier": ident})
        if context.get_remaining_time_in_millis() < 2000:
            logger.warning("stopping early, %d done", done)
            break
    logger.info("%d records done, %d failed", done, len(failures))
    return {"batchItemFailures": failures}
''', decorators=decorators, name=name, ctx_type=ctx_type, faulty=faulty, processor=processor, loop=loop,
              ident=ident, read=read, use_processor=use_processor, models=models_name, E=E, save=save_name,
              extra=extra_calls, hooks=_hooks(s, body, "payload", "            "))


def generate(out: Path, services: int = 320, seed: int = 1) -> dict[str, int]:
    """Write the corpus into `out` (emptied first). Returns file and line counts."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    counts = {"services": 0, "handler_files": 0, "helper_files": 0, "lines": 0}
    for index in range(services):
        s = Service(index, rng)
        root = out / s.dir
        files = {
            "app.py": handler_module(s, rng.randint(60, 250)),
            f"{s.pkg}/__init__.py": f'"""{s.Entity} helpers."""\n\nfrom .models import {s.Entity}, {s.Entity}Error\n\n__all__ = ["{s.Entity}", "{s.Entity}Error"]\n',
            f"{s.pkg}/models.py": models_module(s),
            f"{s.pkg}/db.py": db_module(s),
        }
        if s.with_remote:
            files[f"{s.pkg}/remote.py"] = remote_module(s)
        for rel, text in files.items():
            ast.parse(text, filename=rel)  # the generator must only write valid Python
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            counts["lines"] += text.count("\n")
            counts["handler_files" if rel == "app.py" else "helper_files"] += 1
        counts["services"] += 1
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--services", type=int, default=320, help="handler files to write (one per service)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    counts = generate(args.output, args.services, args.seed)
    print(f"{args.output}: {counts['handler_files']} handler files, {counts['helper_files']} helper modules, "
          f"{counts['lines']} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
