"""Family 2: side effects that run twice when an at-least-once source redelivers (LAM201-LAM204).

The catalog (rules/catalogs/side_effects.toml) says which calls are side effects; this module
matches calls against it and checks the call's own idempotency evidence (keys, conditions).
Whether the handler is at-least-once and whether something upstream guards the call is decided
in the project phase (Reach.AT_LEAST_ONCE).
"""

from __future__ import annotations

import re

import libcst as cst

from ..engine.bindings import string_value
from ..engine.summary import Reach
from .base import Rule, has_star_kwargs, keywords, method_name

_COUNTER_EXPR = re.compile(r"(^|\s)ADD\s|=\s*(if_not_exists\s*\([^)]*\)|[#:\w.]+)\s*[+-]\s*[:#\w]", re.IGNORECASE)
REPLAY = "runs again when the event is delivered twice (at-least-once source: retries and redeliveries)"


class SideEffects(Rule):
    """LAM201-LAM204: non-idempotent effects in handlers fed by at-least-once sources."""

    CODES = ("LAM201", "LAM202", "LAM203", "LAM204")
    VALID = (
        # Keys, conditions and the Powertools decorator make effects safe to repeat.
        """
import boto3, stripe, requests
from aws_lambda_powertools.utilities.idempotency import idempotent, DynamoDBPersistenceLayer
ses = boto3.client("ses")
table = boto3.resource("dynamodb").Table("orders")
persistence = DynamoDBPersistenceLayer(table_name="idem")

def charge(record):
    stripe.PaymentIntent.create(amount=100, currency="eur", idempotency_key=record["messageId"])
    table.put_item(Item={"pk": record["messageId"]}, ConditionExpression="attribute_not_exists(pk)")
    requests.post("https://partner.example/orders", json={}, headers={"Idempotency-Key": record["messageId"]}, timeout=5)

@idempotent(persistence_store=persistence)
def notify(event, context):
    for record in event["Records"]:
        ses.send_email(Source="a@example.com", Destination={}, Message={})

def handler(event, context):
    for record in event["Records"]:
        charge(record)
""",
        # A synchronous API Gateway handler: the caller retries, not Lambda.
        """
import boto3, requests
ses = boto3.client("ses")

def handler(event, context):
    body = event["body"]
    ses.send_email(Source="a@example.com", Destination={"ToAddresses": [body]}, Message={})
    return {"statusCode": 202}
""",
        # An explicit processed-id check before acting.
        """
import boto3
sns = boto3.client("sns")

def handler(event, context):
    for record in event["Records"]:
        if already_processed(record["messageId"]):
            continue
        sns.publish(TopicArn="arn:aws:sns:eu-west-1:1:t", Message=record["body"])
""",
    )
    INVALID = (
        """
import boto3, stripe
import requests as rq
from boto3 import client as mk
ses = mk("ses")
table = boto3.resource("dynamodb").Table("stats")
sqs = boto3.client("sqs")

def handle(record):
    stripe.Charge.create(amount=100, currency="usd", source=record["token"])  # expect: LAM201
    ses.send_email(Source="shop@example.com", Destination={"ToAddresses": ["a@b"]}, Message={})  # expect: LAM201
    rq.post("https://hooks.example.com/orders", json=record, timeout=3)  # expect: LAM201
    table.put_item(Item={"pk": record["id"]})  # expect: LAM202
    table.update_item(Key={"pk": "n"}, UpdateExpression="SET hits = hits + :one")  # expect: LAM203
    sqs.send_message(QueueUrl=URL, MessageBody="x", MessageGroupId="g")  # expect: LAM204
    sqs.send_message(QueueUrl=URL, MessageBody="x")

def handler(event, context):
    for record in event["Records"]:
        handle(record)
""",
        """
def save(table, detail):
    table.update_item(Key={"pk": detail["id"]}, UpdateExpression="ADD total :amt")  # expect: LAM203

def handler(event, context):
    save(TABLE, event["detail"])
""",
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.function is None:
            return
        name = self.ctx.canonical(node.func)
        by_name, by_method = _effect_index(self.ctx.catalogs.effects)
        method = method_name(node)
        # Only effects listing this name or this method can match (see _matches); in catalog order.
        possible = sorted(set(by_name.get(name, ())) | set(by_method.get(method, ()))) if name or method else ()
        effects = self.ctx.catalogs.effects
        for index in possible:
            effect = effects[index]
            if self._matches(effect, node, name):
                self._judge(effect, node, name or "")
                return

    # -- matching -------------------------------------------------------------------------
    def _matches(self, effect: dict, call: cst.Call, name: str | None) -> bool:
        if name and name in effect.get("names", ()):
            return self._method_argument_ok(effect, call)
        method = method_name(call)
        if method is None or method not in effect.get("methods", ()):
            return False
        receiver = self.ctx.canonical(call.func.value)
        if receiver and any(receiver == r or receiver.startswith(r + ".") for r in effect.get("receivers", ())):
            return self._required_values_ok(effect, call)
        unresolved = receiver is None or (receiver.startswith("@") and "()" not in receiver)
        evidence = effect.get("evidence_keywords")
        if unresolved and evidence and keywords(call) & set(evidence):
            return self._required_values_ok(effect, call)
        return False

    def _method_argument_ok(self, effect: dict, call: cst.Call) -> bool:
        wanted = effect.get("method_argument")
        if not wanted:
            return True
        value = None
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value == "method":
                value = string_value(arg.value)
                break
        return value is not None and value.upper() in wanted

    def _required_values_ok(self, effect: dict, call: cst.Call) -> bool:
        for key, values in effect.get("required_keyword_values", {}).items():
            arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == key), None)
            if arg is None or string_value(arg.value) not in values:
                return False
        return True

    # -- evidence on the call itself --------------------------------------------------------
    def _judge(self, effect: dict, call: cst.Call, name: str) -> None:
        if has_star_kwargs(call):
            return  # the key may be among **kwargs: stay quiet rather than guess
        given = keywords(call)
        if given & set(effect.get("key_keywords", ())):
            return
        if effect.get("key_header") and self._has_header(call, effect["key_header"]):
            return
        code = effect["code"]
        if effect["kind"] == "dynamodb-write" and self._is_counter(call):
            code = "LAM203"
        if code == "LAM204" and not self._is_fifo(call):
            return
        if code == "LAM204" and self._batch_entries_have_dedup(call):
            return
        self._report(call, code, effect)

    def _has_header(self, call: cst.Call, header: str) -> bool:
        arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "headers"), None)
        if arg is None:
            return False
        value = arg.value
        if isinstance(value, cst.Name):
            where, binding = self.ctx.resolver.lookup(value.value, self.ctx.scope)
            value = binding.node if binding is not None and isinstance(binding.node, cst.Dict) else None
            if value is None:
                return True  # headers built elsewhere: may carry the key
        if not isinstance(value, cst.Dict):
            return True
        for element in value.elements:
            if isinstance(element, cst.DictElement):
                key = string_value(element.key)
                if key is not None and key.lower() == header.lower():
                    return True
            else:  # **other_headers
                return True
        return False

    def _is_counter(self, call: cst.Call) -> bool:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "UpdateExpression":
                expression = string_value(arg.value)
                return bool(expression and _COUNTER_EXPR.search(expression))
        return False

    def _is_fifo(self, call: cst.Call) -> bool:
        for arg in call.args:
            if arg.keyword is None:
                continue
            if arg.keyword.value == "MessageGroupId":
                return True
            if arg.keyword.value == "QueueUrl":
                url = string_value(arg.value)
                if url is None and isinstance(arg.value, cst.Name):
                    binding = self.ctx.resolver.lookup(arg.value.value, self.ctx.scope)[1]
                    url = string_value(binding.node) if binding is not None and isinstance(binding.node, cst.BaseExpression) else None
                if url and url.endswith(".fifo"):
                    return True
            if arg.keyword.value == "Entries" and isinstance(arg.value, cst.List):
                if any(self._dict_has(e.value, "MessageGroupId") for e in arg.value.elements):
                    return True
        return False

    def _batch_entries_have_dedup(self, call: cst.Call) -> bool:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "Entries" and isinstance(arg.value, cst.List):
                return all(self._dict_has(e.value, "MessageDeduplicationId") for e in arg.value.elements)
        return False

    @staticmethod
    def _dict_has(value: cst.BaseExpression, key: str) -> bool:
        return isinstance(value, cst.Dict) and any(
            isinstance(el, cst.DictElement) and string_value(el.key) == key for el in value.elements
        )

    def _report(self, call: cst.Call, code: str, effect: dict) -> None:
        what = effect["what"]
        advice = {
            "LAM201": "pass the provider's idempotency key derived from the event (e.g. idempotency_key=record[\"messageId\"], an Idempotency-Key header) or guard the handler with Powertools @idempotent",
            "LAM202": "add ConditionExpression (attribute_not_exists for inserts, a version check for updates)",
            "LAM203": "record the event id and the increment in one conditional transaction, or guard the handler with Powertools @idempotent",
            "LAM204": "pass MessageDeduplicationId derived from the incoming event",
        }[code]
        self.ctx.report(call, code, f"this call {what} and {REPLAY} — {advice}", Reach.AT_LEAST_ONCE)


_INDEXES: dict[int, tuple[tuple, dict[str, list[int]], dict[str, list[int]]]] = {}


def _effect_index(effects: tuple) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """name -> indexes of the effects listing it in `names`; method -> those listing it in
    `methods`. Built once per catalog."""
    cached = _INDEXES.get(id(effects))
    if cached is None or cached[0] is not effects:
        by_name: dict[str, list[int]] = {}
        by_method: dict[str, list[int]] = {}
        for index, effect in enumerate(effects):
            for name in effect.get("names", ()):
                by_name.setdefault(name, []).append(index)
            for method in effect.get("methods", ()):
                by_method.setdefault(method, []).append(index)
        cached = _INDEXES[id(effects)] = (effects, by_name, by_method)
    return cached[1], cached[2]
