"""The LAM4xx rule data and catalogs are well-formed, and agree with the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lambdalint.deps.checks import CODES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RULES = Path(__file__).resolve().parent.parent / "rules"
KEYS = {"code", "name", "severity", "summary", "rationale", "fix", "bad", "good", "known_problems",
        "default_enabled"}
OPTIONAL = {"references"}


def test_lam4xx_rules_have_the_same_keys_and_match_the_checker() -> None:
    rules = tomllib.loads((RULES / "lam4xx.toml").read_text())["rule"]
    assert tuple(r["code"] for r in rules) == CODES
    for rule in rules:
        assert KEYS <= set(rule) <= KEYS | OPTIONAL, rule["code"]
        assert rule["severity"] in ("error", "warning", "info")
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", rule["name"])
        assert isinstance(rule["default_enabled"], bool)
        assert "\n" not in rule["summary"].strip()
        assert "MB" in rule["rationale"] or "limit" in rule["rationale"]


def test_lam4xx_is_read_by_the_rule_catalog() -> None:
    from lambdalint.catalog import all_rules

    rules = all_rules()
    for code in CODES:
        assert rules[code].name and rules[code].fix


def test_catalogs_parse() -> None:
    catalogs = RULES / "catalogs"
    dev = tomllib.loads((catalogs / "dev_tools.toml").read_text())
    assert "pytest" in dev["names"] and "black" in dev["names"]
    names = tomllib.loads((catalogs / "import_names.toml").read_text())
    assert names["distributions"]["pyyaml"] == ["yaml"]
    assert all(isinstance(v, list) for v in names["distributions"].values())
    sizes = tomllib.loads((catalogs / "package_sizes.toml").read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sizes["as_of"])
    for name, entry in sizes["packages"].items():
        assert isinstance(entry["unzipped_bytes"], int) and isinstance(entry["zipped_bytes"], int), name
