"""The CI gate behind `lambdalint ci`: findings, each function's monthly cost, the change against
a base git ref, and budgets. Pure where possible; git and the file system are touched only by
`base_snapshot` (read-only git commands) and `run_ci`.

Where each function's cost inputs come from:

- configuration (memory, architecture, /tmp size): the template (what deploys), else the
  `[tool.lambdalint.functions.NAME]` entry;
- usage (requests per month, duration, INIT, region): the config entry of the same name; a
  `--profile-json` report measured for the function's handler replaces the duration and INIT
  with the tier at the function's memory (measured beats guessed), and gives requests, region
  and cold-start rate when there is no config entry;
- neither: the function is listed with "usage unknown" and left out of the totals.

The base ref is read with `git ls-tree` / `git show` (no checkout, no worktree: the repository
is not changed) and priced the same way, with the same profile reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping, Sequence

from .config import Config
from .cost.config import functions_from_pyproject, load_toml
from .cost.model import CostBreakdown, CostSummary, FunctionUsage, UsageError, monthly_cost, monthly_cost_many
from .errors import ConfigError, LambdalintError
from .findings import Finding, Severity
from .templates.discover import SKIP_DIRS, is_template_name, load_functions
from .templates.model import FunctionConfig

FAIL_ON = ("error", "warning", "info", "never")
DEFAULT_REGION = "us-east-1"
BUDGET_PREFIX = "tool.lambdalint.budget"
BUDGET_KEYS = ("monthly-total-usd", "per-function-usd", "max-increase-usd", "max-increase-percent")
HUNDRED = Decimal(100)


# -- budget configuration -----------------------------------------------------------------

@dataclass(frozen=True)
class Budget:
    """`[tool.lambdalint.budget]`, validated. None: no limit of that kind."""

    monthly_total_usd: Decimal | None = None
    per_function_usd: Decimal | None = None                   # every function
    per_function_named: Mapping[str, Decimal] = field(default_factory=dict)  # or some, by name
    max_increase_usd: Decimal | None = None
    max_increase_percent: Decimal | None = None

    @property
    def empty(self) -> bool:
        return self == Budget()


def budget_from_table(table: Any) -> Budget:
    """Validate the budget table; every mistake names its key."""
    if table is None:
        return Budget()
    if not isinstance(table, Mapping):
        raise ConfigError(f"{BUDGET_PREFIX} must be a table")
    for key in table:
        if key not in BUDGET_KEYS:
            raise ConfigError(f"unknown key {BUDGET_PREFIX}.{key} (known keys: {', '.join(BUDGET_KEYS)})")
    per_function = table.get("per-function-usd")
    named: dict[str, Decimal] = {}
    single = None
    if isinstance(per_function, Mapping):
        named = {str(n): _money(f"per-function-usd.{n}", v) for n, v in per_function.items()}
    elif per_function is not None:
        single = _money("per-function-usd", per_function, "a number or a table of function name = number")
    return Budget(
        monthly_total_usd=_optional_money(table, "monthly-total-usd"),
        per_function_usd=single,
        per_function_named=named,
        max_increase_usd=_optional_money(table, "max-increase-usd"),
        max_increase_percent=_optional_money(table, "max-increase-percent"),
    )


def _optional_money(table: Mapping, key: str) -> Decimal | None:
    return _money(key, table[key]) if key in table else None


def _money(key: str, value: Any, expected: str = "a number") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ConfigError(f"{BUDGET_PREFIX}.{key} must be {expected}, got {value!r}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{BUDGET_PREFIX}.{key} must be a non-negative number, got {value!r}")
    return number


# -- profile reports ----------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """A `lambdalint profile --format json` report: measured durations per memory size."""

    path: Path
    handler_path: str          # absolute
    handler_function: str
    requests: Decimal
    arch: str
    region: str
    cold_start_rate: Decimal
    tiers: Mapping[int, Mapping[str, Any]]
    function_name: str | None = None  # given as NAME=FILE on the command line


def load_profile(spec: str, cwd: Path) -> Profile:
    """`FILE` or `NAME=FILE`. The report's handler is resolved against the working directory
    (where `lambdalint profile` is normally run, as here)."""
    name, sep, file_part = spec.partition("=")
    path = Path(file_part if sep else spec)
    where = f"--profile-json {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LambdalintError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LambdalintError(f"{where}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tiers"), list) or ":" not in str(data.get("handler", "")):
        raise LambdalintError(f"{where}: not a `lambdalint profile --format json` report (needs handler and tiers)")
    file_name, _, function = str(data["handler"]).rpartition(":")
    tiers = {}
    for tier in data["tiers"]:
        if isinstance(tier, dict) and isinstance(tier.get("memory_mb"), int):
            tiers[tier["memory_mb"]] = tier
    try:
        return Profile(path, os.path.normpath(os.path.join(cwd, file_name)), function,
                       _decimal(data.get("requests_per_month", 0)), str(data.get("arch", "x86_64")),
                       str(data.get("region", DEFAULT_REGION)), _decimal(data.get("cold_start_rate", 0)),
                       tiers, name.strip() if sep else None)
    except (InvalidOperation, TypeError, ValueError):
        raise LambdalintError(f"{where}: requests_per_month and cold_start_rate must be numbers") from None


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("boolean")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# -- the cost table -----------------------------------------------------------------------

@dataclass(frozen=True)
class FunctionCost:
    """One function's row: what was priced, from which inputs, or why it could not be."""

    name: str
    usage: FunctionUsage | None
    breakdown: CostBreakdown | None
    sources: tuple[str, ...]        # "template.yaml", "config", "profile p.json" ...
    notes: tuple[str, ...] = ()
    unpriced: str | None = None     # why there is no figure ("usage unknown", ...)
    memory_mb: int | None = None    # known configuration, shown even without a figure
    arch: str | None = None

    @property
    def total(self) -> Decimal | None:
        return self.breakdown.total_usd if self.breakdown else None


USAGE_UNKNOWN = "usage unknown"


@dataclass(frozen=True)
class CostTable:
    functions: Mapping[str, FunctionCost]
    summary: CostSummary | None

    @property
    def total(self) -> Decimal:
        return self.summary.total_usd if self.summary else Decimal(0)

    @property
    def unknown(self) -> list[str]:
        return [n for n, f in self.functions.items() if f.breakdown is None]


def cost_table(configured: Mapping[str, FunctionUsage], templates: Sequence[FunctionConfig],
               profiles: Sequence[Profile], explicit: Mapping[str, frozenset[str]] | None = None) -> CostTable:
    """Price every function known from the config or the templates (see the module docstring).
    `explicit` names the keys each config entry sets (to tell a stated value from a default)."""
    by_template = {f.name: f for f in templates}
    explicit = explicit or {}
    rows = [_row(name, by_template.get(name), configured.get(name), _profile_for(name, by_template.get(name), profiles),
                 explicit.get(name, frozenset()))
            for name in dict.fromkeys([*by_template, *configured])]
    rows = [_refuse(row) for row in rows]
    usable = {row.name: row.usage for row in rows if row.usage is not None}
    summary = monthly_cost_many(usable) if usable else None
    functions = {row.name: FunctionCost(row.name, row.usage, summary.functions[row.name] if summary and row.usage else None,
                                        row.sources, row.notes, row.unpriced, row.memory_mb, row.arch)
                 for row in rows}
    return CostTable(functions, summary)


@dataclass(frozen=True)
class _Row:
    name: str
    usage: FunctionUsage | None
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    unpriced: str | None
    memory_mb: int | None
    arch: str | None


def _refuse(row: _Row) -> _Row:
    """Drop the usage the cost model refuses (memory out of range, a region without prices), so
    one bad function does not stop the others from being priced."""
    if row.usage is None:
        return row
    try:
        monthly_cost(row.usage, name=row.name)
    except LambdalintError as exc:
        return _Row(row.name, None, row.sources, row.notes, f"not priced: {exc.message}", row.memory_mb, row.arch)
    return row


def _profile_for(name: str, template: FunctionConfig | None, profiles: Sequence[Profile]) -> Profile | None:
    named = [p for p in profiles if p.function_name == name]
    if named:
        return named[-1]
    if template is None or template.handler_path is None:
        return None
    path = os.path.normpath(os.path.abspath(template.handler_path))
    matches = [p for p in profiles if p.function_name is None and p.handler_path == path
               and p.handler_function == template.handler_function]
    return matches[-1] if matches else None


def _row(name: str, template: FunctionConfig | None, config: FunctionUsage | None, profile: Profile | None,
         explicit: frozenset[str] = frozenset()) -> _Row:
    """Gather one function's inputs (template, config, profile) and build its usage if complete."""
    sources: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    if config is not None:
        sources.append("config")
        settings = {"requests": config.requests, "duration_ms": config.duration_ms, "init_ms": config.init_ms,
                    "cold_start_rate": config.cold_start_rate, "region": config.region,
                    "provisioned_concurrency": config.provisioned_concurrency,
                    "provisioned_hours": config.provisioned_hours, "free_tier": config.free_tier,
                    "memory_mb": config.memory_mb, "arch": config.arch,
                    "ephemeral_storage_mb": config.ephemeral_storage_mb}
    if template is not None:
        sources.insert(0, _template_label(template))
        settings.update(_template_settings(template, config, notes, explicit))  # what deploys wins

    def row(usage: FunctionUsage | None, unpriced: str | None = None) -> _Row:
        return _Row(name, usage, tuple(sources), tuple(notes), unpriced, settings.get("memory_mb"), settings.get("arch"))

    if "memory_mb" not in settings:
        return row(None, "memory unknown (an unresolved template value)")
    if profile is not None:
        measured = _from_profile(profile, settings, config is None, notes)
        if measured:
            sources.append(f"profile {profile.path.name}")
            settings.update(measured)
    if "requests" not in settings or "duration_ms" not in settings:
        return row(None, USAGE_UNKNOWN)
    settings.setdefault("arch", "x86_64")
    if "region" not in settings:
        settings["region"] = DEFAULT_REGION
        notes.append(f"region not configured: priced in {DEFAULT_REGION}")
    try:
        return row(FunctionUsage(**settings))
    except UsageError as exc:
        return row(None, f"not priced: {exc.message}")


def _template_label(template: FunctionConfig) -> str:
    from .templates.rules import display

    return display(template.template)


_TEMPLATE_FIELDS = (("memory", "memory_mb", "memory", " MB"), ("arch", "arch", "architecture", ""),
                    ("ephemeral_storage", "ephemeral_storage_mb", "ephemeral-storage", " MB"))


def _template_settings(template: FunctionConfig, config: FunctionUsage | None, notes: list[str],
                       explicit: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Memory, architecture and /tmp size from the template, defaults included: the template is
    what deploys. Where the config entry says otherwise, a note says which value was used."""
    settings: dict[str, Any] = {}
    for attr, key, config_key, unit in _TEMPLATE_FIELDS:
        value = getattr(template, attr)
        if value is None:
            continue  # unresolved in the template: the config's value (if any) is used
        settings[key] = value
        configured = getattr(config, key) if config is not None else None
        if config_key in explicit and configured != value:
            origin = "leaves it at the default" if attr in template.defaulted else "sets"
            notes.append(f"config says {config_key} {configured}{unit}, the template {origin} {value}{unit}: "
                         f"priced with the template's value (it is what deploys)")
    return settings


def _from_profile(profile: Profile, settings: Mapping[str, Any], usage_too: bool, notes: list[str]) -> dict[str, Any]:
    memory = settings["memory_mb"]
    tier = profile.tiers.get(memory)
    if tier is None:
        sizes = ", ".join(f"{m} MB" for m in sorted(profile.tiers)) or "none"
        notes.append(f"{profile.path.name} has no {memory} MB tier (measured: {sizes})")
        return {}
    if tier.get("status", "ok") != "ok" or tier.get("duration_ms_mean") is None:
        notes.append(f"{profile.path.name}: the {memory} MB tier did not run cleanly ({tier.get('status')})")
        return {}
    measured: dict[str, Any] = {"duration_ms": _decimal(tier["duration_ms_mean"])}
    init = tier.get("init_lambda_estimate_ms")
    if init is not None:
        measured["init_ms"] = _decimal(init)
        measured["cold_start_rate"] = settings.get("cold_start_rate") or profile.cold_start_rate
    if usage_too:
        measured.update(requests=profile.requests, region=profile.region)
        if "arch" not in settings:
            measured["arch"] = profile.arch
    return measured


# -- the base ref -------------------------------------------------------------------------

def _git(args: Sequence[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise LambdalintError("--base needs git, which is not installed or not on PATH") from None
    if done.returncode != 0:
        raise LambdalintError(done.stderr.decode("utf-8", "replace").strip() or f"git {' '.join(args)} failed")
    return done.stdout


def base_snapshot(ref: str, cwd: Path, paths: Sequence[Path], config_file: Path | None, target: Path) -> Path:
    """Copy the base commit's templates and config files under `paths` into `target`, with the
    repository's layout; return the directory in `target` that stands for `cwd`.

    Only read-only git commands run (rev-parse, ls-tree, cat-file): nothing is checked out.
    """
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    except LambdalintError as exc:
        raise LambdalintError(f"--base {ref}: not inside a git repository ({exc.message})") from None
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top).decode().strip()
    except LambdalintError:
        raise LambdalintError(f"--base {ref}: no such commit, branch or tag in this repository (in GitHub "
                              f"Actions, check out with fetch-depth: 0 so the base branch is there)") from None
    listing = _git(["ls-tree", "-r", "-z", "--name-only", commit], top).decode("utf-8", "replace")
    prefixes = [_relative(p, cwd, top) for p in paths]
    wanted_config = _relative(config_file, cwd, top) if config_file else None
    for name in filter(None, listing.split("\0")):
        if _wanted(name, prefixes, wanted_config):
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(_git(["cat-file", "blob", f"{commit}:{name}"], top))
    return target / _relative(cwd, cwd, top)


def _relative(path: Path, cwd: Path, top: Path) -> str:
    absolute = Path(os.path.abspath(cwd / path))
    try:
        return absolute.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise LambdalintError(f"{path} is outside the git repository {top}") from None


def _wanted(name: str, prefixes: Sequence[str], config: str | None) -> bool:
    posix = PurePosixPath(name)
    if config is not None and name == config:
        return True
    if not is_template_name(posix.name) or any(part in SKIP_DIRS for part in posix.parts[:-1]):
        return False
    return any(p in ("", ".") or name == p or name.startswith(p.rstrip("/") + "/") for p in prefixes)


# -- verdicts -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """One budget check. passed None: not evaluated (no base, usage unknown)."""

    check: str
    limit: str
    actual: str
    passed: bool | None
    detail: str = ""


def evaluate_budget(budget: Budget, current: CostTable, base: CostTable | None, base_ref: str | None,
                    base_error: str | None = None) -> list[Verdict]:
    from .cli_cost import money

    verdicts: list[Verdict] = []
    if budget.monthly_total_usd is not None:
        verdicts.append(Verdict("monthly total", money(budget.monthly_total_usd), money(current.total),
                                current.total <= budget.monthly_total_usd, _unknown_note(current)))
    limits = {name: budget.per_function_usd for name in current.functions} if budget.per_function_usd is not None else {}
    limits.update(budget.per_function_named)
    for name, limit in limits.items():
        assert limit is not None
        row = current.functions[name]
        if row.total is None:
            verdicts.append(Verdict(f"function {name}", money(limit), "usage unknown", None, "not evaluated"))
        else:
            verdicts.append(Verdict(f"function {name}", money(limit), money(row.total), row.total <= limit))
    verdicts += _increase_verdicts(budget, current, base, base_ref, base_error)
    return verdicts


def _increase_verdicts(budget: Budget, current: CostTable, base: CostTable | None, base_ref: str | None,
                       base_error: str | None) -> list[Verdict]:
    from .cli_cost import money

    wanted = [(k, v) for k, v in (("usd", budget.max_increase_usd), ("percent", budget.max_increase_percent)) if v is not None]
    if not wanted:
        return []
    label = f"increase vs {base_ref}" if base_ref else "increase vs base"
    if base is None:
        why = base_error or "no --base given"
        return [Verdict(f"{label} ({kind})", _limit_text(kind, limit), "-", None, f"not evaluated: {why}")
                for kind, limit in wanted]
    delta = current.total - base.total
    dropped = [n for n, row in base.functions.items()
               if row.total is not None and n in current.functions and current.functions[n].total is None]
    caveat = (f"{', '.join(dropped)} priced at the base but usage unknown now: not in this total"
              if dropped else "")
    verdicts = []
    for kind, limit in wanted:
        if kind == "usd":
            verdicts.append(Verdict(label, money(limit), signed_money(delta), delta <= limit, caveat))
        elif base.total == 0:
            verdicts.append(Verdict(f"{label} (%)", _limit_text(kind, limit), signed_money(delta), delta <= 0,
                                    "the base costs $0.00, so any increase exceeds a percentage limit"))
        else:
            percent = delta / base.total * HUNDRED
            verdicts.append(Verdict(f"{label} (%)", _limit_text(kind, limit), f"{percent:+.1f}%", percent <= limit,
                                    caveat))
    return verdicts


def _limit_text(kind: str, limit: Decimal) -> str:
    from .cli_cost import money

    return money(limit) if kind == "usd" else f"{limit:f}%"


def _unknown_note(table: CostTable) -> str:
    unknown = table.unknown
    return f"without {len(unknown)} function(s) of unknown usage" if unknown else ""


def signed_money(amount: Decimal) -> str:
    from .cli_cost import money

    return ("+" if amount > 0 else "-" if amount < 0 else "±") + money(abs(amount))


# -- the whole run ------------------------------------------------------------------------

@dataclass
class CiResult:
    findings: list[Finding]
    files_checked: int
    fail_on: str
    cost: CostTable
    verdicts: list[Verdict]
    base: CostTable | None = None
    base_ref: str | None = None
    base_error: str | None = None
    template_functions: list[FunctionConfig] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        """Findings at or above --fail-on."""
        if self.fail_on == "never":
            return []
        rank = Severity(self.fail_on).rank
        return [f for f in self.findings if f.severity.rank >= rank]

    @property
    def failed_budgets(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.passed is False]

    @property
    def passed(self) -> bool:
        return not self.blocking and not self.failed_budgets

    def delta(self, name: str) -> Decimal | None:
        """This function's change against the base (a new function counts from $0)."""
        if self.base is None:
            return None
        now, before = self.cost.functions.get(name), self.base.functions.get(name)
        now_total = now.total if now is not None else Decimal(0)
        before_total = before.total if before is not None else Decimal(0)
        if now_total is None or before_total is None:
            return None  # usage unknown on one side
        return now_total - before_total

    def to_dict(self) -> dict[str, Any]:
        def row(cost: FunctionCost) -> dict[str, Any]:
            return {"name": cost.name, "monthly_usd": None if cost.total is None else float(cost.total),
                    "sources": list(cost.sources), "notes": list(cost.notes), "unpriced": cost.unpriced,
                    "breakdown": cost.breakdown.to_dict() if cost.breakdown else None,
                    "change_usd": None if (d := self.delta(cost.name)) is None else float(d)}

        base = None
        if self.base is not None:
            base = {"ref": self.base_ref, "monthly_total_usd": float(self.base.total),
                    "functions": {n: (None if f.total is None else float(f.total)) for n, f in self.base.functions.items()}}
        return {
            "passed": self.passed, "fail_on": self.fail_on, "files_checked": self.files_checked,
            "findings": [f.to_dict() for f in self.findings],
            "blocking_findings": len(self.blocking),
            "cost": {"monthly_total_usd": float(self.cost.total),
                     "functions": [row(c) for c in self.cost.functions.values()]},
            "base": base, "base_error": self.base_error,
            "change_usd": None if self.base is None else float(self.cost.total - self.base.total),
            "budget": [{"check": v.check, "limit": v.limit, "actual": v.actual, "passed": v.passed,
                        "detail": v.detail} for v in self.verdicts],
        }


def _as_pyproject(path: Path) -> dict[str, Any]:
    """A config file as a pyproject-shaped dict (a --config file may hold the keys at top level)."""
    data = load_toml(Path(path))
    if Path(path).name == "pyproject.toml" or "tool" in data:
        return data
    return {"tool": {"lambdalint": data}}


def budget_from_config(config: Config) -> Budget:
    if config.source is None or not Path(config.source).is_file():
        return Budget()
    table = _as_pyproject(config.source).get("tool", {}).get("lambdalint", {})
    return budget_from_table(table.get("budget") if isinstance(table, dict) else None)


def check_profiles_used(profiles: Sequence[Profile], cost: CostTable, templates: Sequence[FunctionConfig]) -> None:
    """A profile report that matches no function is a mistake the user should hear about (one
    that matches but lacks the function's memory size gets a note in the report instead)."""
    matched = {id(p) for t in templates if (p := _profile_for(t.name, t, profiles)) is not None}
    for profile in profiles:
        if profile.function_name is not None and profile.function_name not in cost.functions:
            known = ", ".join(cost.functions) or "none"
            raise LambdalintError(f"--profile-json {profile.function_name}={profile.path}: no function named "
                                  f"{profile.function_name!r} (known: {known})")
        if profile.function_name is None and id(profile) not in matched:
            raise LambdalintError(f"--profile-json {profile.path}: no template function has the handler "
                                  f"{os.path.relpath(profile.handler_path)}:{profile.handler_function}; "
                                  f"name the function instead: --profile-json NAME={profile.path}")


def check_budget_names(budget: Budget, cost: CostTable) -> None:
    """A per-function limit for a function that does not exist is a typo, not a pass."""
    for name in budget.per_function_named:
        if name not in cost.functions:
            known = ", ".join(cost.functions) or "none"
            raise ConfigError(f"{BUDGET_PREFIX}.per-function-usd.{name}: no such function (known: {known})")


def price_tree(paths: Sequence[Path], config_source: Path | None, profiles: Sequence[Profile],
               exclude: Sequence[str] = (), name_root: Path | None = None
               ) -> tuple[CostTable, list[FunctionConfig], list[Finding]]:
    """The cost table of one tree: its templates under `paths` and its config file."""
    functions, problems = load_functions(paths, exclude, name_root)
    configured: dict[str, FunctionUsage] = {}
    explicit: dict[str, frozenset[str]] = {}
    if config_source is not None and config_source.is_file():
        data = _as_pyproject(config_source)
        configured = functions_from_pyproject(data)
        entries = data.get("tool", {}).get("lambdalint", {}).get("functions", {})
        explicit = {str(n): frozenset(e) for n, e in entries.items() if isinstance(e, Mapping)}
    return cost_table(configured, functions, profiles, explicit), functions, problems


def base_costs(ref: str, cwd: Path, paths: Sequence[Path], config: Config, profiles: Sequence[Profile],
               explicit_config: Path | None) -> CostTable:
    """The cost table of the base commit's configuration (same paths, same profiles)."""
    config_file = explicit_config or (Path(config.source) if config.source else None)
    with tempfile.TemporaryDirectory(prefix="lambdalint-base-") as tmp:
        base_cwd = base_snapshot(ref, cwd, paths, config_file, Path(tmp))
        base_paths = [base_cwd / _relative_to_cwd(p, cwd) for p in paths]
        base_config = None
        if config_file is not None:
            relative = Path(os.path.relpath(os.path.abspath(cwd / config_file), cwd))
            base_config = base_cwd / relative
        existing = [p for p in base_paths if p.exists()]
        # name_root: functions that share a name get the same path prefix as in the current tree
        table, _, _ = price_tree(existing, base_config, profiles, config.exclude, name_root=base_cwd)
        return table


def _relative_to_cwd(path: Path, cwd: Path) -> str:
    return os.path.relpath(os.path.abspath(cwd / path), cwd)


def run_ci(paths: Sequence[Path], config: Config, enabled: frozenset[str], *, base_ref: str | None = None,
           fail_on: str = "error", profiles: Sequence[Profile] = (), explicit_config: Path | None = None,
           jobs: int = 0, today: dt.date | None = None) -> CiResult:
    """Check the code (with the templates' handlers), price the functions, compare with the base,
    and judge the budgets."""
    from .engine.runner import Checker
    from .templates.discover import handlers as template_handlers
    from .templates.discover import inside
    from .templates.rules import filter_findings, template_findings

    if fail_on not in FAIL_ON:
        raise LambdalintError(f"--fail-on must be one of {', '.join(FAIL_ON)}")
    budget = budget_from_config(config)
    cwd = Path.cwd()
    cost, functions, problems = price_tree(paths, Path(config.source) if config.source else None, profiles,
                                           config.exclude)
    check_budget_names(budget, cost)
    check_profiles_used(profiles, cost, functions)
    # Handlers whose file is outside PATHS are left out: the engine would report them missing.
    handlers = [h for h in template_handlers(functions) if inside(h.path, paths)]
    report = Checker(config, enabled, jobs=jobs).run(list(paths), handlers=handlers)
    own = filter_findings(problems + template_findings(functions, today), enabled, config.severity,
                          config.per_file_ignores, config.root)
    findings = sorted(set(report.findings) | set(own))
    base = base_error = None
    if base_ref:
        try:
            base = base_costs(base_ref, cwd, paths, config, profiles, explicit_config)
        except ConfigError as exc:  # a broken base config must not block the PR that fixes it
            base_error = f"the base configuration is invalid: {exc.message}"
    verdicts = evaluate_budget(budget, cost, base, base_ref, base_error)
    return CiResult(findings, report.files_checked, fail_on, cost, verdicts, base, base_ref, base_error, functions)


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts


__all__ = [
    "Budget", "CiResult", "CostTable", "FunctionCost", "Profile", "Verdict", "base_snapshot",
    "budget_from_table", "cost_table", "evaluate_budget", "load_profile", "run_ci", "signed_money",
]
