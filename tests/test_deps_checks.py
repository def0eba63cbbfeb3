"""LAM401-LAM407 on the fixtures, options from config, and finding the manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalint.deps import (
    DepsOptions,
    check_requirements,
    deps_options_from_config,
    find_requirement_files,
    import_names,
    resolve_shipment,
)
from lambdalint.errors import ConfigError
from lambdalint.findings import Severity

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "deps"


def _codes(findings) -> list[tuple[str, str, int]]:
    return [(f.code, Path(f.path).name, f.line) for f in findings]


def test_torch_is_over_250_mb_from_the_table_even_when_not_installed() -> None:
    # use_installed=False: the verdict must not depend on what this environment has
    findings = check_requirements(FIXTURES / "torch_project" / "requirements.txt",
                                  handler_imports=None, options=DepsOptions(use_installed=False))
    lam401 = [f for f in findings if f.code == "LAM401"]
    assert len(lam401) == 1
    finding = lam401[0]
    assert finding.line == 2 and finding.severity is Severity.ERROR  # the torch line
    assert finding.name == "package-over-unzipped-limit"
    assert "250 MB" in finding.message and "torch" in finding.message
    assert "LAM402" in {f.code for f in findings}


def test_torch_flagged_with_the_environment_too() -> None:
    findings = check_requirements(FIXTURES / "torch_project" / "requirements.txt",
                                  handler_imports=None, options=DepsOptions())
    assert ("LAM401", "requirements.txt", 2) in _codes(findings)


def test_bundled_boto3_and_dev_tools() -> None:
    findings = check_requirements(FIXTURES / "bundled_sdk" / "requirements.txt",
                                  handler_imports=None, options=DepsOptions())
    codes = _codes(findings)
    assert ("LAM404", "requirements.txt", 2) in codes
    assert ("LAM405", "requirements.txt", 7) in codes  # pytest
    assert ("LAM405", "requirements.txt", 8) in codes  # black
    sdk = next(f for f in findings if f.code == "LAM404")
    assert "boto3" in sdk.message and "bundle-boto3 = true" in sdk.message and "250 MB" in sdk.message
    assert "LAM406" not in {c for c, _, _ in codes}  # imports unknown: skipped


def test_bundle_boto3_on_purpose_silences_lam404() -> None:
    findings = check_requirements(FIXTURES / "bundled_sdk" / "requirements.txt",
                                  handler_imports=None, options=DepsOptions(bundle_boto3=True))
    assert "LAM404" not in {f.code for f in findings}


def test_unimported_dependency_given_handler_imports() -> None:
    findings = check_requirements(FIXTURES / "bundled_sdk" / "requirements.txt",
                                  handler_imports={"json", "os", "boto3", "requests"},
                                  options=DepsOptions())
    unused = [f for f in findings if f.code == "LAM406"]
    assert [(f.line, f.severity) for f in unused] == [(4, Severity.INFO)]
    assert "pyyaml" in unused[0].message and "yaml" in unused[0].message


def test_clean_requirements_have_no_findings() -> None:
    findings = check_requirements(FIXTURES / "clean" / "requirements.txt",
                                  handler_imports={"requests", "aws_lambda_powertools", "pydantic"},
                                  options=DepsOptions())
    assert findings == []


def test_bad_lines_are_lam407_at_their_lines_not_tracebacks() -> None:
    findings = check_requirements(FIXTURES / "bad_lines" / "requirements.txt",
                                  handler_imports={"requests", "aws_lambda_powertools"},
                                  options=DepsOptions())
    lam407 = sorted((Path(f.path).name, f.line) for f in findings if f.code == "LAM407")
    assert lam407 == [("base.txt", 2), ("loop_b.txt", 1), ("requirements.txt", 8),
                      ("requirements.txt", 9), ("requirements.txt", 11), ("requirements.txt", 12)]
    assert all(f.severity is Severity.ERROR for f in findings if f.code == "LAM407")
    # URL and editable requirements cannot be mapped to imports: no LAM406 guess for them
    assert not [f for f in findings if f.code == "LAM406"]


def test_transitive_pins_are_not_unused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("urllib3<3\nrequests\n")
    findings = check_requirements(tmp_path / "requirements.txt", handler_imports={"requests"},
                                  options=DepsOptions(use_installed=False))
    assert findings == []


def test_near_the_limit_with_a_margin(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pyarrow\nnumpy\n")
    options = DepsOptions(use_installed=False, margin=0.5)
    findings = check_requirements(tmp_path / "requirements.txt", handler_imports=None, options=options)
    near = [f for f in findings if f.code == "LAM403"]
    assert near and near[0].line == 1 and "250 MB" in near[0].message
    assert "LAM401" not in {f.code for f in findings}


def test_layers_count_toward_the_unzipped_limit(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "blob.bin").write_bytes(b"\0" * (2 * 2**20))
    (tmp_path / "requirements.txt").write_text("requests\n")
    options = DepsOptions(use_installed=False, layers=(layer,))
    shipment = resolve_shipment(tmp_path / "requirements.txt", options)
    assert shipment.unzipped_bytes - shipment.zipped_bytes > 2 * 2**20 - 1


def test_lock_files_give_the_transitive_set() -> None:
    shipment = resolve_shipment(FIXTURES / "uv_project" / "pyproject.toml",
                                DepsOptions(use_installed=False))
    names = {p.size.name for p in shipment.packages}
    assert {"boto3", "botocore", "s3transfer", "six", "pillow", "pytest"} <= names
    assert "ruff" not in names and "colorama" not in names
    findings = check_requirements(FIXTURES / "uv_project" / "pyproject.toml",
                                  handler_imports={"io", "boto3", "PIL"}, options=DepsOptions())
    assert ("LAM404", "pyproject.toml", 8) in _codes(findings)
    assert ("LAM405", "pyproject.toml", 9) in _codes(findings)


def test_a_lock_file_itself_can_be_checked() -> None:
    findings = check_requirements(FIXTURES / "pipenv_project" / "Pipfile.lock",
                                  handler_imports={"orjson", "dateutil"}, options=DepsOptions())
    assert _codes(findings) == [("LAM406", "Pipfile.lock", 19)]  # jmespath


def test_unknown_packages_are_unknown_not_zero(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("surely-not-a-real-package-xyz==1.0\n")
    shipment = resolve_shipment(tmp_path / "requirements.txt", DepsOptions(use_installed=False))
    [package] = shipment.packages
    assert package.size.unzipped_bytes is None and package.size.source == "unknown"
    assert package.size.version == "1.0"


def test_import_names_from_catalog_table_and_guess() -> None:
    assert import_names("PyYAML") & {"yaml"}
    assert "dateutil" in import_names("python-dateutil")
    assert import_names("Pillow") >= {"PIL"}
    assert import_names("beautifulsoup4") == {"bs4"}
    assert import_names("some-unknown-dist") == {"some_unknown_dist"}


def test_options_from_config() -> None:
    options = deps_options_from_config(
        {"margin": 0.9, "bundle-boto3": True, "dev-tools": ["nox-poetry"], "layers": ["l.zip"],
         "python-version": "3.13", "architecture": "arm64"}, base=Path("/proj"))
    assert options.margin == 0.9 and options.bundle_boto3 and options.dev_tools == ("nox-poetry",)
    assert options.layers == (Path("/proj/l.zip"),)
    assert options.env.marker_environment()["platform_machine"] == "aarch64"
    assert deps_options_from_config({}) == DepsOptions()


@pytest.mark.parametrize("table, key", [
    ({"frobnicate": 1}, "frobnicate"),
    ({"margin": True}, "margin"),
    ({"margin": 1.5}, "margin"),
    ({"bundle-boto3": "yes"}, "bundle-boto3"),
    ({"dev-tools": "pytest"}, "dev-tools"),
    ({"dev-tools": [1]}, "dev-tools"),
    ({"python-version": "3"}, "python-version"),
    ({"architecture": "sparc"}, "architecture"),
])
def test_bad_config_names_the_key(table: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"tool\.lambdalint\.deps\.{key}"):
        deps_options_from_config(table)


def test_find_requirement_files_beside_and_above_the_handler(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "requirements.txt").write_text("-r requirements-base.txt\nrequests\n")
    (tmp_path / "requirements-base.txt").write_text("idna\n")
    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    handler = tmp_path / "src" / "fn" / "app.py"
    handler.parent.mkdir(parents=True)
    handler.write_text("")
    # requirements-base.txt is read through requirements.txt; the dev file does not ship
    assert find_requirement_files(handler) == [(tmp_path / "requirements.txt").resolve()]
    (handler.parent / "requirements.txt").write_text("boto3\n")
    assert find_requirement_files(handler) == [(handler.parent / "requirements.txt").resolve()]


def test_find_requirement_files_falls_back_to_pyproject_and_locks() -> None:
    assert find_requirement_files(FIXTURES / "uv_project" / "app.py") == [
        (FIXTURES / "uv_project" / "pyproject.toml").resolve()]
    assert find_requirement_files(FIXTURES / "pipenv_project" / "app.py") == [
        (FIXTURES / "pipenv_project" / "Pipfile.lock").resolve()]


def test_relative_paths_stay_relative_in_findings() -> None:
    # the test session runs from the repository root (conftest.py)
    [manifest] = find_requirement_files(Path("fixtures/deps/bad_lines/app.py"))
    assert manifest == Path("fixtures/deps/bad_lines/requirements.txt")
    findings = check_requirements(manifest, handler_imports=None, options=DepsOptions())
    assert "fixtures/deps/bad_lines/base.txt" in {f.path for f in findings}
    assert not any(Path(f.path).is_absolute() for f in findings)
