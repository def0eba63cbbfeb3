"""Every rule's own examples (Fixit-style VALID / INVALID) and the documented bad/good examples
from rules/*.toml, run through the real engine. A rule cannot exist without these passing."""

from __future__ import annotations

import os
import textwrap

import pytest

from lambdalint.catalog import all_rules
from lambdalint.rules import RULE_CLASSES, STATIC_CODES
from lambdalint.testing import check_snippet, expectations

CASES = [
    pytest.param(cls, kind, index, source, id=f"{cls.__name__}-{kind}-{index}")
    for cls in RULE_CLASSES
    for kind, sources in (("valid", cls.VALID), ("invalid", cls.INVALID))
    for index, source in enumerate(sources)
]


@pytest.mark.parametrize("cls, kind, index, source", CASES)
def test_rule_examples(cls, kind, index, source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    findings = check_snippet(source, tmp_path)
    got = {(f.line, f.code) for f in findings if f.code in cls.CODES}
    if kind == "valid":
        assert got == set(), f"{cls.__name__} flagged valid code: {sorted(got)}"
    else:
        wanted = {(line, code) for _, line, code in expectations(tmp_path / "app.py") if code in cls.CODES}
        assert wanted, "an INVALID example must expect at least one finding"
        assert got == wanted, f"missing {sorted(wanted - got)}, unexpected {sorted(got - wanted)}"


def test_every_rule_class_has_examples():
    for cls in RULE_CLASSES:
        assert cls.VALID and cls.INVALID, cls.__name__
        flagged = {code for source in cls.INVALID for code in _codes_in(source)}
        assert flagged == set(cls.CODES), f"{cls.__name__}: codes without an INVALID example: {set(cls.CODES) - flagged}"


def _codes_in(source: str) -> set[str]:
    import re

    return set(re.findall(r"expect:.*?(LAM\d{3})", source)) | set(re.findall(r"expect:\s*LAM\d{3}\s*,\s*(LAM\d{3})", source))


def test_every_static_code_is_documented():
    documented = set(all_rules())
    assert STATIC_CODES <= documented
    for code, info in all_rules().items():
        assert info.name and info.summary and info.rationale, code
        assert info.fix or code.startswith("LAM9"), f"{code} says what is wrong but not what to do"


DOC_CASES = [
    pytest.param(info, id=code)
    for code, info in sorted(all_rules().items())
    if code in STATIC_CODES and info.bad
]


@pytest.mark.parametrize("info", DOC_CASES)
def test_documented_examples(info, tmp_path, monkeypatch):
    """The bad example in `lambdalint rule CODE` is flagged and the good one is not."""
    monkeypatch.chdir(tmp_path)
    preamble = "import json, os, time, uuid, boto3, requests, stripe, nltk, joblib\nfrom functools import lru_cache\nfrom types import SimpleNamespace\nfrom aws_lambda_powertools.utilities.idempotency import idempotent\n"
    preamble += "s3 = boto3.client('s3')\ntable = boto3.resource('dynamodb').Table('t')\nsqs = boto3.client('sqs')\n"
    bad = check_snippet(preamble + textwrap.dedent(info.bad), tmp_path / "bad", select=[info.code])
    good = check_snippet(preamble + textwrap.dedent(info.good), tmp_path / "good", select=[info.code])
    assert any(f.code == info.code for f in bad), f"{info.code}: documented bad example is not flagged"
    assert not [f for f in good if f.code == info.code], f"{info.code}: documented good example is flagged: {good}"
