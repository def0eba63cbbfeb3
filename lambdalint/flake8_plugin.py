"""flake8 plugin: `flake8 --select=LAM` runs the same engine and rule catalog as `lambdalint check`.

flake8 calls the checker once per file. Each call runs lambdalint's engine on that one file (the
engine follows the handler's local imports by itself) and yields the findings located in that
file; findings the engine places in a helper module are left out, exactly as flake8's own
per-file model expects.

What flake8 owns, flake8 does: selection (`--select`, `--ignore`, `--extend-ignore`,
per-file-ignores) and `# noqa` (so `--disable-noqa` works). The engine therefore runs every LAM
rule and skips its own noqa filtering. Files that do not parse never reach the plugin: flake8
reports them itself as E999, before any AST plugin runs.

The rest of `[tool.lambdalint]` (handlers, at-least-once, synchronous, timeout, per-file-ignores,
severity) is read from the nearest pyproject.toml above the working directory, as the CLI does.
"""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

from . import __version__

Result = tuple[int, int, str, type]
# Package-size findings (LAM4xx) land on requirement files, never on the .py file flake8 checks;
# resolving a function's dependencies per Python file would only cost time.
_NEVER_ON_PYTHON_FILES = ("LAM4",)
_STDIN_NAMES = ("stdin", "-")


class LambdalintChecker:
    """A flake8 AST plugin (it asks for `tree`, so flake8 treats it as one)."""

    name = "lambdalint"
    version = __version__

    # Set from flake8's options in parse_options (class-level: flake8 builds one checker per file).
    timeout: ClassVar[int | None] = None
    config_path: ClassVar[str | None] = None
    stdin_display_name: ClassVar[str | None] = None  # the name flake8 gives standard input

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str] | None = None) -> None:
        self.tree = tree  # unused: the engine parses with libcst; flake8 needs the parameter
        self.filename = filename
        self.lines = list(lines or [])

    # -- flake8 options -------------------------------------------------------------------
    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option(
            "--lambdalint-timeout", type=_timeout, metavar="SECONDS", parse_from_config=True,
            help="lambdalint: the function timeout (1-900 s) used in findings; default from "
                 "[tool.lambdalint] timeout, else 900.")
        manager.add_option(
            "--lambdalint-config", metavar="FILE", parse_from_config=True,
            help="lambdalint: TOML file with its settings, like `lambdalint check --config`; "
                 "default: the nearest pyproject.toml with [tool.lambdalint].")
        manager.extend_default_ignore(_opt_in_codes())

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.timeout = getattr(options, "lambdalint_timeout", None)
        cls.config_path = getattr(options, "lambdalint_config", None)
        if "-" in (getattr(options, "filenames", None) or []):
            cls.stdin_display_name = getattr(options, "stdin_display_name", None) or "stdin"

    # -- the check ------------------------------------------------------------------------
    def run(self) -> Iterator[Result]:
        try:
            results = list(self._check())
        except Exception as exc:  # flake8 aborts the whole run on a plugin exception
            results = [(1, 0, f"LAM906 lambdalint failed on this file ({type(exc).__name__}: {exc}); "
                               "please report it", type(self))]
        yield from results

    def _check(self) -> Iterator[Result]:
        from .errors import LambdalintError

        try:
            checker = _engine(self.config_path, self.timeout)
        except LambdalintError as exc:  # a bad [tool.lambdalint]: say so where flake8 looks
            yield 1, 0, f"LAM906 lambdalint cannot run: {exc.message}", type(self)
            return
        if self._from_stdin():
            with tempfile.TemporaryDirectory(prefix="lambdalint-flake8-") as tmp:
                target = Path(tmp) / _module_name(self.filename)
                target.write_text("".join(self.lines), encoding="utf-8")
                yield from self._results(checker, target)
        else:
            yield from self._results(checker, Path(self.filename))

    def _results(self, checker: Any, target: Path) -> Iterator[Result]:
        wanted = os.path.abspath(target)
        for finding in checker.run([target]).findings:
            if os.path.abspath(finding.path) == wanted:
                # flake8 columns are 0-based offsets; it prints offset + 1, as lambdalint does.
                yield finding.line, max(finding.column - 1, 0), f"{finding.code} {finding.message}", type(self)

    def _from_stdin(self) -> bool:
        # An editor's unsaved buffer arrives on stdin under the file's own name: check the buffer.
        return (self.filename in _STDIN_NAMES or self.filename == self.stdin_display_name
                or not os.path.isfile(self.filename))


def _engine(config_path: str | None, timeout: int | None) -> Any:
    """A one-file, one-process engine with every rule on and the engine's noqa handling off."""
    from . import config as config_mod
    from .catalog import all_rules

    config = config_mod.load(Path(config_path) if config_path else None)
    if timeout is not None:
        config = config.with_overrides(timeout=timeout)
    enabled = frozenset(code for code in all_rules() if not code.startswith(_NEVER_ON_PYTHON_FILES))
    from .engine.runner import Checker

    # flake8 applies `# noqa` itself (and honours --disable-noqa): the engine keeps those findings.
    return Checker(config, enabled, jobs=1, apply_noqa=False)


def _timeout(value: str) -> int:
    """argparse type: a bad value is a usage error from flake8 itself, not a finding per file."""
    import argparse

    try:
        seconds = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {value!r}") from None
    if not 1 <= seconds <= 900:  # Lambda's maximum function timeout
        raise argparse.ArgumentTypeError(f"a Lambda timeout is 1 to 900 seconds, got {seconds}")
    return seconds


def _opt_in_codes() -> list[str]:
    """Rules that are off by default in `lambdalint check` stay off in a plain `flake8` run."""
    try:
        from .catalog import all_rules

        return [code for code, rule in all_rules().items() if not rule.default_enabled]
    except Exception:  # rule data unreadable: run() reports it per file, flake8 must still start
        return []


def _module_name(filename: str) -> str:
    """A name for the stdin copy: the display name's own file name when it is a module."""
    base = os.path.basename(filename)
    return base if base.endswith(".py") and base not in _STDIN_NAMES else "stdin.py"
