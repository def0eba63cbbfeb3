"""`lambdalint deps` through click's CliRunner: text, JSON, folders, zips and errors."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from click.testing import CliRunner

from lambdalint.cli_deps import deps_command
from lambdalint.deps.sizes import distribution_files, installed_distributions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "deps"


def _run(*args: str):
    return CliRunner().invoke(deps_command, list(args))


def test_text_table_for_a_requirements_file() -> None:
    result = _run(str(FIXTURES / "torch_project" / "requirements.txt"), "--no-installed")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split()[:4] == ["package", "version", "unzipped", "zipped"]
    assert lines[2].split()[0] == "torch"  # sorted, biggest first
    assert "table" in lines[2]
    assert "of Lambda's 250 MB limit" in result.output


def test_json_has_numbers_and_the_documented_keys() -> None:
    result = _run(str(FIXTURES / "bundled_sdk"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data["unzipped_bytes"], int) and isinstance(data["zipped_bytes"], int)
    names = [p["name"] for p in data["packages"]]
    assert {"boto3", "botocore", "requests", "pytest"} <= set(names)
    for package in data["packages"]:
        assert {"name", "version", "unzipped_bytes", "zipped_bytes"} <= set(package)
        assert package["unzipped_bytes"] is None or isinstance(package["unzipped_bytes"], int)
    known = [p["unzipped_bytes"] for p in data["packages"] if p["unzipped_bytes"] is not None]
    assert known == sorted(known, reverse=True)
    assert data["unzipped_bytes"] == sum(known)


def test_json_for_bad_lines_lists_problems_and_unknowns() -> None:
    result = _run(str(FIXTURES / "bad_lines" / "requirements.txt"), "--format", "json")
    data = json.loads(result.output)
    assert {p["line"] for p in data["problems"] if p["path"].endswith("requirements.txt")} == {8, 9, 11, 12}
    assert set(data["unknown"]) == {"shared-lib", "internal-tool"}


def _build(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    for path, arcname in distribution_files(installed_distributions()["click"]):
        (build / arcname).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, build / arcname)
    (build / "app.py").write_text("import click\n")
    return build


def test_a_build_folder_and_its_zip(tmp_path: Path) -> None:
    build = _build(tmp_path)
    folder = json.loads(_run(str(build), "--format", "json").output)
    assert {p["name"] for p in folder["packages"]} == {"click", "app.py"}
    assert {p["source"] for p in folder["packages"]} == {"dir"}
    archive = tmp_path / "fn.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in build.rglob("*"):
            if path.is_file():
                out.write(path, path.relative_to(build).as_posix())
    zipped = json.loads(_run("--zip", str(archive), "--format", "json").output)
    assert zipped["unzipped_bytes"] == folder["unzipped_bytes"]
    assert {p["source"] for p in zipped["packages"]} == {"zip"}


def test_import_time_only(tmp_path: Path) -> None:
    handler = tmp_path / "fn.py"
    handler.write_text("import json\n")
    result = _run("--import-time", str(handler), "--runs", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"import_time"} and data["import_time"]["runs"] == 1


def test_errors_are_messages_with_exit_2_not_tracebacks(tmp_path: Path) -> None:
    handler = tmp_path / "broken.py"
    handler.write_text("raise RuntimeError('boom at import')\n")
    result = _run("--import-time", str(handler), "--runs", "1")
    assert result.exit_code == 2
    assert result.output.startswith("lambdalint deps: importing broken failed")
    assert "boom at import" in result.output
    bad_zip = tmp_path / "fn.zip"
    bad_zip.write_text("nope")
    result = _run("--zip", str(bad_zip))
    assert result.exit_code == 2 and "cannot read zip" in result.output


def test_help_explains_every_option() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    for option in ("--site-packages", "--zip", "--format", "--import-time", "--runs", "--top",
                   "--python-version", "--no-installed"):
        assert option in result.output
