"""Baselines: record today's findings, then fail only on new ones, whatever moves up or down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdalint import baseline
from lambdalint.cli import main
from lambdalint.findings import Finding

LEGACY = '''import requests

SEEN = []


def handler(event, context):
    SEEN.append(event["id"])
    requests.get("https://example.com/a")
    return len(SEEN)
'''


def check(*args: str):
    return CliRunner().invoke(main, ["check", "--no-progress", *args])


@pytest.fixture
def legacy(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "app.py").write_text(LEGACY)
    return tmp_path


def codes_and_lines(result) -> list[tuple[str, int]]:
    return [(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def test_write_then_check_is_clean(legacy):
    written = check("--write-baseline", "baseline.json")
    assert written.exit_code == 0
    assert "recorded 2 findings in baseline.json" in written.stderr
    data = json.loads((legacy / "baseline.json").read_text())
    assert data["version"] == baseline.FORMAT_VERSION
    assert sorted((e["code"], e["path"]) for e in data["findings"]) == [("LAM101", "svc/app.py"), ("LAM303", "svc/app.py")]
    result = check("--baseline", "baseline.json")
    assert result.exit_code == 0, result.output
    assert "2 findings recorded in baseline.json not shown" in result.stderr


def test_only_new_findings_after_lines_shift(legacy):
    assert check("--write-baseline", "baseline.json").exit_code == 0
    source = LEGACY.replace("import requests\n", '"""Legacy service."""\nimport os\nimport requests\n\nTABLE = os.environ["TABLE"]\n')
    source = source.replace("    return len(SEEN)", '    requests.post("https://example.com/b", json=event)\n    return len(SEEN)')
    (legacy / "svc" / "app.py").write_text(source)
    result = check("--format", "json", "--baseline", "baseline.json")
    assert result.exit_code == 1
    assert codes_and_lines(result) == [("LAM303", 13)]  # the new POST; the old two moved down 4 lines
    assert check("--baseline", "baseline.json", "--exit-zero").exit_code == 0


def test_fixed_findings_are_reported_as_stale(legacy):
    assert check("--write-baseline", "baseline.json").exit_code == 0
    (legacy / "svc" / "app.py").write_text(LEGACY.replace('    SEEN.append(event["id"])\n', ""))
    result = check("--baseline", "baseline.json")
    assert result.exit_code == 0
    assert "1 finding recorded in baseline.json no longer occur" in result.stderr


def test_baseline_matches_from_another_directory(legacy, monkeypatch):
    assert check("--write-baseline", "baseline.json").exit_code == 0
    monkeypatch.chdir(legacy / "svc")
    result = check(".", "--baseline", "../baseline.json")
    assert result.exit_code == 0, result.output


def test_identical_lines_are_counted(legacy):
    doubled = LEGACY.replace('    return len(SEEN)', '    requests.get("https://example.com/a")\n    return len(SEEN)')
    (legacy / "svc" / "app.py").write_text(doubled)
    assert check("--write-baseline", "baseline.json").exit_code == 0
    tripled = doubled.replace('    return len(SEEN)', '    requests.get("https://example.com/a")\n    return len(SEEN)')
    (legacy / "svc" / "app.py").write_text(tripled)
    result = check("--format", "json", "--baseline", "baseline.json")
    assert result.exit_code == 1
    assert [code for code, _ in codes_and_lines(result)] == ["LAM303"]


@pytest.mark.parametrize("content, message", [
    (None, "baseline not found"),
    ("{", "not valid JSON"),
    ('{"version": 99, "findings": []}', "not a lambdalint baseline"),
    ('{"version": 1, "findings": [{"code": "LAM101"}]}', "has no fingerprint"),
])
def test_unusable_baseline_is_a_usage_error(legacy, content, message):
    if content is not None:
        (legacy / "baseline.json").write_text(content)
    result = check("--baseline", "baseline.json")
    assert result.exit_code == 2
    assert message in result.stderr


def test_rewriting_with_both_options_records_everything(legacy):
    assert check("--write-baseline", "baseline.json").exit_code == 0
    (legacy / "svc" / "app.py").write_text(LEGACY + '\n\ndef other(event, context):\n    requests.get("x")\n')
    assert check("--baseline", "baseline.json", "--write-baseline", "baseline.json").exit_code == 0
    assert len(json.loads((legacy / "baseline.json").read_text())["findings"]) == 3
    assert check("--baseline", "baseline.json").exit_code == 0


def test_identity_ignores_message_and_position(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n\n\nx = 1\n")
    a = Finding("app.py", 1, 1, "LAM101", "old wording (900 s)")
    b = Finding("app.py", 4, 3, "LAM101", "new wording (30 s)")
    assert baseline.fingerprints([a]) == baseline.fingerprints([b])
    assert len(set(baseline.fingerprints([a, b]))) == 2  # same text twice: told apart by rank
    assert baseline.write(Path("b.json"), [a]) == 1
    accepted = baseline.read(Path("b.json"))
    assert baseline.filter_new([b], accepted) == []
    assert baseline.filter_new([a, b], accepted) == [b]
