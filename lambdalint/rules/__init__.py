"""Every static rule, in the order they run. Adding a rule: write its class (with VALID and
INVALID examples), document its codes in rules/lamNxx.toml, and list it here."""

from __future__ import annotations

from .coldstart import ClientPerInvocation, ImportTimeWork, ModelPerInvocation
from .idempotency import SideEffects
from .state import EnvironMutated, GlobalContainerMutated, GlobalObjectAttributeWritten, GlobalRebound
from .timeouts import HttpWithoutTimeout, Loops, NetworkRecursion

RULE_CLASSES = (
    GlobalContainerMutated,
    GlobalRebound,
    GlobalObjectAttributeWritten,
    EnvironMutated,
    SideEffects,
    Loops,
    HttpWithoutTimeout,
    NetworkRecursion,
    ClientPerInvocation,
    ModelPerInvocation,
    ImportTimeWork,
)

STATIC_CODES = frozenset(code for cls in RULE_CLASSES for code in cls.CODES)
