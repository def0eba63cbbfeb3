"""Locate the data directories (rules/, pricing/) in a wheel install or a source checkout."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_dir(name: str) -> Path:
    """Return the directory holding shipped data `name` ("rules" or "pricing").

    An installed wheel carries it as lambdalint/_data/<name>; an editable install or a checkout
    has it at the repository root, beside the package.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    from .errors import DataError

    raise DataError(f"lambdalint data directory {name!r} is missing from this installation")
