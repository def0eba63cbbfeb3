"""The fixture corpus (fixtures/handlers): realistic Lambda projects whose lines carry
`# expect: LAMxxx` comments, written independently of the rules. The engine must report exactly
those: every expected finding (recall) and nothing else (no false positives on the clean
projects and the tricky-but-correct code)."""

from __future__ import annotations

from pathlib import Path

from lambdalint.testing import check_tree, expectations

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = Path("fixtures/handlers")


def _expected() -> set[tuple[str, int, str]]:
    wanted: set[tuple[str, int, str]] = set()
    for path in sorted(HANDLERS.rglob("*.py")):
        wanted |= expectations(path, str(path))
    return wanted


def test_fixture_corpus_exact():
    wanted = _expected()
    got = {(f.path, f.line, f.code) for f in check_tree(HANDLERS)}
    assert len(wanted) >= 80
    assert not (wanted - got), f"missed: {sorted(wanted - got)}"
    assert not (got - wanted), f"false positives: {sorted(got - wanted)}"


def test_fixture_corpus_covers_every_static_family():
    families = {code[3] for _, _, code in _expected()}
    assert {"1", "2", "3", "5", "9"} <= families


def test_clean_projects_have_no_findings():
    for project in sorted(HANDLERS.glob("*_clean")):
        findings = check_tree(project)
        assert findings == [], f"{project}: {findings}"
