"""`[tool.lambdalint]` in pyproject.toml (or a file given with --config), validated.

Unknown keys and wrong types are errors that name the key: a typo in a linter's config must not
silently switch a rule off.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .catalog import all_rules
from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_TIMEOUT_S = 900
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", ".tox", ".nox", "node_modules",
    "build", "dist", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".aws-sam", ".serverless", "cdk.out", ".lambdalint_cache", "site-packages", ".eggs",
)


def glob_pattern(patterns) -> re.Pattern:
    """One regular expression matching what any of these fnmatch patterns matches:
    fnmatch.fnmatch(x, p) is re.match(fnmatch.translate(normcase(p)), normcase(x)), so match
    it against os.path.normcase(x). Exclusions are tested for every file of a tree."""
    return re.compile("|".join(fnmatch.translate(os.path.normcase(p)) for p in patterns))


# Sub-tables owned and validated by other parts of lambdalint (cost model, deps, CI gate).
OWNED_TABLES = ("functions", "deps", "budget")


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    handlers: tuple[str, ...] = ()
    at_least_once: tuple[str, ...] = ()
    synchronous: tuple[str, ...] = ()
    timeout: int = MAX_TIMEOUT_S
    memory: int = 128
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    severity: tuple[tuple[str, str], ...] = ()
    tables: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def with_overrides(self, **changes: Any) -> "Config":
        return replace(self, **changes)

    def fingerprint(self) -> str:
        """What, in this config, changes what a file's analysis produces (for the cache key)."""
        return repr((self.select, self.ignore, self.extend_select, self.per_file_ignores,
                     self.timeout, self.memory, self.severity))


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"tool.lambdalint.{key} must be a list of strings, got {value!r}")
    return tuple(value)


def _codes(key: str, value: Any) -> tuple[str, ...]:
    codes = _str_list(key, value)
    for code in codes:
        if not _is_code_pattern(code):
            raise ConfigError(f"tool.lambdalint.{key}: {code!r} is neither a LAM code, a prefix such as LAM1, nor a rule name")
    return tuple(c.upper() if c.upper().startswith("LAM") else c for c in codes)


def _is_code_pattern(code: str) -> bool:
    upper = code.upper()
    if upper.startswith("LAM") and (upper[3:].isdigit() or upper == "LAM") and len(upper) <= 6:
        return True
    return any(rule.name == code for rule in all_rules().values())


def _int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"tool.lambdalint.{key} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"tool.lambdalint.{key} must be between {low} and {high}, got {value}")
    return value


def from_table(table: dict, root: Path, source: Path | None = None) -> Config:
    """Validate a `[tool.lambdalint]` table into a Config."""
    if not isinstance(table, dict):
        raise ConfigError("tool.lambdalint must be a table")
    known = {"select", "ignore", "extend-select", "per-file-ignores", "handlers", "at-least-once",
             "synchronous", "timeout", "memory", "exclude", "extend-exclude", "severity", *OWNED_TABLES}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"unknown key tool.lambdalint.{unknown[0]} (known keys: {', '.join(sorted(known))})")
    config = Config(root=root, source=source)
    changes: dict[str, Any] = {}
    for key, attr in (("select", "select"), ("ignore", "ignore"), ("extend-select", "extend_select")):
        if key in table:
            changes[attr] = _codes(key, table[key])
    for key, attr in (("handlers", "handlers"), ("at-least-once", "at_least_once"), ("synchronous", "synchronous")):
        if key in table:
            changes[attr] = _str_list(key, table[key])
    if "timeout" in table:
        changes["timeout"] = _int("timeout", table["timeout"], 1, MAX_TIMEOUT_S)
    if "memory" in table:
        changes["memory"] = _int("memory", table["memory"], 128, 10240)
    if "exclude" in table:
        changes["exclude"] = _str_list("exclude", table["exclude"])
    if "extend-exclude" in table:
        changes["exclude"] = changes.get("exclude", config.exclude) + _str_list("extend-exclude", table["extend-exclude"])
    if "per-file-ignores" in table:
        changes["per_file_ignores"] = _per_file_ignores(table["per-file-ignores"])
    if "severity" in table:
        changes["severity"] = _severities(table["severity"])
    changes["tables"] = {k: table[k] for k in OWNED_TABLES if k in table}
    for key in OWNED_TABLES:
        if key in table and not isinstance(table[key], dict):
            raise ConfigError(f"tool.lambdalint.{key} must be a table")
    return replace(config, **changes)


def _per_file_ignores(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError("tool.lambdalint.per-file-ignores must be a table of glob = [codes]")
    return tuple((glob, _codes(f"per-file-ignores.{glob!r}", codes)) for glob, codes in value.items())


def _severities(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError("tool.lambdalint.severity must be a table of CODE = \"error\"|\"warning\"|\"info\"")
    out = []
    for code, level in value.items():
        if code.upper() not in all_rules():
            raise ConfigError(f"tool.lambdalint.severity: unknown rule {code!r}")
        if level not in ("error", "warning", "info"):
            raise ConfigError(f"tool.lambdalint.severity.{code} must be error, warning or info, got {level!r}")
        out.append((code.upper(), level))
    return tuple(out)


def read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load(explicit: Path | None = None, start: Path | None = None) -> Config:
    """The config from `explicit`, else the nearest pyproject.toml with [tool.lambdalint]."""
    if explicit is not None:
        data = read_toml(explicit)
        table = data.get("tool", {}).get("lambdalint", data if explicit.name != "pyproject.toml" else {})
        return from_table(table, explicit.resolve().parent, explicit)
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            table = read_toml(candidate).get("tool", {}).get("lambdalint")
            if table is not None:
                return from_table(table, directory, candidate)
    return Config(root=here)
