"""Read what a function declares it ships: requirements files and pyproject dependencies.

Parsing never raises on bad input: every line that pip would choke on becomes a `ParseProblem`
with its file and line, so the checker can report it (LAM407) instead of a traceback.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# Lambda's Python runtimes run CPython on Amazon Linux; these are the marker values pip sees there.
_ARCH_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


@dataclass(frozen=True)
class TargetEnv:
    """The Lambda runtime a requirement's environment marker is evaluated for."""

    python_version: str = "3.12"
    architecture: str = "x86_64"

    def marker_environment(self) -> dict[str, str]:
        machine = _ARCH_MACHINE.get(self.architecture, self.architecture)
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python_version}.0",
            "os_name": "posix",
            "platform_machine": machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{self.python_version}.0",
            "python_version": self.python_version,
            "sys_platform": "linux",
            "extra": "",
        }


@dataclass(frozen=True)
class RequirementLine:
    """One requirement as written, with the place it was written."""

    name: str  # canonical distribution name ("" when a URL line names none)
    path: Path
    line: int
    text: str  # the requirement as written, options and comments removed
    specifier: str = ""
    extras: frozenset[str] = frozenset()
    url: str | None = None  # direct URL, VCS or local path: its size cannot be looked up
    editable: bool = False

    @property
    def pinned_version(self) -> str | None:
        """The version an `==` pin names, used to pick the matching size-table entry."""
        match = re.fullmatch(r"===?\s*([^,;\s*]+)", self.specifier.strip())
        return match.group(1) if match else None


@dataclass(frozen=True)
class ParseProblem:
    path: Path
    line: int
    message: str
    column: int = 1
    fatal: bool = True  # False: pip would still install, but lambdalint cannot count it


@dataclass
class ParsedRequirements:
    requirements: list[RequirementLine] = field(default_factory=list)  # what ships on the target
    skipped: list[RequirementLine] = field(default_factory=list)  # marker false on the target
    constraints: list[RequirementLine] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def extend(self, other: ParsedRequirements) -> None:
        self.requirements += other.requirements
        self.skipped += other.skipped
        self.constraints += other.constraints
        self.problems += other.problems
        self.files += [f for f in other.files if f not in self.files]


# pip's own rule: a comment starts at a '#' at line start or after whitespace, so '#egg=' in a
# URL survives.
_COMMENT = re.compile(r"(^|\s+)#.*$")
# Per-requirement options pip accepts after the requirement itself.
_TRAILING_OPTION = re.compile(r"\s+--(hash|config-settings|global-option|install-option)\b.*$")
_HASH = re.compile(r"--hash[= ]\s*(\S*)")
_VALID_HASH = re.compile(r"(sha256|sha384|sha512|md5|sha1|sha224):[0-9a-fA-F]+")
_INCLUDE_OPTIONS = {"-r": "requirement", "--requirement": "requirement",
                    "-c": "constraint", "--constraint": "constraint"}
# Options that change where pip looks, not what ships: accepted and ignored.
_GLOBAL_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links", "--pre",
    "--prefer-binary", "--only-binary", "--no-binary", "--trusted-host", "--use-feature",
    "--require-hashes", "--progress-bar", "--no-deps",
}
_URL_SCHEMES = ("http://", "https://", "file:", "git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar")


def parse_requirements_file(path: Path, env: TargetEnv | None = None) -> ParsedRequirements:
    """Parse a pip requirements file and everything it includes with `-r` / `-c`."""
    return _parse_file(Path(path), env or TargetEnv(), stack=(), seen=set(), constraint=False)


def _parse_file(
    path: Path, env: TargetEnv, *, stack: tuple[Path, ...], seen: set[Path], constraint: bool
) -> ParsedRequirements:
    result = ParsedRequirements(files=[path])
    resolved = path.resolve()
    seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        result.problems.append(ParseProblem(path, 1, f"file is not UTF-8 ({exc.reason})"))
        return result
    except OSError as exc:
        result.problems.append(ParseProblem(path, 1, f"cannot read the file ({exc.strerror})"))
        return result
    for lineno, line in _logical_lines(text):
        _parse_line(path, lineno, line, env, result, stack + (resolved,), seen, constraint)
    return result


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and drop comments; keep the first physical line number."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        stripped = _COMMENT.sub("", raw)
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined = (pending + stripped).strip()
        pending = ""
        if joined:
            lines.append((start, joined))
    if pending.strip():
        lines.append((start, pending.strip()))
    return lines


def _parse_line(
    path: Path,
    lineno: int,
    line: str,
    env: TargetEnv,
    result: ParsedRequirements,
    stack: tuple[Path, ...],
    seen: set[Path],
    constraint: bool,
) -> None:
    if line.startswith("-"):
        option, _, value = _split_option(line)
        if option in _INCLUDE_OPTIONS:
            is_constraint = constraint or _INCLUDE_OPTIONS[option] == "constraint"
            _include(path, lineno, value, env, result, stack, seen, is_constraint)
            return
        if option in ("-e", "--editable"):
            _add(result, _url_requirement(path, lineno, value, editable=True), constraint, True)
            return
        if option in _GLOBAL_OPTIONS:
            return
        result.problems.append(ParseProblem(path, lineno, f"unknown pip option {option!r}"))
        return
    parsed = _parse_requirement(path, lineno, line, env)
    if isinstance(parsed, ParseProblem):
        result.problems.append(parsed)
    else:
        requirement, applies = parsed
        _add(result, requirement, constraint, applies)


def _split_option(line: str) -> tuple[str, str, str]:
    """Split `--opt=value`, `--opt value`, `-o value` and `-ovalue` (optparse allows all four)."""
    long = re.match(r"(--[A-Za-z][\w-]*)(?:=|\s+)?(.*)$", line)
    if long:
        return long.group(1), "", long.group(2).strip()
    short = re.match(r"(-[A-Za-z])\s*(.*)$", line)
    if short:
        return short.group(1), "", short.group(2).strip()
    return line, "", ""


def _add(result: ParsedRequirements, req: RequirementLine, constraint: bool, applies: bool) -> None:
    if constraint:
        result.constraints.append(req)
    elif applies:
        result.requirements.append(req)
    else:
        result.skipped.append(req)


def _include(
    path: Path,
    lineno: int,
    target: str,
    env: TargetEnv,
    result: ParsedRequirements,
    stack: tuple[Path, ...],
    seen: set[Path],
    constraint: bool,
) -> None:
    if not target:
        result.problems.append(ParseProblem(path, lineno, "include option without a file name"))
        return
    if target.startswith(("http://", "https://")):
        message = f"remote include {target} is not read: its packages are not counted"
        result.problems.append(ParseProblem(path, lineno, message, fatal=False))
        return
    # Findings show the path as the user wrote it (relative stays relative); cycles and
    # diamonds are recognised on the resolved path.
    shown = Path(os.path.normpath(path.parent / target))
    included = shown.resolve()
    if included in stack:
        chain = " -> ".join(p.name for p in stack[stack.index(included):]) + f" -> {included.name}"
        result.problems.append(ParseProblem(path, lineno, f"include cycle: {chain}"))
        return
    if included in seen:  # a diamond: the file's packages are already counted once
        return
    if not included.is_file():
        result.problems.append(ParseProblem(path, lineno, f"included file {target} does not exist"))
        return
    result.extend(_parse_file(shown, env, stack=stack, seen=seen, constraint=constraint))


def _parse_requirement(
    path: Path, lineno: int, line: str, env: TargetEnv
) -> tuple[RequirementLine, bool] | ParseProblem:
    for digest in _HASH.findall(line):
        if not _VALID_HASH.fullmatch(digest):
            return ParseProblem(path, lineno, f"malformed --hash value {digest!r} (want algo:hex)")
    text = _TRAILING_OPTION.sub("", line).strip()
    if _looks_like_url(text):
        return _url_requirement(path, lineno, text, editable=False), True
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        return ParseProblem(path, lineno, f"not a valid requirement: {_first_line(exc)}")
    applies = _marker_applies(requirement.marker, env)
    if isinstance(applies, ParseProblem):
        return ParseProblem(path, lineno, applies.message)
    return _from_requirement(requirement, path, lineno, text), applies


def _from_requirement(requirement: Requirement, path: Path, lineno: int, text: str) -> RequirementLine:
    return RequirementLine(
        name=canonicalize_name(requirement.name),
        path=path,
        line=lineno,
        text=text,
        specifier=str(requirement.specifier),
        extras=frozenset(requirement.extras),
        url=requirement.url,
    )


def _marker_applies(marker: Marker | None, env: TargetEnv) -> bool | ParseProblem:
    if marker is None:
        return True
    try:
        return marker.evaluate(env.marker_environment())
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        return ParseProblem(Path(), 0, f"environment marker cannot be evaluated: {exc}")


def _looks_like_url(text: str) -> bool:
    if " @ " in text or re.match(r"^[\w.\-\[\], ]+@\s*\S+://", text):
        return False  # PEP 508 `name @ url`: packaging handles it and keeps the name
    return text.startswith(_URL_SCHEMES + (".", "/", "~")) or text.endswith(_ARCHIVE_SUFFIXES)


def _url_requirement(path: Path, lineno: int, target: str, *, editable: bool) -> RequirementLine:
    """A URL, VCS or local-path line: keep it (size unknown), naming it if the line says how."""
    name = ""
    egg = re.search(r"[#&]egg=([A-Za-z0-9][\w.\-]*)", target)
    wheel = re.search(r"([A-Za-z0-9][\w.]*)-[^-/]+-[^/]*\.whl$", target)
    if egg:
        name = egg.group(1)
    elif wheel:
        name = wheel.group(1)
    return RequirementLine(
        name=canonicalize_name(name) if name else "",
        path=path,
        line=lineno,
        text=target,
        url=target,
        editable=editable,
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- pyproject.toml ------------------------------------------------------------------------


def parse_pyproject(path: Path, env: TargetEnv | None = None) -> ParsedRequirements:
    """Read `[project] dependencies` (or Poetry's `[tool.poetry.dependencies]`) of a pyproject."""
    path = Path(path)
    env = env or TargetEnv()
    result = ParsedRequirements(files=[path])
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        result.problems.append(ParseProblem(path, 1, f"cannot read the file ({exc.strerror})"))
        return result
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(exc)
        result.problems.append(ParseProblem(path, line, f"invalid TOML: {_first_line(exc)}"))
        return result
    lines = text.splitlines()
    project = data.get("project", {})
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if isinstance(dependencies, list):
        start = _key_line(lines, "dependencies", section="[project]")
        for item in dependencies:
            _pyproject_item(path, lines, start, item, env, result)
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies")
    if dependencies is None and isinstance(poetry, dict):
        _poetry_dependencies(path, lines, poetry, result)
    return result


def _pyproject_item(
    path: Path, lines: list[str], start: int, item: object, env: TargetEnv, result: ParsedRequirements
) -> None:
    lineno = _line_containing(lines, f"{item}", start) if isinstance(item, str) else start
    if not isinstance(item, str):
        result.problems.append(ParseProblem(path, lineno, f"dependency {item!r} is not a string"))
        return
    parsed = _parse_requirement(path, lineno, item, env)
    if isinstance(parsed, ParseProblem):
        result.problems.append(parsed)
    else:
        _add(result, parsed[0], False, parsed[1])


def _poetry_dependencies(
    path: Path, lines: list[str], table: dict, result: ParsedRequirements
) -> None:
    start = _key_line(lines, "", section="[tool.poetry.dependencies]")
    for name, spec in table.items():
        if name.lower() == "python":
            continue
        if isinstance(spec, dict) and spec.get("optional"):
            continue  # only ships when an extra asks for it
        version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
        lineno = _line_matching(lines, rf"^\s*\"?{re.escape(name)}\"?\s*=", start)
        result.requirements.append(
            RequirementLine(name=canonicalize_name(name), path=path, line=lineno,
                            text=f"{name} = {spec!r}", specifier=str(version))
        )


def _toml_error_line(exc: Exception) -> int:
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else 1


def _key_line(lines: list[str], key: str, *, section: str) -> int:
    """1-based line of `key =` inside `section`, or of the section header when key is empty."""
    in_section = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped == section
            if in_section and not key:
                return number
            continue
        if in_section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return 1


def _line_containing(lines: list[str], needle: str, start: int) -> int:
    for number in range(start, len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return start


def _line_matching(lines: list[str], pattern: str, start: int) -> int:
    regex = re.compile(pattern)
    for number in range(start, len(lines) + 1):
        if regex.match(lines[number - 1]):
            return number
    return start
