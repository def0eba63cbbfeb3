"""An emulation of the `context` object the AWS Lambda Python runtime passes to a handler.

Standard library only: the profiler's child process loads this file by path, before it imports
the user's handler, so it must not pull lambdalint (or anything else) into the handler's process.

It avoids `uuid` too: whatever the runner imports before the handler is free for the handler's
own import, and the Lambda runtime does not have `uuid` loaded at that point.

Attribute names and types follow the Python runtime interface client: `memory_limit_in_mb` and
`function_version` come from environment variables there, so they are strings, not ints.
"""

from __future__ import annotations

import os
import time
from typing import Any, Optional


class CognitoIdentity:
    """`context.identity`: always present, empty unless invoked through the Mobile SDK."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: Optional[str] = None
        self.cognito_identity_pool_id: Optional[str] = None


class LambdaContext:
    """What a handler sees as its second argument, with a deadline that really counts down.

    `get_remaining_time_in_millis()` is computed from the wall clock against an absolute
    deadline set when the invocation starts, as Lambda does, so time a handler spends
    throttled (CPU share) or sleeping is deducted exactly as it would be in production.
    """

    def __init__(
        self,
        *,
        function_name: str,
        memory_limit_in_mb: int,
        timeout_s: float,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        function_version: str = "$LATEST",
        aws_request_id: Optional[str] = None,
        log_stream_name: Optional[str] = None,
        tenant_id: Optional[str] = None,
        now: Optional[float] = None,
    ) -> None:
        start = time.time() if now is None else now
        self._deadline_ms = int(start * 1000 + timeout_s * 1000)
        self.aws_request_id = aws_request_id or new_request_id()
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = str(int(memory_limit_in_mb))
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        )
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or default_log_stream_name(function_version, start)
        self.identity = CognitoIdentity()
        self.client_context: Any = None
        self.tenant_id = tenant_id

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda would kill this invocation (never negative)."""
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg: str) -> None:
        """Lambda's `context.log`: writes to the function's log (stdout here)."""
        print(str(msg), end="", flush=True)

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id}, function_name={self.function_name}, "
            f"memory_limit_in_mb={self.memory_limit_in_mb}, "
            f"invoked_function_arn={self.invoked_function_arn})"
        )


def new_request_id() -> str:
    """A random version-4 UUID string, like the request ids Lambda hands out."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def default_log_stream_name(function_version: str, now: float) -> str:
    """A stream name shaped like Lambda's: `YYYY/MM/DD/[$LATEST]<32 hex chars>`."""
    day = time.strftime("%Y/%m/%d", time.gmtime(now))
    return f"{day}/[{function_version}]{os.urandom(16).hex()}"


def lambda_environment(
    *,
    function_name: str,
    memory_mb: int,
    region: str,
    runtime: str,
    task_root: str,
    handler: str,
    log_stream_name: str,
) -> dict[str, str]:
    """The reserved environment variables Lambda sets in every execution environment.

    `AWS_LAMBDA_RUNTIME_API` is deliberately absent: libraries that see it try to talk to the
    Runtime API, which does not exist locally.
    """
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "LAMBDA_TASK_ROOT": task_root,
        "_HANDLER": handler,
        "TZ": ":UTC",
    }
