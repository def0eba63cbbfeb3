"""`--format sarif` against the published SARIF 2.1.0 schema and what GitHub code scanning needs;
`--format github` workflow commands.

tests/data/sarif-schema-2.1.0.json is a copy of the published SARIF 2.1.0 schema (origin in
tests/data/README.md): tests run without network.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from lambdalint import output
from lambdalint.catalog import all_rules
from lambdalint.cli import main
from lambdalint.findings import Finding, Severity

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
HANDLER = '''import requests

CACHE = {}


def handler(event, context):
    CACHE[event["id"]] = event
    return requests.get("https://example.com").status_code
'''


def validate(document: dict) -> None:
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator = validator_class(SCHEMA, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def sarif_of(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", "--format", "sarif", "--no-progress", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_fixture_report_is_valid_sarif_with_what_github_needs():
    code, log = sarif_of("fixtures/handlers/orders_sqs", "fixtures/handlers/broken", "fixtures/handlers/payments_stripe")
    assert code == 1
    validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "lambdalint"
    assert {r["id"] for r in rules} >= set(all_rules())
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["markdown"]
        assert rule["name"] == all_rules()[rule["id"]].name
        assert len(rule["properties"]["tags"]) <= 20  # GitHub's cap per rule
    results = run["results"]
    assert {"LAM101", "LAM901", "LAM902", "LAM201"} <= {r["ruleId"] for r in results}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert uri.startswith("fixtures/handlers/") and "\\" not in uri
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
    fingerprints = [r["partialFingerprints"]["lambdalint/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_clean_run_is_valid_sarif_with_no_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    code, log = sarif_of()
    assert code == 0 and log["runs"][0]["results"] == []
    validate(log)


def test_schema_copy_is_live():
    _, log = sarif_of("fixtures/handlers/orders_sqs")
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(log)


def test_fingerprints_survive_lines_added_above(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "app.py"
    target.write_text(HANDLER)
    _, before = sarif_of()
    target.write_text('"""Orders."""\nimport os\n\nREGION = os.environ["AWS_REGION"]\n' + HANDLER)
    _, after = sarif_of()

    def by_fingerprint(log):
        return {r["partialFingerprints"]["lambdalint/v1"]: (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
                for r in log["runs"][0]["results"]}

    old, new = by_fingerprint(before), by_fingerprint(after)
    assert set(old) == set(new) and len(old) == 2
    assert all(new[fp][1] == old[fp][1] + 4 for fp in old)


def test_output_file_and_summary_on_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(HANDLER)
    result = CliRunner().invoke(main, ["check", "--format", "sarif", "--output", "out.sarif", "--no-progress"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Found 2 findings" in result.stderr
    validate(json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8")))
    missing = CliRunner().invoke(main, ["check", "--format", "sarif", "--output", "no/such/dir/out.sarif"])
    assert missing.exit_code == 2 and "cannot write the report" in missing.stderr


def test_levels_regions_and_paths_outside_the_root(tmp_path):
    findings = [
        Finding("pkg/app.py", 3, 5, "LAM406", "unused", Severity.INFO, end_line=3, end_column=9),
        Finding(str(tmp_path / "elsewhere.py"), 1, 1, "LAM999", "not in the catalog", Severity.ERROR),
    ]
    log = json.loads(output.sarif(findings, all_rules(), "9.9", root=str(tmp_path / "repo")))
    validate(log)
    first, second = log["runs"][0]["results"]
    assert first["level"] == "note"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 9}
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file://")
    assert log["runs"][0]["tool"]["driver"]["rules"][second["ruleIndex"]]["id"] == "LAM999"


def test_github_annotations_escape_and_levels():
    findings = [
        Finding("a,b:c.py", 2, 3, "LAM101", "50% of it\nleaks", Severity.ERROR, name="mutable-global-mutated",
                end_line=2, end_column=9),
        Finding("app.py", 4, 1, "LAM406", "unused", Severity.INFO, name="unused-dependency"),
        Finding("x.py", 1, 1, "LAM901", "does not parse", Severity.ERROR),
    ]
    lines = output.github(findings).splitlines()
    assert lines[0] == ("::error file=a%2Cb%3Ac.py,line=2,col=3,endLine=2,endColumn=9,"
                        "title=LAM101 mutable-global-mutated::50%25 of it%0Aleaks")
    assert lines[1].startswith("::notice file=app.py,line=4,col=1,title=LAM406 unused-dependency::")
    assert lines[2] == "::error file=x.py,line=1,col=1,title=LAM901::does not parse"
