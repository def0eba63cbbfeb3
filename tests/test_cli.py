"""The command line as users run it: the installed console script, from another directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = '''
import boto3, requests
SEEN = []

def lambda_handler(event, context):
    s3 = boto3.client("s3")
    for record in event["Records"]:
        SEEN.append(record["messageId"])
    return requests.get("https://api.example.com").status_code
'''
CLEAN = '''
import boto3
s3 = boto3.client("s3")

def lambda_handler(event, context):
    return [s3.head_object(Bucket="b", Key=r["s3"]["object"]["key"]) for r in event["Records"]]
'''


def lambdalint_exe() -> list[str]:
    """The console script installed beside this interpreter (the wheel's own entry point)."""
    script = Path(sys.executable).with_name("lambdalint")
    if script.exists():
        return [str(script)]
    found = shutil.which("lambdalint")
    return [found] if found else [sys.executable, "-m", "lambdalint.cli"]


def run(args, cwd, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH="")
    return subprocess.run(lambdalint_exe() + args, cwd=cwd, capture_output=True, text=True, timeout=120, env=env, **kw)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "app.py").write_text(BAD.lstrip())
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "app.py").write_text(CLEAN)
    return tmp_path


def test_text_output_and_exit_codes(repo):
    result = run(["check", "bad", "--no-progress"], repo)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(os.path.join("bad", "app.py") + ":5:10: LAM501 ")
    assert any(":7:9: LAM101 " in line for line in lines)
    assert any(":8:12: LAM303 " in line for line in lines)
    assert lines[-1].startswith("Found 3 findings")
    clean = run(["check", "clean"], repo)
    assert clean.returncode == 0 and clean.stdout.startswith("No findings")
    assert run(["check", "bad", "--exit-zero"], repo).returncode == 0


def test_json_output(repo):
    result = run(["check", "--format", "json", "bad", "clean"], repo)
    data = json.loads(result.stdout)
    assert data["files_checked"] == 2 and data["version"]
    first = data["findings"][0]
    assert set(first) >= {"path", "line", "column", "code", "severity", "message"}
    assert isinstance(first["line"], int) and first["severity"] in ("error", "warning", "info")
    assert {f["code"] for f in data["findings"]} == {"LAM101", "LAM303", "LAM501"}


def test_select_ignore_and_config(repo):
    result = run(["check", "--format", "json", "--select", "LAM1,LAM3", "--ignore", "LAM303", "bad"], repo)
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"LAM101"}
    (repo / "pyproject.toml").write_text('[tool.lambdalint]\nignore = ["LAM501"]\ntimeout = 20\n')
    result = run(["check", "--format", "json", "bad"], repo)
    findings = json.loads(result.stdout)["findings"]
    assert {f["code"] for f in findings} == {"LAM101", "LAM303"}
    assert any("(20 s)" in f["message"] for f in findings)


def test_bad_config_is_exit_2_with_the_key(repo):
    (repo / "pyproject.toml").write_text('[tool.lambdalint]\ntimeout = 1200\n')
    result = run(["check", "bad"], repo)
    assert result.returncode == 2
    assert "tool.lambdalint.timeout" in result.stderr and "Traceback" not in result.stderr
    (repo / "pyproject.toml").write_text('[tool.lambdalint]\nunknown-thing = 1\n')
    result = run(["check", "bad"], repo)
    assert result.returncode == 2 and "tool.lambdalint.unknown-thing" in result.stderr


def test_usage_errors_exit_2(repo):
    assert run(["check", "--format", "xml", "bad"], repo).returncode == 2
    assert run(["check", "--select", "LAM1", "--timeout", "0", "bad"], repo).returncode == 2
    result = run(["rule", "LAM999"], repo)
    assert result.returncode == 2 and "unknown rule" in result.stderr


def test_rules_and_rule_docs_come_from_the_installed_data(repo):
    # Run from an unrelated directory: the wheel must carry rules/ (and pricing/).
    listing = run(["rules"], repo)
    assert listing.returncode == 0
    codes = [line.split()[0] for line in listing.stdout.splitlines()]
    assert {"LAM101", "LAM201", "LAM301", "LAM401", "LAM501", "LAM901"} <= set(codes)
    doc = run(["rule", "mutable-global-mutated"], repo)
    assert doc.returncode == 0
    assert "LAM101" in doc.stdout and "Why is this bad?" in doc.stdout and "Use instead:" in doc.stdout
    cost = run(["cost", "--memory-mb", "512", "--duration-ms", "100", "--requests", "1000000", "--format", "json"], repo)
    assert cost.returncode == 0, cost.stderr
    assert isinstance(json.loads(cost.stdout)["total_usd"], (int, float))


def test_help_documents_every_option(repo):
    result = run(["check", "--help"], repo)
    for option in ("--select", "--ignore", "--format", "--config", "--jobs", "--exit-zero", "--timeout"):
        assert option in result.stdout


def test_every_command_is_listed_and_check_loads_only_what_it_uses(repo):
    listed = run(["--help"], repo).stdout
    for command in ("check", "rules", "rule", "cost", "profile", "deps", "ci"):
        assert f"  {command} " in listed, command
    for command in ("cost", "profile", "deps", "ci"):
        help_text = run([command, "--help"], repo)
        assert help_text.returncode == 0 and "--help" in help_text.stdout, command
    # `check` runs on every commit: the other commands' modules (and YAML, when no template is
    # there) stay unloaded.
    probe = ("import sys\nfrom lambdalint.cli import main\n"
             "try:\n    main(['check', 'clean', '--no-cache', '--jobs', '1'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('lambdalint.cli_', 'lambdalint.profiler', 'yaml'))))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, timeout=120)
    assert loaded.stdout.strip().splitlines()[-1] == "['lambdalint.cli_errors']", loaded.stdout + loaded.stderr


def test_bad_files_are_findings_not_tracebacks(repo):
    broken = repo / "broken"
    broken.mkdir()
    (broken / "syntax.py").write_text("def handler(event, context)\n    return 1\n")
    (broken / "latin1.py").write_bytes("# caf\xe9\nx = 1\n".encode("latin-1"))
    (broken / "binary.py").write_bytes(b"\x00\x01\x02ELF")
    (broken / "ok.py").write_text(BAD.lstrip())
    result = run(["check", "--format", "json", "broken"], repo)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    by_file = {(Path(f["path"]).name, f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert ("syntax.py", "LAM901", 1) in by_file
    assert ("latin1.py", "LAM902", 1) in by_file
    assert ("binary.py", "LAM903", 1) in by_file
    assert ("ok.py", "LAM101", 7) in by_file  # the other files are still checked


def test_fixtures_command_from_the_readme():
    """README's first command: findings of families 1, 2, 3 and 5 on the bundled fixtures."""
    result = run(["check", "fixtures/", "--format", "json"], ROOT)
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert {f["code"][3] for f in findings} >= {"1", "2", "3", "4", "5"}
    assert not [f for f in findings if "_clean" in f["path"]]


def test_cache_reuses_results_and_can_be_turned_off(repo):
    first = run(["check", "--format", "json", "bad"], repo)
    assert (repo / ".lambdalint_cache").is_dir()
    second = run(["check", "--format", "json", "bad"], repo)
    assert json.loads(first.stdout)["findings"] == json.loads(second.stdout)["findings"]
    other = repo / "elsewhere"
    fresh = run(["check", "--format", "json", "--no-cache", "bad"], repo)
    assert json.loads(fresh.stdout)["findings"] == json.loads(first.stdout)["findings"]
    run(["check", "--cache-dir", str(other), "bad"], repo)
    assert other.is_dir() and any(other.rglob("*"))
