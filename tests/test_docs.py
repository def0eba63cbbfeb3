from pathlib import Path

from lambdalint.docs import reference

ROOT = Path(__file__).resolve().parent.parent


def test_rule_reference_is_up_to_date():
    """docs/rules.md is generated from rules/*.toml: regenerate with
    `python -m lambdalint.docs > docs/rules.md`."""
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == reference()
