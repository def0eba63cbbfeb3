"""The one value every checker produces and every formatter consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Ordered by path, then position, then code."""

    path: str
    line: int
    column: int  # 1-based, like flake8's text output
    code: str
    message: str
    severity: Severity = field(default=Severity.WARNING, compare=False)
    # Optional extras: the rule's kebab-case name, the call chain from the handler, ...
    name: str = field(default="", compare=False)
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)
    chain: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["chain"] = list(self.chain)
        return data
