"""The result cache (engine/cache.py): a re-run on an unchanged tree parses nothing, a change is
seen, a damaged or planted entry is a miss and never an error, concurrent runs share it safely,
and `cache=False` (the CLI's --no-cache) writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdalint.config import Config
from lambdalint.engine import analyzer, cache as cache_mod, runner
from lambdalint.engine.cache import Cache
from lambdalint.engine.runner import Checker
from lambdalint.engine.summary import Settings
from lambdalint.selection import enabled_codes

ROOT = Path(__file__).resolve().parent.parent

HANDLER = '''
import boto3
from helpers import record

sqs = boto3.client("sqs")
seen = []


def handler(event, context):
    for message in event["Records"]:
        seen.append(message["messageId"])
        record(message)
'''
HELPER = '''
import boto3

table = boto3.resource("dynamodb").Table("t")


def record(message):
    table.put_item(Item={"pk": message["messageId"]})
'''


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture(autouse=True)
def private_user_cache(tmp_path, monkeypatch):
    """The MAC key lives in the user cache directory: one per test. Files written by a test are
    seconds old at most: let run records trust their time stamps anyway."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(cache_mod, "RACY_NS", -10**12)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    write(root, {"app.py": HANDLER, "helpers.py": HELPER, "util/__init__.py": "", "util/text.py": "def shout(s):\n    return s.upper()\n"})
    return root


@pytest.fixture
def counted(monkeypatch) -> dict[str, int]:
    """How many times the full (libcst) analysis and the cheap scan ran in this process."""
    calls = {"libcst": 0, "scan": 0}
    analyze, scan = analyzer.analyze_module, runner.scan

    def counting_analyze(*args, **kwargs):
        calls["libcst"] += 1
        return analyze(*args, **kwargs)

    def counting_scan(*args, **kwargs):
        calls["scan"] += 1
        return scan(*args, **kwargs)

    monkeypatch.setattr(analyzer, "analyze_module", counting_analyze)
    monkeypatch.setattr(runner, "scan", counting_scan)
    return calls


def check(root: Path, cache_dir: Path | None, select=("LAM",), cache: bool = True, paths=None, **config) -> Checker:
    checker = Checker(Config(root=root, **config), enabled_codes(select=list(select)), jobs=1, cache=cache,
                      cache_dir=cache_dir)
    checker.report = checker.run(paths or [root])
    return checker


def keys(report) -> list[tuple]:
    return [(f.path, f.line, f.column, f.code, f.message) for f in report.findings]


def test_second_run_parses_nothing(project, tmp_path, counted):
    first = check(project, tmp_path / "cache")
    assert counted["libcst"] >= 2 and first.report.findings
    counted.update(libcst=0, scan=0)
    second = check(project, tmp_path / "cache")
    assert counted == {"libcst": 0, "scan": 0}
    assert keys(second.report) == keys(first.report)
    assert second.stats.get("run_cached")


def test_per_file_entries_alone_parse_nothing(project, tmp_path, counted, monkeypatch):
    """Without the whole-run record (Windows, or a tree that changed elsewhere) every file
    still comes from its own entry."""
    monkeypatch.setattr(runner, "RUN_RECORDS", False)
    first = check(project, tmp_path / "cache")
    counted.update(libcst=0, scan=0)
    second = check(project, tmp_path / "cache")
    assert counted == {"libcst": 0, "scan": 0}
    assert keys(second.report) == keys(first.report)
    assert second.stats["cached"] == second.stats["files"] > 0


def test_cached_results_equal_a_run_without_cache(project, tmp_path):
    plain = check(project, None, cache=False)
    filled = check(project, tmp_path / "cache")
    cached = check(project, tmp_path / "cache")
    assert keys(plain.report) == keys(filled.report) == keys(cached.report)
    assert [(h.path, h.function) for h in plain.report.handlers] == [(h.path, h.function) for h in cached.report.handlers]


def test_a_changed_file_is_analysed_again_and_only_it(project, tmp_path, counted):
    check(project, tmp_path / "cache")
    helper = project / "helpers.py"
    helper.write_text(helper.read_text() + "\n\ndef unused():\n    return 1\n")
    counted.update(libcst=0, scan=0)
    again = check(project, tmp_path / "cache")
    assert counted["libcst"] == 1
    assert keys(again.report) == keys(check(project, None, cache=False).report)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_new_module_that_changes_what_an_import_means_is_seen(tmp_path, counted, jobs):
    """The run record depends on the directories import resolution looked at (in the parent,
    or in the workers), not only on the checked files: the new module is outside them."""
    root = tmp_path / "p"
    write(root, {"functions/app.py": "import boto3\nimport notify\n\ndef handler(event, context):\n    notify.send(event)\n",
                 "lib/notify.py": "x = 1\n"})
    if jobs > 1:  # enough files for the worker pool
        write(root, {f"functions/other_{i}.py": "def handler(event, context):\n    return 1\n" for i in range(20)})
    paths = [root / "functions"]

    def run(cache=True):
        checker = Checker(Config(root=root), enabled_codes(select=["LAM"]), jobs=jobs, cache=cache,
                          cache_dir=tmp_path / "cache")
        return checker.run(paths)

    before = run()
    assert not [f for f in before.findings if f.code == "LAM501"]
    counted.update(libcst=0)
    run()
    assert counted["libcst"] == 0
    write(root, {"notify.py": "import boto3\n\ndef send(event):\n    boto3.client('sns').publish(Message=str(event))\n"})
    after = run()
    assert keys(after) == keys(run(cache=False))
    assert [f for f in after.findings if f.code == "LAM501"]


def test_a_manifest_added_later_is_checked(project, tmp_path):
    """A run that found no requirement file records the folders it searched: one appearing
    there (or a pyproject.toml gaining dependencies) brings the LAM4xx checks back."""
    first = check(project, tmp_path / "cache")
    assert not [f for f in first.report.findings if f.code.startswith("LAM4")]
    assert check(project, tmp_path / "cache").stats.get("run_cached")
    (project / "requirements.txt").write_text("boto3==1.34.0\npytest==8.0.0\n")
    after = check(project, tmp_path / "cache")
    assert keys(after.report) == keys(check(project, None, cache=False).report)
    assert [f for f in after.report.findings if f.code.startswith("LAM4")]
    (project / "requirements.txt").unlink()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert not [f for f in check(project, tmp_path / "cache").report.findings if f.code.startswith("LAM4")]
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["pytest==8.0.0"]\n')
    again = check(project, tmp_path / "cache")
    assert keys(again.report) == keys(check(project, None, cache=False).report)
    assert [f for f in again.report.findings if f.code.startswith("LAM4")]


def test_corrupt_entries_are_misses_and_are_rewritten(project, tmp_path, counted, monkeypatch):
    monkeypatch.setattr(runner, "RUN_RECORDS", False)
    expected = keys(check(project, tmp_path / "cache").report)
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.parent.parent.name == "v1"]
    assert entries
    damage = [b"", b"lambdalint-cache 1\n", b"\x00\xff garbage", cache_mod.HEADER + b"0" * 64 + b"\n{}",
              cache_mod.HEADER + b"not-a-mac\n" + json.dumps({"analyzed": True}).encode()]
    for index, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(damage[index % len(damage)] if index % 6 else data[: len(data) // 2])  # and truncated
    counted.update(libcst=0, scan=0)
    again = check(project, tmp_path / "cache")
    assert keys(again.report) == expected
    assert counted["libcst"] >= 2  # analysed again...
    counted.update(libcst=0, scan=0)
    assert keys(check(project, tmp_path / "cache").report) == expected
    assert counted["libcst"] == 0  # ...and stored again


def test_a_planted_entry_is_ignored(project, tmp_path, monkeypatch):
    """An entry this user's lambdalint did not write (a repository could ship one to hide a
    finding) fails the MAC check: the file is analysed instead."""
    monkeypatch.setattr(runner, "RUN_RECORDS", False)
    cache_dir = tmp_path / "cache"
    expected = keys(check(project, cache_dir).report)
    assert any(path.endswith("app.py") for path, *_ in expected)
    # Forge clean results for every entry under another key.
    other = Cache(cache_dir, b"k" * 32, "salt")
    for entry in [p for p in cache_dir.rglob("*") if p.is_file() and p.parent.parent.name == "v1"]:
        key = entry.parent.name + entry.name
        body = json.dumps({"analyzed": True, "imports": [], "functions": [], "candidates": [], "errors": [],
                           "noqa": [], "handler_names": []}).encode()
        entry.write_bytes(cache_mod.HEADER + other._mac(key, body).encode() + b"\n" + body)
    assert keys(check(project, cache_dir).report) == expected


def test_configuration_and_rule_selection_change_the_key(project, tmp_path, counted, monkeypatch):
    cache_dir = tmp_path / "cache"
    check(project, cache_dir)
    counted.update(libcst=0)
    check(project, cache_dir, select=("LAM1",))
    assert counted["libcst"] >= 2  # other rules: other entries
    counted.update(libcst=0)
    check(project, cache_dir, timeout=30)
    assert counted["libcst"] >= 2  # other configuration: other entries

    base = Cache(cache_dir, b"k" * 32, "salt")
    data = b"x = 1\n"
    one, two = Settings(frozenset({"LAM101"})), Settings(frozenset({"LAM101", "LAM102"}))
    assert base.key(data, one, False) != base.key(data, two, False)
    assert base.key(data, one, False) != base.key(data, one, True)  # forced analysis
    assert base.key(data, one, False) != base.key(data + b" ", one, False)
    assert Cache(cache_dir, b"k" * 32, "other salt").key(data, one, False) != base.key(data, one, False)


def test_same_content_at_two_paths_shares_an_entry_with_the_right_paths(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RUN_RECORDS", False)
    root = tmp_path / "p"
    text = "import boto3\n\ndef handler(event, context):\n    return boto3.client('s3').list_buckets()\n"
    write(root, {"a/app.py": text, "b/app.py": text})
    findings = keys(check(root, tmp_path / "cache").report)
    cached = keys(check(root, tmp_path / "cache").report)
    assert cached == findings
    assert {Path(p).parent.name for p, *_ in findings if _[2] == "LAM501"} == {"a", "b"}


def test_no_cache_writes_nothing(project, tmp_path):
    check(project, tmp_path / "cache", cache=False)
    check(project, None, cache=False)
    assert not (tmp_path / "cache").exists()
    assert not (project / ".lambdalint_cache").exists()


def test_default_location_is_private_and_marked(project, tmp_path):
    check(project, None)
    directory = project / ".lambdalint_cache"
    assert (directory / ".gitignore").read_text().strip().endswith("*")
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (directory / "v1").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "user-cache" / "lambdalint" / "cache.key").stat().st_mode & 0o777 == 0o600
    # ... and collect_files never checks it.
    files, _ = runner.collect_files([project], Config(root=project).exclude)
    assert not [f for f in files if ".lambdalint_cache" in f]


def test_unwritable_root_falls_back_to_the_user_cache(project, tmp_path, monkeypatch):
    real = cache_mod._prepare

    def refuse_project_dir(directory: Path) -> bool:
        return False if directory.name == ".lambdalint_cache" else real(directory)

    monkeypatch.setattr(cache_mod, "_prepare", refuse_project_dir)
    checker = check(project, None)
    assert checker.cache is not None and checker.cache.directory == tmp_path / "user-cache" / "lambdalint"


def test_a_cache_that_cannot_be_written_is_no_error(project, tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "_atomic_write", lambda path, data: False)
    expected = keys(check(project, None, cache=False).report)
    assert keys(check(project, tmp_path / "cache").report) == expected


def test_pruned_when_too_big(project, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RUN_RECORDS", False)
    monkeypatch.setattr(cache_mod, "DEFAULT_MAX_BYTES", 1)
    cache_dir = tmp_path / "cache"
    check(project, cache_dir)
    left = [p for p in cache_dir.rglob("*") if p.is_file() and p.parent.parent.name == "v1"]
    assert sum(p.stat().st_size for p in left) <= 1


CONCURRENT = '''
import sys, json
from pathlib import Path
from lambdalint.config import Config
from lambdalint.engine import cache
from lambdalint.engine.runner import Checker
from lambdalint.selection import enabled_codes
cache.RACY_NS = -10**12
root, cache_dir = Path(sys.argv[1]), Path(sys.argv[2])
for _ in range(3):
    report = Checker(Config(root=root), enabled_codes(select=["LAM"]), jobs=2, cache_dir=cache_dir).run([root])
print(json.dumps([[f.path, f.line, f.code] for f in report.findings]))
'''


def test_concurrent_runs_share_the_cache_safely(tmp_path, monkeypatch):
    root = tmp_path / "p"
    for index in range(24):  # enough files for the worker pool
        write(root, {f"svc{index}/app.py": HANDLER, f"svc{index}/helpers.py": HELPER})
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(root), str(cache_dir)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    results = {out for out, _ in outputs}
    assert len(results) == 1
    expected = [[f.path, f.line, f.code] for f in check(root, None, cache=False).report.findings]
    assert json.loads(results.pop()) == expected
    # Nothing half-written: every entry reads back.
    store = Cache.open(root, Config(root=root).fingerprint(), cache_dir)
    entries = [p for p in cache_dir.rglob("*") if p.is_file() and p.parent.parent.name == "v1"]
    assert entries and not [p for p in cache_dir.rglob(".tmp-*")]
    for entry in entries:
        raw = entry.read_bytes()
        assert raw.startswith(cache_mod.HEADER)
        mac, _, body = raw[len(cache_mod.HEADER):].partition(b"\n")
        assert mac.decode() == store._mac(entry.parent.name + entry.name, body)


def test_apply_noqa_false_keeps_silenced_findings_and_has_its_own_run_record(tmp_path):
    from lambdalint.catalog import all_rules
    from lambdalint.config import Config
    from lambdalint.engine.runner import Checker

    (tmp_path / "app.py").write_text(
        "SEEN = []\n\n\ndef handler(event, context):\n    SEEN.append(event['id'])  # noqa: LAM101\n", encoding="utf-8")
    config = Config(root=tmp_path)
    enabled = frozenset(all_rules())
    cache_dir = tmp_path / ".cache"
    for _ in range(2):  # the second time from the cache: each switch keeps its own answer
        kept = Checker(config, enabled, jobs=1, cache_dir=cache_dir, apply_noqa=False).run([tmp_path])
        applied = Checker(config, enabled, jobs=1, cache_dir=cache_dir).run([tmp_path])
        assert "LAM101" in {f.code for f in kept.findings}
        assert "LAM101" not in {f.code for f in applied.findings}
