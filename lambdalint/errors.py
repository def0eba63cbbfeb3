"""Errors a user can cause. The CLI turns each into a message and an exit code in one place."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class LambdalintError(Exception):
    """A problem with the user's input (config, flags, data files): message plus exit code 2."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(LambdalintError):
    """`[tool.lambdalint]` or a config file is malformed: unknown key, wrong type, bad value."""


class DataError(LambdalintError):
    """A data file shipped with or given to lambdalint (rules/, pricing/) is invalid."""
