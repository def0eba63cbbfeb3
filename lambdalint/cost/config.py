"""`[tool.lambdalint.functions.NAME]`: the functions a project wants priced, read from pyproject.

The lead config loader leaves the `functions` sub-table to this module, so every check on it
lives here. A typo (`duration_ms` for `duration-ms`) must be an error that names the key: a
silently ignored key would make a cost estimate quietly wrong.
"""

from __future__ import annotations

import difflib
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError
from .model import FunctionUsage, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# config key -> (FunctionUsage field, the TOML type it must have)
KEYS: dict[str, tuple[str, str]] = {
    "memory": ("memory_mb", "integer"),
    "timeout": ("timeout_s", "number"),
    "architecture": ("arch", "string"),
    "region": ("region", "string"),
    "requests": ("requests", "number"),
    "duration-ms": ("duration_ms", "number"),
    "ephemeral-storage": ("ephemeral_storage_mb", "integer"),
    "init-ms": ("init_ms", "number"),
    "cold-start-rate": ("cold_start_rate", "number"),
    "provisioned-concurrency": ("provisioned_concurrency", "integer"),
    "provisioned-hours": ("provisioned_hours", "number"),
}
REQUIRED = ("memory", "requests", "duration-ms")
_KEY_FOR_FIELD = {field: key for key, (field, _) in KEYS.items()}
PREFIX = "tool.lambdalint.functions"


def load_toml(path: Path) -> dict[str, Any]:
    """Read a pyproject.toml (or any TOML config); numbers with a point load as exact decimals."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def functions_from_pyproject(data: Mapping[str, Any]) -> dict[str, FunctionUsage]:
    """The `[tool.lambdalint.functions.NAME]` tables of a parsed pyproject, validated, in file order."""
    table: Any = data
    for depth, key in enumerate(("tool", "lambdalint", "functions")):
        table = table.get(key, {}) if isinstance(table, Mapping) else table
        if not isinstance(table, Mapping):
            where = ".".join(("tool", "lambdalint", "functions")[: depth + 1])
            raise ConfigError(f"{where} must be a table, got {type(table).__name__}")
    return {str(name): _function(str(name), entry) for name, entry in table.items()}


def _function(name: str, entry: Any) -> FunctionUsage:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{PREFIX}.{name} must be a table of settings, got {type(entry).__name__}")
    for key in entry:
        if key not in KEYS:
            raise ConfigError(f"{PREFIX}.{name}.{key}: unknown key{_suggestion(str(key))} "
                              f"(known: {', '.join(KEYS)})")
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise ConfigError(f"{PREFIX}.{name}: missing {', '.join(missing)} (needed to price the function)")
    values = {KEYS[key][0]: _typed(name, key, value) for key, value in entry.items()}
    try:
        return FunctionUsage(**values)
    except UsageError as exc:
        raise as_config_error(exc, name) from None


def _typed(name: str, key: str, value: Any) -> Any:
    kind = KEYS[key][1]
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float, Decimal)) and not isinstance(value, bool),
        "string": isinstance(value, str),
    }[kind]
    if not ok:
        raise ConfigError(f"{PREFIX}.{name}.{key} must be {'an' if kind == 'integer' else 'a'} {kind}, "
                          f"got {value!r}")
    return value


def _suggestion(key: str) -> str:
    close = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def config_key(function: str, field: str) -> str:
    """The dotted config key a FunctionUsage field of `function` comes from."""
    key = _KEY_FOR_FIELD.get(field)
    return f"{PREFIX}.{function}.{key}" if key else f"{PREFIX}.{function}"


def as_config_error(error: UsageError, function: str | None = None) -> ConfigError:
    """Re-word a usage error about a configured function so it names the key the user wrote."""
    return ConfigError(f"{config_key(function or error.function, error.field)}: {error.detail}")
