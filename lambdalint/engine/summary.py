"""What the per-file analysis hands to the project phase. Plain, picklable data: it crosses
process boundaries (--jobs) and is what a cache would store."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..findings import Finding


@dataclass(frozen=True)
class Settings:
    """What the analysis of one file depends on besides its text (part of the cache key)."""

    enabled: frozenset[str]


class Reach(str, Enum):
    """When a candidate finding is real."""

    ALWAYS = "always"          # tool errors: always reported
    MODULE = "module"          # import-time code of a module a handler imports (or the handler's own)
    HANDLER = "handler"        # code reachable from any handler
    AT_LEAST_ONCE = "at_least_once"  # reachable, unguarded, from a handler fed by an at-least-once source


@dataclass
class Candidate:
    finding: Finding
    reach: Reach
    function: str = ""  # local qualname of the enclosing function; "" at module level


@dataclass
class FunctionInfo:
    qualname: str
    line: int
    params: tuple[str, ...]
    module_level: bool
    class_name: str = ""
    refs: set[str] = field(default_factory=set)           # canonical names used in the body
    decorators: tuple[str, ...] = ()                      # canonical names of decorators
    decorator_roots: tuple[str, ...] = ()                 # canonical names of decorator receivers
    guarded: bool = False                                 # an idempotency mechanism is in place
    at_least_once: str = ""                               # evidence, e.g. 'event["Records"]'

    @property
    def handler_shaped(self) -> bool:
        return self.module_level and not self.class_name and is_handler_signature(self.qualname, self.params)


HANDLER_NAMES = frozenset({"lambda_handler", "handler"})
EVENT_PARAMS = frozenset({"event", "evt", "_event", "event_data", "lambda_event"})
CONTEXT_PARAMS = frozenset({"context", "ctx", "_context", "_ctx", "lambda_context", "_"})


def is_handler_signature(name: str, params: tuple[str, ...]) -> bool:
    """A module-level function Lambda could call: `(event, context)`, or a usual handler name."""
    if len(params) < 2:
        return False
    if params[0] in EVENT_PARAMS and params[1] in CONTEXT_PARAMS:
        return True
    # The usual names with a looser shape (`lambda_handler(payload, context)`), but not a
    # signal handler `handler(signum, frame)`.
    return name in HANDLER_NAMES and len(params) == 2 and (params[0] in EVENT_PARAMS or params[1] in CONTEXT_PARAMS)


@dataclass
class ModuleSummary:
    path: str
    analyzed: bool = False                                # False: only the cheap scan ran
    imports: list[str] = field(default_factory=list)      # dotted, relative ones keep their dots
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)
    handler_names: list[str] = field(default_factory=list)  # from the cheap scan
