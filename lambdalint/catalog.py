"""Rule metadata and catalogs, read from the data files in rules/ (shipped in the wheel)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .data import data_dir
from .errors import DataError
from .findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

CODE_RE = re.compile(r"^LAM\d{3}$")
_RULE_KEYS = {"code", "name", "severity", "default_enabled", "summary", "rationale", "fix",
              "bad", "good", "known_problems", "references"}


@dataclass(frozen=True)
class RuleInfo:
    """One rule's documentation, as `lambdalint rule CODE` prints it."""

    code: str
    name: str
    severity: Severity
    default_enabled: bool
    summary: str
    rationale: str = ""
    fix: str = ""
    bad: str = ""
    good: str = ""
    known_problems: str = ""
    references: tuple[str, ...] = ()

    @property
    def family(self) -> int:
        return int(self.code[3])


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: cannot read rule data: {exc}") from exc


def _rule_from_table(path: Path, table: dict) -> RuleInfo:
    unknown = set(table) - _RULE_KEYS
    if unknown:
        raise DataError(f"{path}: rule {table.get('code', '?')}: unknown key(s) {sorted(unknown)}")
    code = table.get("code", "")
    if not CODE_RE.match(str(code)):
        raise DataError(f"{path}: rule code {code!r} is not LAM followed by three digits")
    try:
        severity = Severity(table.get("severity", "warning"))
    except ValueError:
        raise DataError(f"{path}: {code}.severity must be error, warning or info") from None
    return RuleInfo(
        code=code,
        name=str(table.get("name", "")),
        severity=severity,
        default_enabled=bool(table.get("default_enabled", True)),
        summary=str(table.get("summary", "")).strip(),
        rationale=" ".join(str(table.get("rationale", "")).split()),
        fix=str(table.get("fix", "")).strip(),
        bad=str(table.get("bad", "")).strip("\n"),
        good=str(table.get("good", "")).strip("\n"),
        known_problems=str(table.get("known_problems", "")).strip(),
        references=tuple(table.get("references", ())),
    )


@lru_cache(maxsize=None)
def all_rules() -> dict[str, RuleInfo]:
    """Every documented rule, by code, from rules/lam*.toml."""
    rules: dict[str, RuleInfo] = {}
    for path in sorted(data_dir("rules").glob("lam*.toml")):
        for table in _read_toml(path).get("rule", []):
            rule = _rule_from_table(path, table)
            if rule.code in rules:
                raise DataError(f"{path}: rule {rule.code} is defined twice")
            rules[rule.code] = rule
    return rules


def rule(code: str) -> RuleInfo | None:
    """Look a rule up by code (`LAM101`) or kebab-case name (`mutable-global-mutated`)."""
    rules = all_rules()
    if code.upper() in rules:
        return rules[code.upper()]
    return next((r for r in rules.values() if r.name == code), None)


@lru_cache(maxsize=None)
def catalog(name: str) -> dict:
    """A catalog from rules/catalogs/<name>.toml, e.g. catalog("sdk")["aws"]["clients"]."""
    path = data_dir("rules") / "catalogs" / f"{name}.toml"
    if not path.is_file():
        raise DataError(f"{path}: catalog is missing from this installation")
    return _read_toml(path)


@dataclass(frozen=True)
class Catalogs:
    """The catalogs the static rules use, flattened into sets for quick membership tests."""

    aws_clients: frozenset[str]
    aws_resources: frozenset[str]
    aws_local_methods: frozenset[str]
    connections: frozenset[str]
    network_calls: frozenset[str]
    network_instance_prefixes: tuple[str, ...]
    network_instance_local: frozenset[str]
    network_module_prefixes: tuple[str, ...]
    http_timeouts: dict[str, dict]
    effects: tuple[dict, ...]
    idempotent_decorators: frozenset[str]
    guard_name: re.Pattern
    dedup_conditions: tuple[str, ...]
    at_least_once_keys: frozenset[str]
    at_least_once_calls: frozenset[str]
    sync_keys: frozenset[str]
    blocking_at_import: frozenset[str]
    model_loaders: frozenset[str]
    model_loader_methods: frozenset[str]
    caching_decorators: frozenset[str]
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=None)
def catalogs() -> Catalogs:
    sdk, http, effects, idem, init = (catalog(n) for n in ("sdk", "http", "side_effects", "idempotency", "init"))
    timeouts = {}
    for entry in http.get("call", []):
        for name in entry["names"]:
            timeouts[name] = entry
    return Catalogs(
        aws_clients=frozenset(sdk["aws"]["clients"]),
        aws_resources=frozenset(sdk["aws"]["resources"]),
        aws_local_methods=frozenset(sdk["aws"]["local_methods"]),
        connections=frozenset(sdk["connections"]["calls"]),
        network_calls=frozenset(sdk["network"]["calls"]),
        network_instance_prefixes=tuple(sdk["network"]["instance_prefixes"]),
        network_instance_local=frozenset(sdk["network"]["instance_local_attributes"]),
        network_module_prefixes=tuple(sdk["network"]["module_prefixes"]),
        http_timeouts=timeouts,
        effects=tuple(effects.get("effect", [])),
        idempotent_decorators=frozenset(idem["decorators"]),
        guard_name=re.compile(idem["guard_name_pattern"]),
        dedup_conditions=tuple(idem["dedup_conditions"]),
        at_least_once_keys=frozenset(idem["at_least_once"]["event_keys"]),
        at_least_once_calls=frozenset(idem["at_least_once"]["powertools"]),
        sync_keys=frozenset(idem["synchronous"]["event_keys"]),
        blocking_at_import=frozenset(init["blocking_at_import"]),
        model_loaders=frozenset(init["model_loaders"]),
        model_loader_methods=frozenset(init["model_loader_methods"]),
        caching_decorators=frozenset(init["caching_decorators"]),
    )
