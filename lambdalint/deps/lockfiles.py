"""Read the resolved package set from poetry.lock, uv.lock and Pipfile.lock.

A lock file names every transitive dependency with its exact version, so when one sits beside
the manifest the size total covers what really ships rather than only the direct requirements.
Development groups are left out: they are not part of the deployment package.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.utils import canonicalize_name

from .names import LOCK_FILE_NAMES
from .requirements import ParseProblem, TargetEnv

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_DEV_GROUPS = {"dev", "develop", "test", "tests", "lint", "docs", "typing"}


@dataclass(frozen=True)
class LockedPackage:
    name: str  # canonical
    version: str
    line: int
    dependencies: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # empty when the lock format does not record groups


@dataclass
class LockFile:
    path: Path
    kind: str  # "poetry" | "uv" | "pipenv"
    packages: dict[str, LockedPackage] = field(default_factory=dict)
    roots: tuple[str, ...] = ()  # the project's own runtime dependencies, when the lock says
    problems: list[ParseProblem] = field(default_factory=list)

    def shipped(self, roots: Iterable[str] | None = None) -> dict[str, LockedPackage]:
        """Packages that ship: the closure of the runtime roots, without development groups."""
        if self.kind == "pipenv":  # only the "default" section was read, and it has no edges
            return dict(self.packages)
        if any(p.groups for p in self.packages.values()):
            return {n: p for n, p in self.packages.items() if set(p.groups) - _DEV_GROUPS}
        start = [canonicalize_name(r) for r in (roots or self.roots)]
        if not start:
            return dict(self.packages)
        return {n: self.packages[n] for n in self.closure(start)}

    def closure(self, roots: Iterable[str]) -> list[str]:
        """Names reachable from `roots` through locked dependencies, roots first."""
        order: list[str] = []
        pending = [r for r in roots if r in self.packages]
        while pending:
            name = pending.pop(0)
            if name in order:
                continue
            order.append(name)
            pending += [d for d in self.packages[name].dependencies if d in self.packages]
        return order


def find_lock_file(directory: Path) -> Path | None:
    for name in LOCK_FILE_NAMES:
        candidate = Path(directory) / name
        if candidate.is_file():
            return candidate
    return None


def read_lock_file(path: Path, env: TargetEnv | None = None) -> LockFile:
    """Parse any supported lock file; problems are recorded, never raised.

    Dependency edges whose marker is false on the Lambda runtime (`env`) are dropped, so a
    Windows-only dependency of a package does not count toward the size.
    """
    path = Path(path)
    marker_env = (env or TargetEnv()).marker_environment()
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name == "Pipfile.lock":
        return _read_pipfile_lock(path, text)
    kind = "uv" if path.name == "uv.lock" else "poetry"
    lock = LockFile(path=path, kind=kind)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        lock.problems.append(ParseProblem(path, line, f"invalid TOML: {exc}"))
        return lock
    lines = _package_lines(text)
    for entry in data.get("package", []):
        if not isinstance(entry, dict) or "name" not in entry:
            continue
        package = _toml_package(entry, lines, kind, marker_env)
        lock.packages.setdefault(package.name, package)  # uv may list forks; keep the first
        if kind == "uv" and _is_uv_project(entry):
            lock.roots += tuple(_uv_names(entry.get("dependencies", []), marker_env))
    return lock


def _toml_package(entry: dict, lines: dict[str, int], kind: str, env: dict[str, str]) -> LockedPackage:
    name = canonicalize_name(str(entry["name"]))
    if kind == "uv":
        dependencies = tuple(_uv_names(entry.get("dependencies", []), env))
    else:
        dependencies = tuple(_poetry_names(entry.get("dependencies", {}), env))
    groups = entry.get("groups") or ([entry["category"]] if "category" in entry else [])
    return LockedPackage(
        name=name,
        version=str(entry.get("version", "")),
        line=lines.get(name, 1),
        dependencies=dependencies,
        groups=tuple(str(g) for g in groups),
    )


def _is_uv_project(entry: dict) -> bool:
    source = entry.get("source", {})
    return isinstance(source, dict) and bool({"virtual", "editable"} & source.keys()) and (
        source.get("virtual") == "." or source.get("editable") == "."
    )


def _applies(marker: object, env: dict[str, str]) -> bool:
    """A dependency edge counts unless its marker is readable and false on the target."""
    if not isinstance(marker, str) or not marker.strip():
        return True
    try:
        return Marker(marker).evaluate(env)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True  # unreadable: counting it errs toward a bigger, not a smaller, package


def _uv_names(items: object, env: dict[str, str]) -> list[str]:
    if not isinstance(items, list):
        return []
    return [canonicalize_name(i["name"]) for i in items
            if isinstance(i, dict) and "name" in i and _applies(i.get("marker"), env)]


def _poetry_names(table: object, env: dict[str, str]) -> list[str]:
    """Poetry lists dependencies as name = constraint or {version, markers, optional}; optional
    ones ship only with an extra, and marker-gated ones only where the marker holds."""
    if not isinstance(table, dict):
        return []
    names = []
    for name, spec in table.items():
        specs = [s if isinstance(s, dict) else {} for s in (spec if isinstance(spec, list) else [spec])]
        if any(not s.get("optional") and _applies(s.get("markers"), env) for s in specs):
            names.append(canonicalize_name(name))
    return names


def _package_lines(text: str) -> dict[str, int]:
    """Line of each `[[package]]` entry's `name = ...`, so findings can point at it."""
    lines: dict[str, int] = {}
    in_package = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_package = stripped == "[[package]]"
            continue
        match = re.match(r'name\s*=\s*"([^"]+)"', stripped)
        if in_package and match:
            lines.setdefault(canonicalize_name(match.group(1)), number)
            in_package = False
    return lines


def _read_pipfile_lock(path: Path, text: str) -> LockFile:
    lock = LockFile(path=path, kind="pipenv")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lock.problems.append(ParseProblem(path, exc.lineno, f"invalid JSON: {exc.msg}", exc.colno))
        return lock
    lock.roots = _pipfile_packages(path.parent / "Pipfile")
    default = data.get("default", {}) if isinstance(data, dict) else {}
    start = next((i for i, l in enumerate(text.splitlines(), 1) if '"default"' in l), 1)
    for raw_name, info in default.items():
        name = canonicalize_name(raw_name)
        version = str(info.get("version", "")).lstrip("=") if isinstance(info, dict) else ""
        line = _first_line_at_or_after(text, f'"{raw_name}": {{', start)
        lock.packages[name] = LockedPackage(name=name, version=version, line=line)
    return lock


def _first_line_at_or_after(text: str, needle: str, start: int) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= start and needle in line:
            return number
    return start


def _pipfile_packages(pipfile: Path) -> tuple[str, ...]:
    """The runtime roots a Pipfile names in [packages]; empty when there is no readable Pipfile."""
    try:
        data = tomllib.loads(pipfile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    packages = data.get("packages", {})
    return tuple(canonicalize_name(n) for n in packages) if isinstance(packages, dict) else ()
