"""File names of dependency manifests: what `lambdalint check` looks for beside handlers before
it loads the (heavier) dependency checks."""

from __future__ import annotations

LOCK_FILE_NAMES = ("poetry.lock", "uv.lock", "Pipfile.lock")


def may_be_manifest(name: str) -> bool:
    """Could a file of this name describe what a function ships (requirements*.txt,
    pyproject.toml, a lock file)? A cheap test: find_requirement_files has the last word."""
    lower = name.lower()
    return (lower.startswith("requirements") and lower.endswith(".txt")) or name == "pyproject.toml" or name in LOCK_FILE_NAMES
