"""Serverless Framework `serverless.yml`: the functions it declares.

Provider-level `runtime`, `memorySize`, `timeout`, `architecture`, `layers` and
`ephemeralStorageSize` apply to every function unless the function sets its own. Variables:
`${self:path.to.key}` is looked up in the same file and a literal default is used
(`${opt:stage, 'dev'}` -> "dev"); every other source (`opt:`, `env:`, `ssm:`, `file(...)`, `cf:`,
...) needs the deploy environment, so without a default the value stays unknown. CloudFormation
intrinsics in the `resources:` section resolve as in a SAM template (queues for LAM603).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .loader import Intrinsic, TDict, TList
from .model import DEFAULTS, EventSource, FunctionConfig, resolve_handler
from .sam import MISSING, UNKNOWN, Resolver, queue_info

_MAX_DEPTH = 10
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def is_serverless(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("functions"), dict) and (
        "service" in document or "provider" in document)


class Variables:
    """Serverless `${...}` variables that can be resolved from the file alone."""

    def __init__(self, document: TDict) -> None:
        self.document = document
        resources = document.get("resources")
        self.cfn = Resolver(resources if isinstance(resources, TDict) else TDict())

    def value(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, Intrinsic):
            return self.cfn.value(value)
        if not isinstance(value, str) or "${" not in value or depth > _MAX_DEPTH:
            return UNKNOWN if depth > _MAX_DEPTH else value
        spans = list(_variables(value))
        if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(value):
            return self._expression(value[2:-1], depth)  # the whole value: keep its type
        out, last = [], 0
        for start, end in spans:
            part = self._expression(value[start + 2:end - 1], depth)
            if isinstance(part, bool) or not isinstance(part, (str, int, float)):
                return UNKNOWN
            out += [value[last:start], str(part)]
            last = end
        return "".join(out) + value[last:]

    def _expression(self, text: str, depth: int) -> Any:
        source, default = _split_default(text)
        result = self._source(source.strip(), depth)
        if result is UNKNOWN and default is not None:
            result = self._literal(default.strip(), depth)
        return result

    def _source(self, source: str, depth: int) -> Any:
        if not source.startswith("self:"):
            return UNKNOWN  # opt:, env:, ssm:, file(...), cf:, sls:, param:, aws:, s3:
        node: Any = self.document
        for key in source[len("self:"):].split("."):
            if key == "":
                continue
            if not isinstance(node, dict) or key not in node:
                return UNKNOWN
            node = node[key]
        return self.value(node, depth + 1)

    def _literal(self, text: str, depth: int) -> Any:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return text[1:-1]
        if _NUMBER.match(text):
            return float(text) if "." in text else int(text)
        if text in ("true", "false"):
            return text == "true"
        if text.startswith("${"):
            return self.value(text, depth + 1)
        return self._source(text, depth + 1)


def _variables(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level `${...}` in `text`, nested ones included in their parent."""
    spans, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith("${", i):
            if depth == 0:
                start = i
            depth += 1
            i += 2
            continue
        if text[i] == "}" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
        i += 1
    return spans


def _split_default(text: str) -> tuple[str, str | None]:
    """`opt:stage, 'dev'` -> ("opt:stage", "'dev'"): the first comma outside quotes and ${}."""
    depth, quote = 0, ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif text.startswith("${", i):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "," and depth == 0:
            return text[:i], text[i + 1:]
    return text, None


def parse(path: Path, document: Any) -> list[FunctionConfig]:
    if not is_serverless(document):
        return []
    variables = Variables(document)
    provider = document.get("provider")
    provider = provider if isinstance(provider, TDict) else TDict()
    functions = document["functions"]
    out = []
    for name, spec in functions.items():
        if isinstance(spec, TDict):
            out.append(_function(path, str(name), spec, provider, variables, functions.line_of(name)))
    return out


def _function(path: Path, name: str, spec: TDict, provider: TDict, variables: Variables, line: int) -> FunctionConfig:
    function = FunctionConfig(name=name, template=path, line=line or spec.line, kind="serverless")
    defaults = DEFAULTS["serverless"]
    defaulted: set[str] = set()
    unknown: set[str] = set()

    def setting(field: str, key: str) -> Any:
        for source in (spec, provider):
            if key in source:
                function.lines[field] = source.line_of(key)
                return variables.value(source[key])
        return MISSING

    def number(field: str, key: str) -> int | None:
        value = setting(field, key)
        if value is MISSING:
            defaulted.add(field)
            return int(defaults[field])  # type: ignore[call-overload]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        unknown.add(field)
        return None

    def text(field: str, key: str) -> str | None:
        value = setting(field, key)
        if value is MISSING:
            return None
        if isinstance(value, str):
            return value
        unknown.add(field)
        return None

    function.memory = number("memory", "memorySize")
    function.timeout = number("timeout", "timeout")
    function.ephemeral_storage = number("ephemeral_storage", "ephemeralStorageSize")
    function.runtime = text("runtime", "runtime")
    function.handler = text("handler", "handler")
    function.arch = text("arch", "architecture")
    if function.arch is None and "arch" not in unknown:
        defaulted.add("arch")
        function.arch = str(defaults["arch"])
    layers = setting("layers", "layers")  # a function's list replaces the provider's
    function.layers = tuple(_layer(variables.value(v)) for v in layers) if isinstance(layers, list) else ()
    if "image" in spec:
        function.package_type = "Image"
    function.code_dir = path.parent.resolve()
    function.handler_path, function.handler_function = resolve_handler(function.code_dir, function.handler)
    function.capacity_provider = any("capacityprovider" in str(k).lower() for k in [*spec, *provider])
    function.events = tuple(_events(spec, variables))
    function.defaulted, function.unknown = frozenset(defaulted), frozenset(unknown)
    return function


def _layer(value: Any) -> str:
    return value if isinstance(value, str) else "(unresolved)"


def _events(spec: TDict, variables: Variables) -> list[EventSource]:
    events = []
    items = spec.get("events")
    for index, item in enumerate(items if isinstance(items, TList) else []):
        if not isinstance(item, TDict) or len(item) != 1:
            continue
        (kind,) = item
        settings = item[kind]
        queue = None
        if kind == "sqs":
            arn = settings.get("arn") if isinstance(settings, dict) else settings
            queue = queue_info(variables.value(arn), variables.cfn)
        elif kind == "stream":
            kind = _stream_kind(variables.value(settings.get("type") if isinstance(settings, dict) else None),
                                variables.value(settings.get("arn") if isinstance(settings, dict) else settings))
        events.append(EventSource(f"{kind}#{index + 1}", str(kind), item.line, queue))
    for key, kind in (("url", "FunctionUrl"), ("destinations", "AsyncInvoke")):
        if spec.get(key):
            events.append(EventSource(key, kind, spec.line_of(key)))
    return events


def _stream_kind(declared: Any, arn: Any) -> str:
    """`stream` events are Kinesis or DynamoDB streams; both at least once."""
    if declared in ("kinesis", "dynamodb"):
        return "Kinesis" if declared == "kinesis" else "DynamoDB"
    if isinstance(arn, str) and ":dynamodb:" in arn:
        return "DynamoDB"
    return "Kinesis" if isinstance(arn, str) and ":kinesis:" in arn else "stream"
