"""lambdalint never crashes on what it is given: generated programs, the whole standard library,
huge files, pathological nesting, binary and mis-encoded files, symlink loops, unreadable
files, and paths with spaces and non-ASCII names. Problems are LAM9xx findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import hypothesmith
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from lambdalint.catalog import all_rules
from lambdalint.cli import main
from lambdalint.config import Config
from lambdalint.engine import runner
from lambdalint.engine.analyzer import analyze_module
from lambdalint.engine.runner import Checker, analyze_file
from lambdalint.engine.summary import Settings
from lambdalint.rules import RULE_CLASSES
from lambdalint.selection import enabled_codes

ROOT = Path(__file__).resolve().parent.parent
ALL = Settings(frozenset(all_rules()))


def codes(summary) -> set[str]:
    return {f.code for f in summary.errors} | {c.finding.code for c in summary.candidates}


def analyse(tmp_path: Path, text: str | bytes, name: str = "app.py", force: bool = True):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return analyze_file(str(path), str(path), ALL, force)


@pytest.fixture(autouse=True)
def private_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


# -- whatever the source --------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.filter_too_much])
@given(source=hypothesmith.from_grammar())
def test_generated_programs_never_make_lambdalint_raise(source):
    summary = analyze_module("generated.py", source, ALL, RULE_CLASSES)  # must not raise
    assert "LAM906" not in codes(summary), [e.message for e in summary.errors]


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(source=hypothesmith.from_grammar())
def test_generated_programs_through_the_file_pipeline(source, tmp_path):
    summary = analyse(tmp_path, source)
    assert "LAM906" not in codes(summary), [e.message for e in summary.errors]


# -- size and depth -------------------------------------------------------------------------
def test_a_50000_line_file(tmp_path):
    body = "".join(f"def helper_{i}(event):\n    return event.get('k{i}', {i}) + {i}\n\n\n" for i in range(12_500))
    text = "import boto3\n\n\n" + body + "def handler(event, context):\n    return boto3.client('s3').list_buckets()\n"
    assert text.count("\n") >= 50_000
    summary = analyse(tmp_path, text)
    assert summary.analyzed and not summary.errors
    lam501 = [c.finding for c in summary.candidates if c.finding.code == "LAM501"]
    assert [f.line for f in lam501] == [text.count("\n")]  # the position is right at the end too


DEEP = {
    "parentheses": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "list": "x = " + "[" * 5000 + "1" + "]" * 5000 + "\n",
    "dict": "x = " + "{1: " * 5000 + "1" + "}" * 5000 + "\n",
    "calls": "x = " + "f(" * 5000 + ")" * 5000 + "\n",
    "unary": "x = " + "-" * 10_000 + "a\n",
    "not": "x = " + "not " * 10_000 + "a\n",
    "sum": "x = " + " + ".join(["a"] * 100_000) + "\n",
    "attributes": "x = a" + ".b" * 50_000 + "\n",
    "indentation": "".join("    " * i + "if a:\n" for i in range(150)) + "    " * 150 + "pass\n",
    "broken then deep": "def f(:\n    pass\nx = " + "-" * 10_000 + "a\n",
}


@pytest.mark.parametrize("shape", sorted(DEEP))
@pytest.mark.parametrize("handler", [True, False], ids=["handler", "module"])
def test_deep_nesting_is_a_finding_not_a_crash(tmp_path, shape, handler):
    text = DEEP[shape]
    if handler:
        text = "def handler(event, context):\n    return 1\n\n" + text
    summary = analyse(tmp_path, text, force=False)
    assert codes(summary) & {"LAM901", "LAM905"}, (shape, [e.message for e in summary.errors])


def test_deep_nesting_within_what_cpython_accepts_is_analysed(tmp_path):
    text = "def handler(event, context):\n    return " + "-" * 2000 + "event\n"
    summary = analyse(tmp_path, text)
    assert not codes(summary) - {"LAM905"}  # analysed, or too deep for the rules: never a crash


def test_deep_files_in_a_parallel_run(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    for index, (shape, text) in enumerate(sorted(DEEP.items()) * 2):
        (root / f"deep_{index}.py").write_text("def handler(event, context):\n    return 1\n\n" + text, encoding="utf-8")
    report = Checker(Config(root=root), enabled_codes(select=["LAM"]), jobs=2, cache=False).run([root])
    flagged = {Path(f.path).name for f in report.findings if f.code in ("LAM901", "LAM905")}
    assert flagged == {f"deep_{i}.py" for i in range(len(DEEP) * 2)}


# -- odd files ------------------------------------------------------------------------------
def test_empty_file(tmp_path):
    summary = analyse(tmp_path, "")
    assert not summary.errors and not summary.candidates


def test_nul_bytes(tmp_path):
    assert codes(analyse(tmp_path, b"import os\n\x00\x00\ndef handler(event, context):\n    pass\n")) == {"LAM903"}


def test_not_utf8(tmp_path):
    assert codes(analyse(tmp_path, "# caf\xe9\nx = 1\n".encode("latin-1"))) == {"LAM902"}


def test_bytes_and_str_literals_together_are_a_syntax_error(tmp_path):
    """libcst's grammar admits `b"a" "b"`; Python does not (libcst's validation catches it)."""
    summary = analyse(tmp_path, 'def handler(event, context):\n    return b"a" "b"\n')
    assert codes(summary) == {"LAM901"}


def test_symlink_loop_in_a_checked_directory(tmp_path):
    root = tmp_path / "p"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    os.symlink(root, root / "pkg" / "loop")  # a directory symlinked to its parent
    os.symlink(root / "pkg", root / "pkg" / "self")
    files, problems = runner.collect_files([root], Config(root=root).exclude)
    assert files == [str(root / "pkg" / "app.py")] and not problems
    report = Checker(Config(root=root), enabled_codes(select=["LAM"]), jobs=1, cache=False).run([root])
    assert report.files_checked == 1


def test_unreadable_files(tmp_path, monkeypatch):
    root = tmp_path / "p"
    root.mkdir()
    (root / "dangling.py").symlink_to(root / "missing.py")
    (root / "locked.py").write_text("x = 1\n")
    (root / "fine.py").write_text("x = 1\n")
    (root / "folder.py").mkdir()  # a directory with a module's name is not a module
    (root / "folder.py" / "inner.py").write_text("y = 2\n")
    real_open = open

    def denying_open(file, *args, **kwargs):  # tests run as root, where chmod 000 does not deny
        if str(file).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denying_open)
    report = Checker(Config(root=root), enabled_codes(select=["LAM"]), jobs=1, cache=False).run([root])
    by_file = {(Path(f.path).name, f.code) for f in report.findings}
    assert by_file == {("dangling.py", "LAM904"), ("locked.py", "LAM904")}
    assert report.files_checked == 4  # dangling, fine, locked, folder.py/inner.py
    message = next(f.message for f in report.findings if f.path.endswith("locked.py"))
    assert "Permission denied" in message


def test_paths_with_spaces_and_non_ascii_names(tmp_path, monkeypatch):
    folder = tmp_path / "mes fonctions"
    folder.mkdir()
    handler = folder / "gestionnaire_é.py"
    handler.write_text("import boto3\n\ndef handler(event, context):\n    return boto3.client('s3').list_buckets()\n",
                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    text = cli.invoke(main, ["check", "--no-progress", "mes fonctions"])
    assert text.exit_code == 1, text.output
    assert "mes fonctions/gestionnaire_é.py:4:" in text.output and "LAM501" in text.output
    as_json = cli.invoke(main, ["check", "--no-progress", "--format", "json", str(folder)])
    assert as_json.exit_code == 1, as_json.output
    data = json.loads(as_json.output)
    found = data["findings"] if isinstance(data, dict) else data
    assert any(f["path"].endswith("mes fonctions/gestionnaire_é.py") and f["code"] == "LAM501" for f in found)


_REAL_BATCH = runner._analyze_batch


def _crashing_batch(settings, cache, batch, *args):
    """runner._analyze_batch, but the worker process dies on svc_crash.py (module level: the
    pool pickles it by name)."""
    if any(item[0].endswith("svc_crash.py") for item in batch):
        os._exit(70)
    return _REAL_BATCH(settings, cache, batch, *args)


def test_a_worker_that_dies_costs_one_file_not_the_run(tmp_path, monkeypatch):
    """A crash in native code kills a worker process; its file gets LAM906, the rest is checked."""
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the crash is injected into forked workers")
    root = tmp_path / "p"
    root.mkdir()
    for index in range(20):
        (root / f"svc_{index}.py").write_text("import boto3\n\ndef handler(event, context):\n    return boto3.client('s3')\n")
    (root / "svc_crash.py").write_text("def handler(event, context):\n    return 1\n")
    monkeypatch.setattr(runner, "_analyze_batch", _crashing_batch)
    report = Checker(Config(root=root), enabled_codes(select=["LAM"]), jobs=2, cache=False).run([root])
    crashed = [f for f in report.findings if f.code == "LAM906"]
    assert [Path(f.path).name for f in crashed] == ["svc_crash.py"]
    assert len({f.path for f in report.findings if f.code == "LAM501"}) == 20


# -- the whole standard library ------------------------------------------------------------
def test_the_standard_library_without_a_traceback(tmp_path):
    stdlib = sysconfig.get_paths()["stdlib"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    result = subprocess.run([sys.executable, "-c", "from lambdalint.cli import main; main()", "check",
                             "--no-progress", "--select", "LAM", stdlib],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-3000:]
    assert "LAM906" not in result.stdout, [line for line in result.stdout.splitlines() if "LAM906" in line][:5]
