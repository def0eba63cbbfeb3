"""The pre-commit hooks, through `pre-commit try-repo` against a temporary git repository.

pre-commit installs the hook repository with pip into its own virtualenv (this needs PyPI, for
the build backend and lambdalint's dependencies). The hook repository is a one-commit snapshot
of this checkout's files: try-repo only sees committed files (plus changes to tracked ones), and
the snapshot makes the test exercise the working tree as it is, committed or not.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# What `pip install .` of lambdalint needs (pyproject's force-include ships rules/ and pricing/).
SNAPSHOT = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "lambdalint", "rules", "pricing")
INSTALL_TIMEOUT_S = 600

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None,
                       reason="pre-commit is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

BAD = '''seen = []


def handler(event, context):
    seen.append(event["id"])
    return {"count": len(seen)}
'''
CLEAN = '''def handler(event, context):
    seen = [event["id"]]
    return {"count": len(seen)}
'''


def git(*args: str, cwd: Path) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                   cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("precommit")
    hooks = base / "hooks"
    hooks.mkdir()
    for name in SNAPSHOT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, hooks / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, hooks / name)
    git("init", "-q", cwd=hooks)
    git("add", "-A", cwd=hooks)
    git("commit", "-q", "-m", "snapshot", cwd=hooks)

    project = base / "project"
    for folder, source in (("bad", BAD), ("clean", CLEAN)):
        (project / folder).mkdir(parents=True)
        (project / folder / "app.py").write_text(source)
    (project / "requirements.txt").write_text("boto3==1.34.0\n")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    # try-repo installs the hook environment afresh on every call (it uses a temporary store),
    # so each test below makes one call; the pip cache keeps that to seconds.
    return {"hooks": hooks, "project": project, "home": base / "pre-commit-home"}


def try_repo(repos: dict[str, Path], hook: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(repos["home"]), PRE_COMMIT_COLOR="never")
    env.pop("PRE_COMMIT", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repos["hooks"]), hook, *args],
                          cwd=repos["project"], env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)


def test_manifest_declares_the_three_hooks():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"lambdalint", "lambdalint-deps", "lambdalint-ci"}
    assert hooks["lambdalint"]["entry"].startswith("lambdalint check") and hooks["lambdalint"]["types"] == ["python"]
    assert hooks["lambdalint-deps"]["pass_filenames"] is False
    assert hooks["lambdalint-ci"]["pass_filenames"] is False
    assert all(h["language"] == "python" for h in hooks.values())
    triggers = re.compile(hooks["lambdalint-deps"]["files"])
    for path in ("requirements.txt", "svc/requirements-prod.txt", "pyproject.toml", "a/uv.lock", "app.py"):
        assert triggers.search(path), path
    for path in ("README.md", "docs/requirements.md", "template.yaml"):
        assert not triggers.search(path), path


def test_lambdalint_hook_fails_on_the_bad_handler(repos):
    result = try_repo(repos, "lambdalint", "--all-files")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "bad/app.py:5:5: LAM101" in out
    assert "clean/app.py" not in out
    assert "LAM404" not in out  # package size is lambdalint-deps' job


def test_lambdalint_hook_passes_a_clean_file(repos):
    result = try_repo(repos, "lambdalint", "--files", "clean/app.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_deps_hook_checks_requirements(repos):
    result = try_repo(repos, "lambdalint-deps", "--all-files")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "requirements.txt:1:1: LAM404" in out
    assert "LAM101" not in out  # only the package-size family
