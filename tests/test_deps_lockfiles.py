"""Lock files: the resolved set that ships, without development groups."""

from __future__ import annotations

import json
from pathlib import Path

from lambdalint.deps.lockfiles import find_lock_file, read_lock_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "deps"


def test_poetry_lock_groups_leave_dev_out() -> None:
    lock = read_lock_file(FIXTURES / "poetry_project" / "poetry.lock")
    shipped = lock.shipped()
    assert "pytest" in lock.packages and "pytest" not in shipped
    assert {"requests", "urllib3", "pydantic", "pydantic-core"} <= set(shipped)
    assert shipped["requests"].version == "2.32.3"
    assert lock.packages["requests"].dependencies == ("certifi", "charset-normalizer", "idna", "urllib3")
    # the line of the entry's name, for findings
    text = (FIXTURES / "poetry_project" / "poetry.lock").read_text().splitlines()
    assert text[shipped["requests"].line - 1] == 'name = "requests"'


def test_uv_lock_closure_from_the_project_without_dev_group_or_windows_deps() -> None:
    lock = read_lock_file(FIXTURES / "uv_project" / "uv.lock")
    assert set(lock.roots) == {"boto3", "pillow", "pytest"}
    shipped = set(lock.shipped())
    assert {"boto3", "botocore", "s3transfer", "six", "pytest", "pluggy"} <= shipped
    assert "ruff" not in shipped  # dev group
    assert "colorama" not in shipped  # marker sys_platform == 'win32'
    assert "thumbnailer" not in shipped  # the project itself


def test_pipfile_lock_default_section_only() -> None:
    lock = read_lock_file(FIXTURES / "pipenv_project" / "Pipfile.lock")
    assert set(lock.shipped()) == {"jmespath", "orjson", "python-dateutil", "six"}
    assert lock.packages["orjson"].version == "3.10.18"


def test_broken_lock_files_are_problems(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("[[package]]\nname = \n")
    (tmp_path / "Pipfile.lock").write_text('{"default": {')
    assert read_lock_file(tmp_path / "uv.lock").problems[0].line == 2
    assert read_lock_file(tmp_path / "Pipfile.lock").problems


def test_find_lock_file(tmp_path: Path) -> None:
    assert find_lock_file(tmp_path) is None
    (tmp_path / "Pipfile.lock").write_text(json.dumps({"default": {}}))
    assert find_lock_file(tmp_path) == tmp_path / "Pipfile.lock"
