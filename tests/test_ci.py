"""`lambdalint ci` through click's CliRunner, on throwaway git repositories: the cost diff against a
base commit, budgets, --fail-on, the Markdown report and $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import json
import subprocess
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdalint import output
from lambdalint.ci import Budget, budget_from_table
from lambdalint.cli_ci import ci_command
from lambdalint.errors import ConfigError

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    CodeUri: src/
    MemorySize: 512
    Timeout: 30
Resources:
  OrdersQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
  QueueFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.queue_handler
      Events:
        Orders: {Type: SQS, Properties: {Queue: !GetAtt OrdersQueue.Arn}}
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.api_handler
      Events:
        Get: {Type: HttpApi}
"""
APP = """
import json


def queue_handler(event, context):
    return {"ok": True}


def api_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
"""
PYPROJECT = """
[project]
name = "orders"

[tool.lambdalint.functions.QueueFunction]
memory = 512
requests = 3_000_000
duration-ms = 120

[tool.lambdalint.functions.ApiFunction]
memory = 512
requests = 10_000_000
duration-ms = 45.5

[tool.lambdalint.functions.Nightly]
memory = 256
requests = 30
duration-ms = 60_000
{budget}
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def commit(repo: Path, files: dict[str, str], message: str) -> None:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def project(tmp_path: Path, budget: str = "", template: str = TEMPLATE, app: str = APP) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "symbolic-ref", "HEAD", "refs/heads/main")
    commit(repo, {"template.yaml": template, "src/app.py": app,
                  "pyproject.toml": PYPROJECT.format(budget=budget)}, "base")
    return repo


def run(repo: Path, monkeypatch, *args: str, env: dict | None = None):
    monkeypatch.chdir(repo)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output by default
    except TypeError:
        runner = CliRunner()
    return runner.invoke(ci_command, list(args), catch_exceptions=False)


BUDGET_INCREASE = "\n[tool.lambdalint.budget]\nmax-increase-usd = 1\nmax-increase-percent = 50\n"


def test_memory_increase_in_the_template_fails_max_increase(tmp_path, monkeypatch):
    repo = project(tmp_path, BUDGET_INCREASE)
    commit(repo, {"template.yaml": TEMPLATE.replace("MemorySize: 512", "MemorySize: 1024")}, "more memory")
    result = run(repo, monkeypatch, "--base", "HEAD~1")
    assert result.exit_code == 1, result.output
    report = result.stdout
    assert "| function | memory | arch | requests/mo | avg duration | GB-s | monthly | base | change |" in report
    assert "memory 512 → 1,024 MB" in report
    row = next(line for line in report.splitlines() if line.startswith("| QueueFunction "))
    assert "1,024 MB" in row and "+$" in row
    assert "| increase vs HEAD~1 | $1.00 |" in report and "❌ over" in report
    # The repository was only read: no checkout, no worktree, nothing left behind.
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 1


def test_memory_increase_in_pyproject_shows_in_the_diff(tmp_path, monkeypatch):
    repo = project(tmp_path, BUDGET_INCREASE)
    before = PYPROJECT.format(budget=BUDGET_INCREASE)
    commit(repo, {"pyproject.toml": before.replace("memory = 256", "memory = 10240").replace(
        "requests = 30\n", "requests = 3_000_000\n")}, "nightly grows")
    result = run(repo, monkeypatch, "--base", "HEAD~1", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    nightly = next(f for f in data["cost"]["functions"] if f["name"] == "Nightly")
    # The free tier is shared, so the other functions' figures move a little too.
    assert nightly["change_usd"] > 1000 and data["change_usd"] > 1000
    failed = [v["check"] for v in data["budget"] if v["passed"] is False]
    assert failed == ["increase vs HEAD~1", "increase vs HEAD~1 (%)"]


def test_no_change_passes_the_increase_budget(tmp_path, monkeypatch):
    repo = project(tmp_path, BUDGET_INCREASE)
    commit(repo, {"src/app.py": APP + "\n# a comment\n"}, "code only")
    result = run(repo, monkeypatch, "--base", "HEAD~1", "--format", "text")
    assert result.exit_code == 0, result.stdout
    assert "increase vs HEAD~1: ±$0.00 (limit $1.00) pass" in result.stdout
    assert result.stdout.rstrip().endswith("lambdalint ci: passed")


def test_per_function_budget(tmp_path, monkeypatch):
    repo = project(tmp_path, "\n[tool.lambdalint.budget]\nper-function-usd = { ApiFunction = 1 }\nmonthly-total-usd = 100\n")
    result = run(repo, monkeypatch)
    assert result.exit_code == 1
    assert "| function ApiFunction | $1.00 |" in result.stdout and "❌ over" in result.stdout
    assert "| monthly total | $100.00 |" in result.stdout
    repo2 = project(tmp_path / "two", "\n[tool.lambdalint.budget]\nper-function-usd = 50\n")
    result = run(repo2, monkeypatch)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.count("| ✅ pass |") == 3  # every function under the same limit


WARNING_ONLY = TEMPLATE.replace("VisibilityTimeout: 180", "VisibilityTimeout: 60")  # LAM606: 60 < 6 x 30


def test_fail_on_decides_which_findings_fail(tmp_path, monkeypatch):
    repo = project(tmp_path, template=WARNING_ONLY)
    result = run(repo, monkeypatch, "--fail-on", "error")
    assert result.exit_code == 0, result.stdout
    assert "| LAM606 | `sqs-visibility-under-recommended` | warning | 1 |" in result.stdout
    assert run(repo, monkeypatch, "--fail-on", "warning").exit_code == 1
    assert run(repo, monkeypatch, "--fail-on", "never").exit_code == 0


def test_idempotency_from_the_template_fails_the_gate(tmp_path, monkeypatch):
    app = APP.replace('return {"ok": True}', 'ses.send_email(Source="a@example.com", Destination={}, Message={})\n'
                                             '    return {"ok": True}')
    repo = project(tmp_path, app="import boto3\nses = boto3.client('ses')\n" + app)
    result = run(repo, monkeypatch, "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=src/app.py,line=8,") and "LAM201" in result.stdout


def test_step_summary_gets_the_markdown_appended(tmp_path, monkeypatch):
    repo = project(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result = run(repo, monkeypatch, "--format", "text", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n") and "## lambdalint: ✅ passed" in text
    assert "| QueueFunction | 512 MB | x86_64 | 3,000,000 | 120 ms |" in text
    assert "| **total** |" in text
    run(repo, monkeypatch, "--no-summary", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8") == text


def test_output_file_and_usage_unknown(tmp_path, monkeypatch):
    repo = project(tmp_path)
    write(repo, {"pyproject.toml": "[project]\nname = 'x'\n"})
    result = run(repo, monkeypatch, "--output", "report.md")
    assert result.exit_code == 0 and result.stdout == ""
    report = (repo / "report.md").read_text(encoding="utf-8")
    assert "| QueueFunction | 512 MB | x86_64 | usage unknown |" in report
    assert "usage unknown for `QueueFunction`, `ApiFunction`" in report


def test_profile_json_gives_the_measured_duration(tmp_path, monkeypatch):
    repo = project(tmp_path)
    write(repo, {"pyproject.toml": "[project]\nname = 'x'\n"})
    profile = {"handler": "src/app.py:queue_handler", "requests_per_month": 2_000_000, "arch": "x86_64",
               "region": "eu-west-1", "cold_start_rate": 0.01,
               "tiers": [{"memory_mb": 256, "duration_ms_mean": 300.0, "status": "ok"},
                         {"memory_mb": 512, "duration_ms_mean": 150.25, "init_lambda_estimate_ms": 90.0, "status": "ok"}]}
    (repo / "queue.json").write_text(json.dumps(profile), encoding="utf-8")
    (repo / "api.json").write_text(json.dumps({**profile, "handler": "elsewhere.py:x"}), encoding="utf-8")
    result = run(repo, monkeypatch, "--profile-json", "queue.json", "--profile-json", "ApiFunction=api.json",
                 "--format", "json")
    assert result.exit_code == 0, result.stdout
    rows = {f["name"]: f for f in json.loads(result.stdout)["cost"]["functions"]}
    inputs = rows["QueueFunction"]["breakdown"]["inputs"]
    assert (inputs["duration_ms"], inputs["requests"], inputs["region"], inputs["init_ms"]) == (150.25, 2000000, "eu-west-1", 90)
    assert rows["QueueFunction"]["sources"] == ["template.yaml", "profile queue.json"]
    assert rows["ApiFunction"]["monthly_usd"] is not None  # named explicitly: NAME=FILE
    result = run(repo, monkeypatch, "--profile-json", "api.json")
    assert result.exit_code == 2 and "no template function has the handler elsewhere.py:x" in result.stderr
    result = run(repo, monkeypatch, "--profile-json", "Typo=api.json")
    assert result.exit_code == 2 and "no function named 'Typo'" in result.stderr
    (repo / "bad.json").write_text("{}", encoding="utf-8")
    result = run(repo, monkeypatch, "--profile-json", "bad.json")
    assert result.exit_code == 2 and "not a `lambdalint profile --format json` report" in result.stderr


@pytest.mark.parametrize("budget, message", [
    ("max-increase = 5", "tool.lambdalint.budget.max-increase"),
    ("monthly-total-usd = 'lots'", "tool.lambdalint.budget.monthly-total-usd must be a number"),
    ("max-increase-percent = -1", "tool.lambdalint.budget.max-increase-percent must be a non-negative"),
    ("per-function-usd = { Missing = 3 }", "tool.lambdalint.budget.per-function-usd.Missing: no such function"),
    ("per-function-usd = [1]", "tool.lambdalint.budget.per-function-usd must be a number or a table"),
])
def test_bad_budget_config_exits_2_naming_the_key(tmp_path, monkeypatch, budget, message):
    repo = project(tmp_path, f"\n[tool.lambdalint.budget]\n{budget}\n")
    result = run(repo, monkeypatch)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unknown_base_ref_and_no_repository_exit_2(tmp_path, monkeypatch):
    repo = project(tmp_path)
    result = run(repo, monkeypatch, "--base", "origin/does-not-exist")
    assert result.exit_code == 2 and "--base origin/does-not-exist: no such commit" in result.stderr
    plain = tmp_path / "plain"
    write(plain, {"template.yaml": TEMPLATE, "src/app.py": APP})
    result = run(plain, monkeypatch, "--base", "main")
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr


def test_invalid_base_config_does_not_block_the_fix(tmp_path, monkeypatch):
    repo = project(tmp_path)
    commit(repo, {"pyproject.toml": "[tool.lambdalint.functions.Broken]\nmemory = 'big'\n"}, "oops")
    commit(repo, {"pyproject.toml": PYPROJECT.format(budget=BUDGET_INCREASE)}, "fix")
    result = run(repo, monkeypatch, "--base", "HEAD~1")
    assert result.exit_code == 0, result.stdout
    assert "not evaluated: the base configuration is invalid" in result.stdout


def test_new_function_counts_from_zero(tmp_path, monkeypatch):
    repo = project(tmp_path, BUDGET_INCREASE)
    added = PYPROJECT.format(budget=BUDGET_INCREASE) + "\n[tool.lambdalint.functions.Report]\nmemory = 3008\nrequests = 9_000_000\nduration-ms = 800\n"
    # budget tables must stay last in TOML order for this string concatenation to be valid
    added = added.replace(BUDGET_INCREASE, "") + BUDGET_INCREASE
    commit(repo, {"pyproject.toml": added}, "new function")
    result = run(repo, monkeypatch, "--base", "HEAD~1")
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("| Report "))
    assert "| new |" in row


def test_sarif_uses_the_output_module_when_it_has_it(tmp_path, monkeypatch):
    repo = project(tmp_path, template=WARNING_ONLY)
    result = run(repo, monkeypatch, "--format", "sarif")
    if getattr(output, "sarif", None) is None:
        assert result.exit_code == 2 and "--format sarif is not available" in result.stderr
    else:
        assert result.exit_code == 0
        assert json.loads(result.stdout)["runs"][0]["results"][0]["ruleId"] == "LAM606"


def test_help_explains_every_option():
    result = CliRunner().invoke(ci_command, ["--help"])
    for option in ("--base", "--fail-on", "--format", "--output", "--profile-json", "--config", "--summary"):
        assert option in result.output
    assert "max-increase-percent" in result.output


def test_budget_table_values_are_exact():
    budget = budget_from_table({"monthly-total-usd": 12.3, "per-function-usd": {"a": 1}, "max-increase-percent": 5})
    assert budget.monthly_total_usd == Decimal("12.3") and budget.per_function_named == {"a": Decimal(1)}
    assert budget_from_table(None) == Budget() and Budget().empty
    with pytest.raises(ConfigError, match="budget must be a table"):
        budget_from_table([1])
