"""The flake8 plugin, through flake8 itself: `flake8 --select=LAM FILE` must report what
`lambdalint check FILE` reports on that file.

Syntax errors: flake8 parses every file before it runs AST plugins, so a file that does not parse
never reaches lambdalint; flake8 reports it as E999 (LAM901 is the CLI's code for it). With
`--select=LAM` alone flake8 hides E999 too, hence the docs recommend `--extend-select=LAM`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdalint.catalog import all_rules
from lambdalint.cli import main
from lambdalint.flake8_plugin import LambdalintChecker

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "handlers"
FORMAT = "--format=%(path)s:%(row)d:%(col)d:%(code)s"
HANDLER = '''
import requests

seen = []


def handler(event, context):
    seen.append(event["id"]){noqa}
    requests.get("https://example.com")
    return {{"count": len(seen)}}
'''


def flake8(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess:
    # --isolated: no setup.cfg/.flake8 of the machine or the repository changes the selection.
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", FORMAT, *args], cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=300)


def parse(stdout: str) -> set[tuple[str, int, int, str]]:
    found = set()
    for line in stdout.splitlines():
        path, row, col, code = line.rsplit(":", 3)
        found.add((str(Path(path)), int(row), int(col), code))
    return found


def lambdalint_check(path: str) -> set[tuple[str, int, int, str]]:
    """`lambdalint check --format json PATH`, keeping the findings located in PATH itself."""
    result = CliRunner().invoke(main, ["check", "--format", "json", "--no-progress", path])
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    return {(str(Path(f["path"])), f["line"], f["column"], f["code"]) for f in findings if Path(f["path"]) == Path(path)}


def handler_file(tmp_path: Path, noqa: str = "") -> Path:
    target = tmp_path / "app.py"
    target.write_text(HANDLER.format(noqa=noqa).lstrip(), encoding="utf-8")
    return target


def test_plugin_is_registered_with_flake8():
    result = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, timeout=60)
    assert "lambdalint" in result.stdout, "install lambdalint (pip install -e .) so flake8 sees its entry point"


def test_flake8_matches_lambdalint_check_on_every_fixture_file():
    files = sorted(str(p.relative_to(ROOT)) for p in FIXTURES.rglob("*.py") if p.name != "syntax_error.py")
    reported = parse(flake8("--select=LAM", *files).stdout)
    opt_in = {code for code, rule in all_rules().items() if not rule.default_enabled}
    expected: set = set()
    for path in files:
        expected |= lambdalint_check(path)
    assert {r for r in reported if r[3] not in opt_in} == expected
    assert len(expected) > 40  # the fixtures hold real problems: this is not an empty comparison


def test_noqa_is_applied_by_flake8(tmp_path):
    target = handler_file(tmp_path, noqa="  # noqa: LAM101")
    codes = {r[3] for r in parse(flake8("--select=LAM", "app.py", cwd=tmp_path).stdout)}
    assert codes == {"LAM303"}
    # The engine leaves noqa to flake8, so flake8's own switch brings the finding back.
    codes = {r[3] for r in parse(flake8("--select=LAM", "--disable-noqa", "app.py", cwd=tmp_path).stdout)}
    assert codes == {"LAM101", "LAM303"}
    assert target.exists()


def test_flake8_select_and_ignore_decide(tmp_path):
    handler_file(tmp_path)
    result = flake8("--select=LAM", "--extend-ignore=LAM101", "app.py", cwd=tmp_path)
    assert {r[3] for r in parse(result.stdout)} == {"LAM303"}
    assert result.returncode == 1
    result = flake8("--select=LAM1", "app.py", cwd=tmp_path)
    assert parse(result.stdout) == {("app.py", 7, 5, "LAM101")}
    # A plain run (no --select) includes lambdalint beside pycodestyle and pyflakes.
    assert ("app.py", 7, 5, "LAM101") in parse(flake8("app.py", cwd=tmp_path).stdout)


def test_clean_file_exits_zero(tmp_path):
    (tmp_path / "app.py").write_text('def handler(event, context):\n    return {"ok": True}\n')
    result = flake8("--select=LAM", "app.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")


def test_syntax_error_is_flake8s_e999():
    path = str((FIXTURES / "broken" / "syntax_error.py").relative_to(ROOT))
    result = flake8("--select=LAM,E999", path)
    assert [(r[1], r[3]) for r in parse(result.stdout)] == [(5, "E999")]
    assert {(r[1], r[3]) for r in lambdalint_check(path)} == {(5, "LAM901")}


def test_undecodable_file_gives_the_same_lam902():
    path = str((FIXTURES / "broken" / "latin1.py").relative_to(ROOT))
    assert parse(flake8("--select=LAM", path).stdout) == lambdalint_check(path) != set()


def test_stdin_is_checked(tmp_path):
    source = HANDLER.format(noqa="").lstrip()
    assert {r[3] for r in parse(flake8("--select=LAM", "-", cwd=tmp_path, stdin=source).stdout)} == {"LAM101", "LAM303"}
    # An editor passes its unsaved buffer with the file's name: the buffer is what is checked.
    handler_file(tmp_path, noqa="  # noqa: LAM101")
    result = flake8("--select=LAM", "--disable-noqa", "--stdin-display-name=app.py", "-", cwd=tmp_path,
                    stdin="\n\n" + source)
    assert ("app.py", 9, 5, "LAM101") in parse(result.stdout)


def test_timeout_option_reaches_the_messages(tmp_path):
    handler_file(tmp_path)
    result = flake8("--select=LAM303", "--lambdalint-timeout=30", "--format=default", "app.py", cwd=tmp_path)
    assert "(30 s)" in result.stdout
    result = flake8("--lambdalint-timeout=3000", "app.py", cwd=tmp_path)
    assert result.returncode == 2 and "1 to 900 seconds" in result.stderr


def test_internal_error_becomes_lam906(tmp_path, monkeypatch):
    target = handler_file(tmp_path)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("lambdalint.flake8_plugin._engine", broken)
    results = list(LambdalintChecker(None, str(target), []).run())
    assert [(line, col, text.split()[0]) for line, col, text, _ in results] == [(1, 0, "LAM906")]
    assert "boom" in results[0][2]


def test_bad_config_becomes_one_finding(tmp_path):
    handler_file(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.lambdalint]\ntimeout = 'soon'\n")
    result = flake8("--select=LAM", "--format=default", "app.py", cwd=tmp_path)
    assert "app.py:1:1: LAM906 lambdalint cannot run: tool.lambdalint.timeout must be an integer" in result.stdout


@pytest.mark.parametrize("name", ["stdin", "-"])
def test_stdin_names_without_lines_do_not_raise(name):
    assert list(LambdalintChecker(None, name, []).run()) == []
