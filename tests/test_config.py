"""[tool.lambdalint]: every key validated, errors name the key and exit 2."""

from __future__ import annotations

import pytest

from lambdalint.config import Config, from_table, load
from lambdalint.errors import ConfigError


@pytest.mark.parametrize("table, key", [
    ({"selct": ["LAM1"]}, "tool.lambdalint.selct"),
    ({"select": "LAM1x"}, "tool.lambdalint.select"),
    ({"select": [101]}, "tool.lambdalint.select"),
    ({"timeout": 901}, "tool.lambdalint.timeout"),
    ({"timeout": "30"}, "tool.lambdalint.timeout"),
    ({"timeout": True}, "tool.lambdalint.timeout"),
    ({"memory": 64}, "tool.lambdalint.memory"),
    ({"handlers": "app.py:handler:x", "per-file-ignores": ["x"]}, "tool.lambdalint.per-file-ignores"),
    ({"severity": {"LAM101": "fatal"}}, "tool.lambdalint.severity.LAM101"),
    ({"severity": {"LAM999": "error"}}, "tool.lambdalint.severity"),
    ({"budget": 5}, "tool.lambdalint.budget"),
])
def test_bad_values_name_the_key(table, key, tmp_path):
    with pytest.raises(ConfigError) as err:
        from_table(table, tmp_path)
    assert key in err.value.message


def test_good_table(tmp_path):
    config = from_table({
        "select": ["LAM1", "LAM2", "unbounded-cache"], "ignore": ["LAM104"], "timeout": 30, "memory": 1024,
        "handlers": ["src/app.py:handler"], "per-file-ignores": {"tests/*": ["LAM"]},
        "extend-exclude": ["generated"], "severity": {"LAM202": "info"},
    }, tmp_path)
    assert config.timeout == 30 and config.memory == 1024
    assert "generated" in config.exclude and ".venv" in config.exclude
    assert config.severity == (("LAM202", "info"),)


def test_load_finds_nearest_pyproject_and_explicit_files(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lambdalint]\ntimeout = 60\n')
    nested = tmp_path / "src" / "fn"
    nested.mkdir(parents=True)
    assert load(start=nested).timeout == 60
    other = tmp_path / "lint.toml"
    other.write_text("timeout = 10\n")
    assert load(other).timeout == 10
    assert load(start=tmp_path.parent / "nowhere-else").__class__ is Config


def test_broken_toml_is_a_config_error(tmp_path):
    bad = tmp_path / "pyproject.toml"
    bad.write_text("[tool.lambdalint\ntimeout = ")
    with pytest.raises(ConfigError) as err:
        load(bad)
    assert "invalid TOML" in err.value.message
    with pytest.raises(ConfigError):
        load(tmp_path / "missing.toml")
