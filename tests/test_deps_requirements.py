"""Parsing requirements files and pyproject dependencies: lines, includes, markers, bad input."""

from __future__ import annotations

from pathlib import Path

from lambdalint.deps.requirements import TargetEnv, parse_pyproject, parse_requirements_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "deps"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_names_specifiers_and_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", "# header\n\nPyYAML>=6  # why\nrequests[socks]==2.32.3\n")
    parsed = parse_requirements_file(path)
    assert [(r.name, r.line, r.specifier) for r in parsed.requirements] == [
        ("pyyaml", 3, ">=6"), ("requests", 4, "==2.32.3")]
    assert parsed.requirements[1].extras == frozenset({"socks"})
    assert parsed.problems == []


def test_continuation_hashes_and_options(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", (
        "--index-url https://pypi.org/simple\n"
        "requests==2.32.3 \\\n"
        "    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6\n"
        "numpy >=\n"
    ))
    parsed = parse_requirements_file(path)
    assert [(r.name, r.line) for r in parsed.requirements] == [("requests", 2)]
    # the bad line is reported at its own line, past the two-line continuation
    assert [(p.line, p.path.name) for p in parsed.problems] == [(4, "requirements.txt")]


def test_markers_are_evaluated_for_the_lambda_runtime(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", (
        'pywin32>=306; sys_platform == "win32"\n'
        'tomli; python_version < "3.11"\n'
        'uvloop; platform_machine == "aarch64"\n'
        "requests\n"
    ))
    default = parse_requirements_file(path)
    assert [r.name for r in default.requirements] == ["requests"]
    assert {r.name for r in default.skipped} == {"pywin32", "tomli", "uvloop"}
    old_arm = parse_requirements_file(path, TargetEnv(python_version="3.10", architecture="arm64"))
    assert [r.name for r in old_arm.requirements] == ["tomli", "uvloop", "requests"]


def test_includes_are_relative_and_cycles_end(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path, "sub/base.txt", "-r ../requirements.txt\nidna\n")
    path = _write(tmp_path, "requirements.txt", "-r sub/base.txt\n-c constraints.txt\nrequests\n")
    _write(tmp_path, "constraints.txt", "urllib3<3\n")
    parsed = parse_requirements_file(path)
    assert [r.name for r in parsed.requirements] == ["idna", "requests"]
    assert [c.name for c in parsed.constraints] == ["urllib3"]
    assert len(parsed.problems) == 1
    cycle = parsed.problems[0]
    assert (cycle.path.name, cycle.line) == ("base.txt", 1) and "cycle" in cycle.message


def test_fixture_with_bad_lines_reports_each_at_its_line() -> None:
    parsed = parse_requirements_file(FIXTURES / "bad_lines" / "requirements.txt")
    where = sorted((p.path.name, p.line) for p in parsed.problems)
    assert where == [("base.txt", 2), ("loop_b.txt", 1), ("requirements.txt", 8),
                     ("requirements.txt", 9), ("requirements.txt", 11), ("requirements.txt", 12)]
    names = {r.name for r in parsed.requirements}
    assert {"aws-lambda-powertools", "requests", "charset-normalizer", "certifi"} <= names
    assert "pywin32" not in names


def test_url_vcs_and_editable_lines_keep_a_name_but_no_size(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", (
        "-e git+https://github.com/example/lib.git#egg=shared-lib\n"
        "https://example.com/w/internal_tool-1.0-py3-none-any.whl\n"
        "./vendor/local-pkg\n"
        "pkg @ https://example.com/pkg-1.0.tar.gz\n"
    ))
    parsed = parse_requirements_file(path)
    assert [(r.name, bool(r.url), r.editable) for r in parsed.requirements] == [
        ("shared-lib", True, True), ("internal-tool", True, False), ("", True, False),
        ("pkg", True, False)]
    assert parsed.problems == []


def test_missing_include_and_unknown_option_are_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", "-r nowhere.txt\n--frobnicate\n-rhttps://x/y.txt\n")
    problems = parse_requirements_file(path).problems
    assert [(p.line, p.fatal) for p in problems] == [(1, True), (2, True), (3, False)]


def test_undecodable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"requests\n\xff\xfe bad\n")
    assert parse_requirements_file(path).problems[0].line == 1


def test_pyproject_project_dependencies_with_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "pyproject.toml", (
        '[project]\nname = "fn"\nversion = "1"\ndependencies = [\n'
        '    "requests>=2",\n    "boto3",\n    "numpy >=",\n]\n'
        '[project.optional-dependencies]\ndev = ["pytest"]\n'
    ))
    parsed = parse_pyproject(path)
    assert [(r.name, r.line) for r in parsed.requirements] == [("requests", 5), ("boto3", 6)]
    assert [p.line for p in parsed.problems] == [7]


def test_pyproject_poetry_dependencies() -> None:
    parsed = parse_pyproject(FIXTURES / "poetry_project" / "pyproject.toml")
    assert [(r.name, r.line) for r in parsed.requirements] == [("requests", 10), ("pydantic", 11)]


def test_invalid_toml_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "pyproject.toml", '[project]\ndependencies = ["a",\nname = \n')
    parsed = parse_pyproject(path)
    assert parsed.requirements == [] and parsed.problems[0].line >= 2
