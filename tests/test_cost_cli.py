"""`lambdalint cost` through click's CliRunner, and the `[tool.lambdalint.functions]` reader."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdalint.cli_cost import cost_command
from lambdalint.cost import FunctionUsage, functions_from_pyproject
from lambdalint.errors import ConfigError

OD_1 = ["--memory-mb", "1536", "--duration-ms", "120", "--requests", "3000000"]
PRICING = Path(__file__).resolve().parents[1] / "pricing"
PYPROJECT = """
[project]
name = "demo"

[tool.lambdalint]
handlers = ["app.handler"]

[tool.lambdalint.functions.api]
memory = 1536
timeout = 30
architecture = "x86_64"
region = "us-east-1"
requests = 3_000_000
duration-ms = 120

[tool.lambdalint.functions.resize]
memory = 2048
timeout = 60
architecture = "arm64"
region = "eu-west-1"
requests = 200_000
duration-ms = 850.5
init-ms = 400
cold-start-rate = 0.02
"""


def run(*args: str):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output by default
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cost_command, list(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


def test_text_breakdown_shows_inputs_prices_and_total() -> None:
    result = run(*OD_1)
    assert result.exit_code == 0, result.stderr
    out = result.output
    assert "3,000,000 − 1,000,000 free = 2,000,000 × $0.20 per 1M" in out
    assert "540,000 GB-s − 400,000 free = 140,000 GB-s × $0.0000166667 = $2.33" in out
    assert "1,000,000 requests + 400,000 GB-s" in out
    assert "$2.73 per month" in out


def test_json_numbers_are_numbers_and_inputs_are_included() -> None:
    result = run(*OD_1, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.output)
    assert data["gb_seconds"] == 540_000
    for key in ("requests_usd", "compute_usd", "init_usd", "ephemeral_storage_usd",
                "provisioned_concurrency_usd", "free_tier_usd", "total_usd"):
        assert isinstance(data[key], float), key
    assert round(data["total_usd"], 2) == 2.73 and round(data["compute_usd"], 2) == 2.33
    assert data["inputs"]["memory_mb"] == 1536 and data["inputs"]["arch"] == "x86_64"
    assert data["inputs"]["region"] == "us-east-1" and data["inputs"]["free_tier"] is True


def test_every_option_is_explained_in_help() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for option in ("--memory-mb", "--duration-ms", "--requests", "--arch", "--region",
                   "--ephemeral-storage-mb", "--init-ms", "--cold-start-rate", "--provisioned-concurrency",
                   "--provisioned-hours", "--no-free-tier", "--format", "--config", "--function",
                   "--pricing-dir"):
        assert option in result.output
    assert result.output.count("  --") >= 16  # each option has its own help line


def test_optional_flags_change_the_breakdown() -> None:
    result = run(*OD_1, "--arch", "arm64", "--region", "eu-west-1", "--ephemeral-storage-mb", "1024",
                 "--init-ms", "250", "--cold-start-rate", "1%", "--no-free-tier", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.output)
    assert data["inputs"]["cold_start_rate"] == 0.01 and data["cold_starts"] == 30_000
    assert data["free_gb_seconds"] == 0 and data["ephemeral_storage_usd"] > 0 and data["init_usd"] > 0
    assert data["price_table"]["region"] == "eu-west-1"
    assert any("unconfirmed" in c for c in data["caveats"])


def test_provisioned_concurrency_example_pc2() -> None:
    result = run("--memory-mb", "4096", "--duration-ms", "280", "--requests", "2000000",
                 "--provisioned-concurrency", "7", "--provisioned-hours", "24")
    assert result.exit_code == 0, result.stderr
    assert "7 × 4 GB × 86,400 s = 2,419,200 GB-s × $0.0000041667" in result.output
    assert "$32.26 per month" in result.output


def test_config_table_lists_every_function_and_a_total(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)  # no flags, no --config: ./pyproject.toml
    result = run()
    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["function", "region", "arch"]
    api = next(line for line in lines if line.startswith("api "))
    resize = next(line for line in lines if line.startswith("resize "))
    total = next(line for line in lines if line.startswith("total "))
    assert "us-east-1" in api and "eu-west-1" in resize and "arm64" in resize

    def dollars(line: str) -> Decimal:
        return Decimal(line.split()[-1].lstrip("$").replace(",", ""))

    assert abs(dollars(api) + dollars(resize) - dollars(total)) <= Decimal("0.01")
    assert "free tier: 1,000,000 requests + 400,000 GB-s" in result.output


def test_config_json_and_explicit_config_file(project: Path, tmp_path: Path) -> None:
    result = run("--config", str(project / "pyproject.toml"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.output)
    assert list(data["functions"]) == ["api", "resize"]
    parts = sum(f["total_usd"] for f in data["functions"].values())
    assert data["total_usd"] == pytest.approx(parts)
    assert data["functions"]["resize"]["inputs"]["duration_ms"] == 850.5


def test_config_function_breakdown_and_what_if_overrides(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = run("--function", "resize", "--arch", "x86_64")
    assert result.exit_code == 0, result.stderr
    assert result.output.startswith("resize: eu-west-1")
    assert "x86_64" in result.output.splitlines()[0]
    assert "4,000 cold starts × 400 ms × 2 GB" in result.output


def test_bad_region_exits_2_naming_it() -> None:
    result = run(*OD_1, "--region", "eu-mars-1")
    assert result.exit_code == 2
    assert result.stderr.startswith("lambdalint: error:")
    assert "eu-mars-1" in result.stderr and "us-east-1" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_broken_pricing_table_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    good = (PRICING / "us-east-1.toml").read_text()
    broken = good.replace('usd_per_gb_second = "0.0000041667"', 'usd_per_gb_second = "-0.0000041667"')
    (tmp_path / "us-east-1.toml").write_text(broken)
    result = run(*OD_1, "--pricing-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "us-east-1.toml" in result.stderr
    assert "provisioned_concurrency.x86_64.usd_per_gb_second" in result.stderr
    assert "negative" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--memory-mb", "1536"], "missing --duration-ms, --requests"),
    ([*OD_1, "--memory-mb", "64"], "--memory-mb: "),
    (["--memory-mb", "1536", "--duration-ms", "-3", "--requests", "10"], "--duration-ms: must not be negative"),
    ([*OD_1, "--init-ms", "300"], "--init-ms and --cold-start-rate go together"),
    ([*OD_1, "--cold-start-rate", "2"], "--cold-start-rate"),
    ([*OD_1, "--provisioned-hours", "5"], "--provisioned-concurrency and --provisioned-hours go together"),
    (["--init-ms", "300", "--cold-start-rate", "0.1"], "describe one function"),
])
def test_bad_flags_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_no_flags_and_no_pyproject_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 2
    assert "nothing to price: no pyproject.toml in" in result.stderr


@pytest.mark.parametrize("edit, key", [
    (("duration-ms = 120", "duration_ms = 120"),
     "tool.lambdalint.functions.api.duration_ms: unknown key (did you mean 'duration-ms'?)"),
    (("memory = 1536", 'memory = "1536"'), "tool.lambdalint.functions.api.memory must be an integer"),
    (("memory = 1536", "memory = 20480"), "tool.lambdalint.functions.api.memory: "),
    (('architecture = "arm64"', 'architecture = "arm"'), "tool.lambdalint.functions.resize.architecture"),
    (("requests = 200_000", "requests = -1"), "tool.lambdalint.functions.resize.requests: must not be negative"),
    (("duration-ms = 120", "duration-ms = 45000"), "tool.lambdalint.functions.api.duration-ms: average duration"),
])
def test_bad_config_exits_2_naming_the_key(project: Path, edit: tuple[str, str], key: str) -> None:
    path = project / "pyproject.toml"
    path.write_text(PYPROJECT.replace(*edit))
    result = run("--config", str(path))
    assert result.exit_code == 2
    assert key in result.stderr


def test_functions_from_pyproject_builds_usages() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    functions = functions_from_pyproject(tomllib.loads(PYPROJECT))
    assert list(functions) == ["api", "resize"]
    assert functions["api"] == FunctionUsage(1536, 120, 3_000_000, timeout_s=30)
    assert functions["resize"].duration_ms == Decimal("850.5")
    assert functions["resize"].cold_start_rate == Decimal("0.02")
    assert functions_from_pyproject({"project": {"name": "x"}}) == {}


@pytest.mark.parametrize("data, message", [
    ({"tool": {"lambdalint": {"functions": []}}}, "tool.lambdalint.functions must be a table"),
    ({"tool": {"lambdalint": {"functions": {"api": 3}}}}, "tool.lambdalint.functions.api must be a table"),
    ({"tool": {"lambdalint": {"functions": {"api": {"memory": 128}}}}}, "missing requests, duration-ms"),
    ({"tool": {"lambdalint": {"functions": {"api": {"memory": True, "requests": 1, "duration-ms": 1}}}}},
     "tool.lambdalint.functions.api.memory must be an integer"),
])
def test_functions_from_pyproject_rejects_bad_tables(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        functions_from_pyproject(data)
