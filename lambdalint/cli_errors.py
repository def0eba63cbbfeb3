"""One place where errors become messages and exit codes, for every lambdalint command:
user-caused errors (LambdalintError) print one line on stderr and exit 2; a bug prints a short
message and exits 3, with the traceback only when LAMBDALINT_DEBUG is set."""

from __future__ import annotations

import functools
import os
import sys

import click

from .errors import LambdalintError

EXIT_INTERNAL = 3


def handle_errors(func):
    """User-caused errors: one line on stderr and exit 2. Bugs: a short message, exit 3."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LambdalintError as exc:
            click.echo(f"lambdalint: error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # pragma: no cover - a bug; keep the traceback out of users' CI logs
            click.echo(f"lambdalint: internal error: {type(exc).__name__}: {exc} (please report it; "
                       f"set LAMBDALINT_DEBUG=1 for the traceback)", err=True)
            if os.environ.get("LAMBDALINT_DEBUG"):
                raise
            sys.exit(EXIT_INTERNAL)

    return wrapper
