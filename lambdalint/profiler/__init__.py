"""Local memory-size profiler for Lambda handlers: `lambdalint profile`.

Runs a handler at several memory sizes, each in a fresh child process given that size's share
of CPU and capped at that memory, and turns the measurements into monthly cost and a memory
recommendation (cost, speed, balanced), as AWS Lambda Power Tuning does by deploying.

Modules: harness (child processes), runner (the child's entry point), context (the Lambda
context object), limits (cgroup and portable CPU/memory enforcement), initestimate (Lambda
cold-start estimate), recommend, report (text, JSON, HTML).
"""

from __future__ import annotations

from ..errors import LambdalintError


class ProfilerError(LambdalintError):
    """Bad input to the profiler (handler spec, event file, memory sizes, backend)."""


__all__ = ["ProfilerError"]
