"""AWS SAM and plain CloudFormation templates: the Lambda functions they declare.

Reads `AWS::Serverless::Function` (with `Globals.Function` inheritance) and
`AWS::Lambda::Function`, their events, and the resources elsewhere in the template that
trigger a function (event source mappings, permissions, SNS subscriptions, EventBridge rules,
function URLs, S3 notifications). Intrinsic values resolve through parameter defaults,
mappings and conditions where that is possible without AWS; otherwise they stay unknown.
Nothing in a template is executed.

Lambda Managed Instances: CloudFormation's property is `CapacityProviderConfig` (cfn-lint
E3717 allows Timeout over 900 s only with it). Any property whose name contains
"CapacityProvider" counts, so a SAM spelling that differs still switches LAM602 off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from .loader import Intrinsic, TDict
from .model import DEFAULTS, EventSource, FunctionConfig, QueueInfo, resolve_handler

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
SQS_DEFAULT_VISIBILITY_S = 30  # SQS's default VisibilityTimeout when a queue does not set one
_MAX_DEPTH = 20
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """The document is YAML but not a usable template (e.g. Resources is not a mapping)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Unknown:
    """A value that depends on deploy-time input (a parameter without default, a pseudo
    parameter, an import): falsy, and equal only to itself."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class ResourceRef:
    """`!Ref X` / `!GetAtt X.Attr` where X is a resource of the template."""

    logical_id: str
    attribute: str = ""


# -- intrinsic functions ------------------------------------------------------------------

class Resolver:
    """Evaluate the intrinsic functions that do not need AWS: Ref to a parameter with a Default,
    Sub, FindInMap, Select, Join, If/Equals/Not/And/Or and Condition. Ref/GetAtt of a resource
    gives a ResourceRef; everything else is UNKNOWN."""

    def __init__(self, document: TDict) -> None:
        self.parameters = _mapping(document.get("Parameters"))
        self.mappings = _mapping(document.get("Mappings"))
        self.conditions = _mapping(document.get("Conditions"))
        self.resources = _mapping(document.get("Resources"))
        self._functions: dict[str, Callable[[Any, int], Any]] = {
            "Ref": self._ref, "Fn::GetAtt": self._get_att, "Fn::Sub": self._sub,
            "Fn::FindInMap": self._find_in_map, "Fn::Select": self._select, "Fn::Join": self._join,
            "Fn::If": self._if, "Fn::Equals": self._equals, "Fn::Not": self._not,
            "Fn::And": self._and, "Fn::Or": self._or, "Condition": self._condition,
        }

    def value(self, value: Any, depth: int = 0) -> Any:
        if not isinstance(value, Intrinsic):
            return value
        if depth > _MAX_DEPTH:
            return UNKNOWN
        handler = self._functions.get(value.function)
        return handler(value.argument, depth + 1) if handler else UNKNOWN

    def _ref(self, name: Any, depth: int) -> Any:
        name = self.value(name, depth)
        if not isinstance(name, str):
            return UNKNOWN
        if name in self.parameters:
            return self._parameter(name)
        if name in self.resources:
            return ResourceRef(name)
        return UNKNOWN  # AWS::Region, AWS::AccountId, ...: only known at deploy time

    def _parameter(self, name: str) -> Any:
        spec = self.parameters[name]
        if not isinstance(spec, dict) or "Default" not in spec:
            return UNKNOWN
        default = spec["Default"]
        if spec.get("Type") == "Number" and isinstance(default, str):
            return _number(default)
        return default

    def _get_att(self, argument: Any, depth: int) -> Any:
        argument = self.value(argument, depth)
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if isinstance(argument, list) and len(argument) == 2:
            resource, attribute = (self.value(a, depth) for a in argument)
            if isinstance(resource, str) and resource in self.resources:
                return ResourceRef(resource, str(attribute))
        return UNKNOWN

    def _sub(self, argument: Any, depth: int) -> Any:
        variables: dict = {}
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            argument, variables = argument
        text = self.value(argument, depth)
        if not isinstance(text, str):
            return UNKNOWN
        unresolved = False

        def replace(match: re.Match) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            value = self.value(variables[name], depth) if name in variables else (
                self._parameter(name) if name in self.parameters else UNKNOWN)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return str(value)
            unresolved = True
            return ""

        result = _SUB_VAR.sub(replace, text)
        return UNKNOWN if unresolved else result

    def _find_in_map(self, argument: Any, depth: int) -> Any:
        if not isinstance(argument, list) or len(argument) < 3:
            return UNKNOWN
        keys = [self.value(a, depth) for a in argument[:3]]
        node: Any = self.mappings
        for key in keys:
            if not isinstance(node, dict) or not isinstance(key, (str, int)) or key not in node:
                return UNKNOWN
            node = node[key]
        return self.value(node, depth)

    def _select(self, argument: Any, depth: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return UNKNOWN
        index, items = _number(self.value(argument[0], depth)), self.value(argument[1], depth)
        if isinstance(index, int) and isinstance(items, list) and 0 <= index < len(items):
            return self.value(items[index], depth)
        return UNKNOWN

    def _join(self, argument: Any, depth: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return UNKNOWN
        separator, items = self.value(argument[0], depth), self.value(argument[1], depth)
        if not isinstance(separator, str) or not isinstance(items, list):
            return UNKNOWN
        parts = [self.value(i, depth) for i in items]
        if all(isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in parts):
            return separator.join(str(p) for p in parts)
        return UNKNOWN

    def _if(self, argument: Any, depth: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            return UNKNOWN
        condition = self._condition(argument[0], depth)
        if condition is UNKNOWN:
            yes, no = self.value(argument[1], depth), self.value(argument[2], depth)
            return yes if _same(yes, no) else UNKNOWN
        return self.value(argument[1] if condition else argument[2], depth)

    def _condition(self, name: Any, depth: int) -> Any:
        spec = self.conditions.get(name) if isinstance(name, str) else None
        if spec is None or depth > _MAX_DEPTH:
            return UNKNOWN
        result = self.value(spec, depth)
        return result if isinstance(result, bool) else UNKNOWN

    def _equals(self, argument: Any, depth: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return UNKNOWN
        left, right = (self.value(a, depth) for a in argument)
        if left is UNKNOWN or right is UNKNOWN or isinstance(left, ResourceRef) or isinstance(right, ResourceRef):
            return UNKNOWN
        return str(left) == str(right)

    def _not(self, argument: Any, depth: int) -> Any:
        inner = self.value(argument[0] if isinstance(argument, list) and argument else argument, depth)
        return (not inner) if isinstance(inner, bool) else UNKNOWN

    def _and(self, argument: Any, depth: int) -> Any:
        values = [self.value(a, depth) for a in (argument if isinstance(argument, list) else [])]
        if any(v is False for v in values):
            return False
        return True if values and all(v is True for v in values) else UNKNOWN

    def _or(self, argument: Any, depth: int) -> Any:
        values = [self.value(a, depth) for a in (argument if isinstance(argument, list) else [])]
        if any(v is True for v in values):
            return True
        return False if values and all(v is False for v in values) else UNKNOWN


def _same(a: Any, b: Any) -> bool:
    return a is not UNKNOWN and b is not UNKNOWN and type(a) is type(b) and a == b


def _mapping(value: Any) -> TDict:
    return value if isinstance(value, TDict) else TDict()


def _items(value: Any) -> list:
    """A list property, or nothing when it is absent or an unresolved intrinsic."""
    return value if isinstance(value, list) else []


def _number(value: Any) -> Any:
    """"30" -> 30, "1.5" -> 1.5 (CloudFormation numbers are often strings); others unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return int(value.strip())
    except ValueError:
        try:
            return float(value.strip())
        except ValueError:
            return value


# -- reading one function -----------------------------------------------------------------

@dataclass
class _Property:
    value: Any      # resolved; MISSING when absent; UNKNOWN when unresolvable
    line: int


MISSING: Any = object()


class _Properties:
    """A function's properties, falling back to SAM's Globals.Function."""

    def __init__(self, own: TDict, inherited: TDict, resolver: Resolver) -> None:
        self.own, self.inherited, self.resolver = own, inherited, resolver

    def get(self, key: str) -> _Property:
        for source in (self.own, self.inherited):
            if key in source:
                return _Property(self.resolver.value(source[key]), source.line_of(key))
        return _Property(MISSING, 0)

    def raw(self, key: str) -> Any:
        return self.own.get(key, self.inherited.get(key))

    def lists(self, key: str) -> tuple[list, int]:
        """SAM appends list properties of Globals and the function (Layers)."""
        items: list = []
        line = 0
        for source in (self.inherited, self.own):
            value = self.resolver.value(source.get(key))
            if isinstance(value, list):
                items += [self.resolver.value(v) for v in value]
                line = source.line_of(key)
        return items, line

    def keys(self) -> Iterable[str]:
        return [*self.own, *self.inherited]


def is_cloudformation(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("Resources"), dict) and (
        "AWSTemplateFormatVersion" in document or "Transform" in document
        or any(isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in document["Resources"].values()))


def _is_sam(document: TDict) -> bool:
    transform = document.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names or any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::")
        for r in document["Resources"].values())


def parse(path: Path, document: Any) -> list[FunctionConfig]:
    """The functions of a SAM/CloudFormation template (already loaded), in template order.
    Raises TemplateError when the document has the wrong shape."""
    if not isinstance(document, TDict) or "Resources" not in document:
        return []
    resources = document["Resources"]
    if not isinstance(resources, TDict):
        raise TemplateError("Resources must be a mapping of logical IDs to resources", document.line_of("Resources"))
    resolver = Resolver(document)
    kind = "sam" if _is_sam(document) else "cloudformation"
    globals_function = _mapping(_mapping(document.get("Globals")).get("Function")) if kind == "sam" else TDict()
    functions: dict[str, FunctionConfig] = {}
    for logical_id, resource in resources.items():
        if isinstance(resource, TDict) and resource.get("Type") in FUNCTION_TYPES:
            functions[logical_id] = read_function(path, str(logical_id), resource, globals_function, resolver, kind)
            functions[logical_id].line = resources.line_of(logical_id)  # the logical ID's line, not "Type:"
    attach_resource_triggers(functions, resources, resolver)
    return list(functions.values())


def read_function(path: Path, logical_id: str, resource: TDict, globals_function: TDict,
                  resolver: Resolver, kind: str) -> FunctionConfig:
    serverless = resource.get("Type") == "AWS::Serverless::Function"
    props = _Properties(_mapping(resource.get("Properties")), globals_function if serverless else TDict(), resolver)
    function = FunctionConfig(name=logical_id, template=path, line=resource.line or 1, kind=kind)
    defaults = DEFAULTS[kind]
    defaulted: set[str] = set()
    unknown: set[str] = set()

    def number(field: str, key: str, inner: str | None = None) -> int | None:
        prop = props.get(key)
        value = prop.value
        if inner is not None and isinstance(value, dict):  # EphemeralStorage: {Size: 1024}
            function.lines[field] = value.line_of(inner) if isinstance(value, TDict) else prop.line
            value = resolver.value(value.get(inner, MISSING))
        elif prop.value is not MISSING:
            function.lines[field] = prop.line
        if value is MISSING:
            defaulted.add(field)
            return int(defaults[field])  # type: ignore[call-overload]
        value = _number(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        unknown.add(field)
        return None

    function.memory = number("memory", "MemorySize")
    function.timeout = number("timeout", "Timeout")
    function.ephemeral_storage = number("ephemeral_storage", "EphemeralStorage", "Size")
    function.runtime = _text(props.get("Runtime"), function, "runtime", unknown)
    function.handler = _text(props.get("Handler"), function, "handler", unknown)
    package = props.get("PackageType").value
    function.package_type = package if isinstance(package, str) else "Zip"
    function.arch = _architecture(props, function, defaulted, unknown, str(defaults["arch"]))
    layers, layers_line = props.lists("Layers")
    function.layers = tuple(_describe(layer) for layer in layers)
    if layers_line:
        function.lines["layers"] = layers_line
    function.code_dir = _code_dir(path, props, serverless)
    function.handler_path, function.handler_function = resolve_handler(function.code_dir, function.handler)
    function.capacity_provider = any("CapacityProvider" in str(key) for key in props.keys())
    function.events = tuple(_sam_events(props, resolver)) if serverless else ()
    function.defaulted, function.unknown = frozenset(defaulted), frozenset(unknown)
    return function


def _text(prop: _Property, function: FunctionConfig, field: str, unknown: set[str]) -> str | None:
    if prop.value is MISSING:
        return None
    function.lines[field] = prop.line
    if isinstance(prop.value, str):
        return prop.value
    unknown.add(field)
    return None


def _architecture(props: _Properties, function: FunctionConfig, defaulted: set[str], unknown: set[str],
                  default: str) -> str | None:
    prop = props.get("Architectures")
    if prop.value is MISSING:
        defaulted.add("arch")
        return default
    function.lines["arch"] = prop.line
    values = prop.value if isinstance(prop.value, list) else [prop.value]
    first = props.resolver.value(values[0]) if values else UNKNOWN
    if isinstance(first, str):
        return first
    unknown.add("arch")
    return None


def _describe(value: Any) -> str:
    """A layer as text: the ARN, or `!Ref MyLayer` for one defined in the template."""
    if isinstance(value, ResourceRef):
        return f"!Ref {value.logical_id}"
    return value if isinstance(value, str) else "(unresolved)"


def _code_dir(template: Path, props: _Properties, serverless: bool) -> Path | None:
    """Where the handler's files are: SAM's CodeUri, or a local path in `Code` (which
    `aws cloudformation package` uploads). Inline code, S3 objects and images have none here."""
    base = template.parent
    if serverless:
        if props.raw("InlineCode") is not None:
            return None
        code = props.get("CodeUri").value
        if code is MISSING:
            return base  # SAM CLI builds from the template's directory
    else:
        code = props.get("Code").value
    if isinstance(code, str) and not code.startswith(("s3://", "http://", "https://")):
        return (base / code).resolve()
    return None


# -- event sources ------------------------------------------------------------------------

def _sam_events(props: _Properties, resolver: Resolver) -> Iterable[EventSource]:
    events = _mapping(props.own.get("Events"))
    for name, event in events.items():
        if not isinstance(event, TDict):
            continue
        kind = resolver.value(event.get("Type"))
        kind = kind if isinstance(kind, str) else "Unknown"
        queue = None
        if kind == "SQS":
            queue = queue_info(resolver.value(_mapping(event.get("Properties")).get("Queue")), resolver)
        yield EventSource(str(name), kind, events.line_of(name), queue)
    for key, kind in (("FunctionUrlConfig", "FunctionUrl"), ("EventInvokeConfig", "AsyncInvoke"),
                      ("DeadLetterQueue", "AsyncInvoke")):
        if key in props.own:
            yield EventSource(key, kind, props.own.line_of(key))


def queue_info(reference: Any, resolver: Resolver) -> QueueInfo | None:
    """The SQS queue a reference points at, when the template defines it."""
    if not isinstance(reference, ResourceRef):
        return None
    queue = resolver.resources.get(reference.logical_id)
    if not isinstance(queue, TDict) or queue.get("Type") != "AWS::SQS::Queue":
        return None
    properties = _mapping(queue.get("Properties"))
    if "VisibilityTimeout" not in properties:
        line = resolver.resources.line_of(reference.logical_id)
        return QueueInfo(reference.logical_id, SQS_DEFAULT_VISIBILITY_S, line, explicit=False)
    value = _number(resolver.value(properties["VisibilityTimeout"]))
    seconds = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return QueueInfo(reference.logical_id, seconds, properties.line_of("VisibilityTimeout"), explicit=True)


# Principal of an AWS::Lambda::Permission -> the event kind it allows.
_PRINCIPALS = {
    "sns.amazonaws.com": "SNS", "s3.amazonaws.com": "S3", "events.amazonaws.com": "EventBridgeRule",
    "scheduler.amazonaws.com": "ScheduleV2", "logs.amazonaws.com": "CloudWatchLogs",
    "iot.amazonaws.com": "IoTRule", "apigateway.amazonaws.com": "Api",
    "elasticloadbalancing.amazonaws.com": "ALB", "cognito-idp.amazonaws.com": "Cognito",
    "alexa-appkit.amazon.com": "AlexaSkill",
}
# Resource type (or ARN service) behind an event source mapping -> event kind.
_ESM_SOURCES = {
    "AWS::SQS::Queue": "sqs", "AWS::Kinesis::Stream": "kinesis", "AWS::DynamoDB::Table": "dynamodb",
    "AWS::MSK::Cluster": "msk", "AWS::AmazonMQ::Broker": "mq", "AWS::DocDB::DBCluster": "documentdb",
    "sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb", "kafka": "msk", "mq": "mq", "rds": "documentdb",
}


def attach_resource_triggers(functions: dict[str, FunctionConfig], resources: TDict, resolver: Resolver) -> None:
    """Add the triggers declared as separate resources to the functions they point at."""
    by_name = _names(functions, resources, resolver)
    readers = {
        "AWS::Lambda::EventSourceMapping": _esm, "AWS::Lambda::Permission": _permission,
        "AWS::SNS::Subscription": _sns_subscription, "AWS::SNS::Topic": _sns_topic,
        "AWS::Events::Rule": _events_rule, "AWS::Lambda::Url": _function_url,
        "AWS::Lambda::EventInvokeConfig": _invoke_config, "AWS::S3::Bucket": _bucket,
    }
    for logical_id, resource in resources.items():
        if not isinstance(resource, TDict):
            continue
        reader = readers.get(resource.get("Type"))
        if reader is None:
            continue
        properties = _mapping(resource.get("Properties"))
        resource.line = resources.line_of(logical_id)  # triggers point at the logical ID's line
        for target, source in reader(str(logical_id), resource, properties, resolver):
            name = _target(resolver.value(target), by_name)
            if name is not None:
                function = functions[name]
                function.events = (*function.events, source)


def _names(functions: dict[str, FunctionConfig], resources: TDict, resolver: Resolver) -> dict[str, str]:
    """How other resources may name a function: its logical ID or its FunctionName."""
    names = {logical_id: logical_id for logical_id in functions}
    for logical_id in functions:
        explicit = resolver.value(_mapping(resources[logical_id].get("Properties")).get("FunctionName"))
        if isinstance(explicit, str):
            names[explicit] = logical_id
    return names


def _target(value: Any, by_name: dict[str, str]) -> str | None:
    if isinstance(value, ResourceRef):
        return by_name.get(value.logical_id)
    if isinstance(value, str):
        name = value.split(":function:")[-1].split(":")[0] if ":function:" in value else value
        return by_name.get(name)
    return None


Trigger = tuple[Any, EventSource]


def _esm(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    source = resolver.value(props.get("EventSourceArn"))
    kind, queue = "esm", None
    if isinstance(source, ResourceRef):
        target = _mapping(resolver.resources.get(source.logical_id))
        kind = _ESM_SOURCES.get(str(target.get("Type")), "esm")
        queue = queue_info(source, resolver) if kind == "sqs" else None
    elif isinstance(source, str) and source.startswith("arn:"):
        kind = _ESM_SOURCES.get(source.split(":")[2], "esm")
    elif "SelfManagedEventSource" in props:
        kind = "kafka"
    yield props.get("FunctionName"), EventSource(logical_id, f"EventSourceMapping:{kind}", resource.line, queue)


def _permission(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    principal = resolver.value(props.get("Principal"))
    kind = _PRINCIPALS.get(principal) if isinstance(principal, str) else None
    if kind is not None:  # other principals (accounts, roles) say nothing about the event source
        yield props.get("FunctionName"), EventSource(logical_id, kind, resource.line)


def _sns_subscription(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    if resolver.value(props.get("Protocol")) == "lambda":
        yield props.get("Endpoint"), EventSource(logical_id, "SNS", resource.line)


def _sns_topic(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    for item in _items(props.get("Subscription")):
        if isinstance(item, dict) and resolver.value(item.get("Protocol")) == "lambda":
            yield item.get("Endpoint"), EventSource(logical_id, "SNS", getattr(item, "line", resource.line))


def _events_rule(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    kind = "Schedule" if "ScheduleExpression" in props else "EventBridgeRule"
    for item in _items(props.get("Targets")):
        if isinstance(item, dict):
            yield item.get("Arn"), EventSource(logical_id, kind, getattr(item, "line", resource.line))


def _function_url(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    yield props.get("TargetFunctionArn"), EventSource(logical_id, "FunctionUrl", resource.line)


def _invoke_config(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    yield props.get("FunctionName"), EventSource(logical_id, "AsyncInvoke", resource.line)


def _bucket(logical_id: str, resource: TDict, props: TDict, resolver: Resolver) -> Iterable[Trigger]:
    notifications = _mapping(props.get("NotificationConfiguration"))
    for item in _items(notifications.get("LambdaConfigurations")):
        if isinstance(item, dict):
            yield item.get("Function"), EventSource(logical_id, "S3", getattr(item, "line", resource.line))
