"""What a template says about one function: the values the rules, the engine and the cost model
need, each with the template line it came from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.project import Handler

# How each event source invokes the function (facts: aws-lambda.md section 5.1).
# True: at least once (event source mappings, asynchronous invokes, which retry and may deliver
# twice even without an error); False: synchronous (the caller gets the error, Lambda does not
# retry). Keys are SAM event types and serverless.yml event names, lower-cased.
AT_LEAST_ONCE: dict[str, bool] = {
    # event source mappings: "process each event at least once"
    "sqs": True, "kinesis": True, "dynamodb": True, "msk": True, "mq": True,
    "selfmanagedkafka": True, "documentdb": True, "stream": True, "kafka": True,
    "activemq": True, "rabbitmq": True,
    # asynchronous invokes: retried twice on error, and the async queue may deliver twice
    "sns": True, "s3": True, "eventbridgerule": True, "cloudwatchevent": True, "schedule": True,
    "schedulev2": True, "eventbridge": True, "cloudwatchlogs": True, "cloudwatchlog": True,
    "iotrule": True, "iot": True, "asyncinvoke": True,
    # synchronous: API Gateway, Function URLs, ALB, and the services that wait for the answer
    "api": False, "httpapi": False, "http": False, "functionurl": False, "alb": False,
    "websocket": False, "alexaskill": False, "cognito": False, "cognitouserpool": False,
}

# Lambda's defaults when a template leaves a value out (SAM/CloudFormation use the service
# defaults; the Serverless Framework sets its own memory and timeout).
DEFAULTS: dict[str, dict[str, object]] = {
    "sam": {"memory": 128, "timeout": 3, "arch": "x86_64", "ephemeral_storage": 512},
    "cloudformation": {"memory": 128, "timeout": 3, "arch": "x86_64", "ephemeral_storage": 512},
    "serverless": {"memory": 1024, "timeout": 6, "arch": "x86_64", "ephemeral_storage": 512},
}


@dataclass(frozen=True)
class QueueInfo:
    """An SQS queue defined in the same template as the function it feeds."""

    logical_id: str
    visibility_timeout: int | None  # None: an intrinsic we could not resolve
    line: int                       # the VisibilityTimeout line, else the queue resource's line
    explicit: bool                  # False: the queue leaves it at SQS's default


@dataclass(frozen=True)
class EventSource:
    """One trigger of a function: a SAM event, a serverless.yml event, or a resource elsewhere in
    the template that points at the function (event source mapping, permission, subscription)."""

    name: str
    kind: str            # "SQS", "Api", "Schedule", "EventSourceMapping:sqs", ...
    line: int
    queue: QueueInfo | None = None

    def has_python_code(self) -> bool:
        """A Python zip function whose code is in this repository (not inline, S3 or an image)."""
        return self.is_python and self.code_dir is not None

    @property
    def at_least_once(self) -> bool | None:
        """True/False per AT_LEAST_ONCE, None for a source type lambdalint does not know."""
        return AT_LEAST_ONCE.get(self.kind.split(":")[-1].lower())


@dataclass
class FunctionConfig:
    """One Lambda function as a template declares it (after Globals / provider inheritance).

    Values a template leaves out hold the platform default and are listed in `defaulted`; values
    given as an intrinsic or variable lambdalint cannot resolve are None and listed in `unknown`.
    `lines` maps a field name to the template line that sets it (Globals/provider included).
    """

    name: str
    template: Path
    line: int
    kind: str = "sam"                       # sam | cloudformation | serverless
    handler: str | None = None              # as written: "pkg/app.lambda_handler"
    handler_path: Path | None = None        # <CodeUri>/pkg/app.py, absolute
    handler_function: str | None = None
    code_dir: Path | None = None
    runtime: str | None = None
    memory: int | None = None
    timeout: int | None = None
    arch: str | None = None
    layers: tuple[str, ...] = ()
    ephemeral_storage: int | None = None
    events: tuple[EventSource, ...] = ()
    capacity_provider: bool = False
    package_type: str = "Zip"
    lines: dict[str, int] = field(default_factory=dict)
    defaulted: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)

    @property
    def is_python(self) -> bool:
        """A Python zip function (the runtime may come from Globals; unknown runtimes count when
        the handler resolves to a .py file)."""
        if self.package_type.lower() == "image":
            return False
        if self.runtime is not None:
            return self.runtime.startswith("python")
        return self.handler_path is not None and self.handler_path.is_file()

    def has_python_code(self) -> bool:
        """A Python zip function whose code is in this repository (not inline, S3 or an image)."""
        return self.is_python and self.code_dir is not None

    @property
    def at_least_once(self) -> bool | None:
        """True if any source delivers at least once; False if every source is synchronous;
        None with no events (or only sources of unknown kind): the code decides."""
        kinds = [e.at_least_once for e in self.events]
        if any(k is True for k in kinds):
            return True
        if kinds and all(k is False for k in kinds):
            return False
        return None

    def to_handler(self) -> Handler | None:
        """The engine's view of this function, or None when it is not a Python file handler."""
        if not self.is_python or self.handler_path is None or not self.handler_function:
            return None
        return Handler(os.path.normpath(os.path.abspath(self.handler_path)), self.handler_function,
                       at_least_once=self.at_least_once, timeout=self.timeout, source="template")

    def describe_sources(self) -> str:
        return ", ".join(sorted({e.kind for e in self.events})) or "no events"


def resolve_handler(code_dir: Path | None, handler: str | None) -> tuple[Path | None, str | None]:
    """Python's `module.function` handler setting -> (file, function).

    `pkg/app.lambda_handler` and `pkg.app.lambda_handler` both mean <code_dir>/pkg/app.py; a
    package (`pkg.lambda_handler` with pkg/__init__.py) is found too. The file is returned even
    when it does not exist, so the caller can say which file it expected.
    """
    if code_dir is None or not handler or "." not in handler:
        return None, None
    module, _, function = handler.strip().rpartition(".")
    module = module.strip("/").removeprefix("./").replace(".", "/")
    if not module or not function:
        return None, None
    candidates = [code_dir / f"{module}.py", code_dir / module / "__init__.py"]
    found = next((c for c in candidates if c.is_file()), candidates[0])
    return found, function
