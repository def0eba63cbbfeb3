"""Which rules run: defaults, then select / extend-select / ignore (CLI flags win over config)."""

from __future__ import annotations

from typing import Iterable

from .catalog import RuleInfo, all_rules


def _matches(rule: RuleInfo, pattern: str) -> bool:
    return rule.code.startswith(pattern.upper()) or rule.name == pattern


def enabled_codes(select: Iterable[str] = (), ignore: Iterable[str] = (), extend_select: Iterable[str] = ()) -> frozenset[str]:
    rules = all_rules().values()
    select, ignore, extend_select = list(select), list(ignore), list(extend_select)
    if select:
        chosen = {r.code for r in rules if any(_matches(r, p) for p in select)}
    else:
        chosen = {r.code for r in rules if r.default_enabled}
    chosen |= {r.code for r in rules if any(_matches(r, p) for p in extend_select)}
    chosen -= {r.code for r in rules if any(_matches(r, p) for p in ignore)}
    return frozenset(chosen)
