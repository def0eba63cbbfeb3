"""Import-time measurement in fresh interpreters."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from lambdalint.deps.importtime import measure_import_time, parse_importtime
from lambdalint.errors import LambdalintError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "deps"

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 | _io
import time:       300 |        300 |     botocore.exceptions
import time:      1000 |       1300 |   botocore
import time:       200 |       1500 | boto3
import time:        50 |       1550 | app
"""


def test_parse_importtime_reads_nesting() -> None:
    rows = parse_importtime(SAMPLE)
    assert rows[0] == ("_io", 120, 120, 0)
    assert rows[1] == ("botocore.exceptions", 300, 300, 2)
    assert rows[2] == ("botocore", 1000, 1300, 1)
    assert rows[-1] == ("app", 50, 1550, 0)


def test_a_handler_importing_stdlib_only(tmp_path: Path) -> None:
    handler = tmp_path / "small_handler.py"
    handler.write_text("import json\nimport email.parser\n\ndef handler(e, c):\n    return 1\n")
    report = measure_import_time(handler, runs=2)
    assert report.runs == 2 and report.module == "small_handler" and report.total_ms > 0
    assert {t.module for t in report.imports} >= {"email.parser"}
    assert not (tmp_path / "__pycache__").exists()  # bytecode went to a private cache


def test_a_handler_that_fails_to_import_is_a_user_error(tmp_path: Path) -> None:
    handler = tmp_path / "broken.py"
    handler.write_text("import not_a_module_anywhere_xyz\n")
    with pytest.raises(LambdalintError, match="not_a_module_anywhere_xyz"):
        measure_import_time(handler, runs=1)


def test_not_a_python_file(tmp_path: Path) -> None:
    with pytest.raises(LambdalintError):
        measure_import_time(tmp_path / "missing.py")


@pytest.mark.skipif(importlib.util.find_spec("boto3") is None,
                    reason="boto3 is not installed in this environment")
def test_boto3_handler_lists_botocore_among_the_slowest() -> None:
    report = measure_import_time(FIXTURES / "importtime" / "app.py", runs=3, python=sys.executable)
    slowest = [name for name, _ms in report.slowest_packages(5)]
    assert "botocore" in slowest, report.slowest_packages(10)
    assert "boto3" in {t.module for t in report.slowest(10)}
    assert report.total_ms > sum(ms for _name, ms in report.slowest_packages(3))
    data = report.to_dict()
    assert isinstance(data["total_ms"], float) and data["slowest_packages"]
