"""LAM4xx: what a function's requirements put in its deployment package, and what that costs.

The engine calls `check_requirements` for each requirements file found beside a handler
(`find_requirement_files`). `resolve_shipment` is the shared step: it reads the file (and a lock
file beside it), follows dependencies, and sizes every package that would ship; the CLI's
`deps` command prints the same shipment as a table.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import ConfigError, DataError
from ..findings import Finding, Severity
from .lockfiles import LOCK_FILE_NAMES, LockFile, find_lock_file, read_lock_file
from .requirements import (
    ParsedRequirements,
    ParseProblem,
    RequirementLine,
    TargetEnv,
    parse_pyproject,
    parse_requirements_file,
)
from .sizes import (
    MIB,
    PackageSize,
    SizeTable,
    format_mb,
    installed_distributions,
    installed_requires,
    load_size_table,
    measure_directory,
    measure_distribution,
    measure_zip,
    unknown,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# Lambda quotas (shared/facts/aws-lambda.md section 3). AWS counts MB as 2**20 bytes: an
# oversize function is refused with "Unzipped size must be smaller than 262144000 bytes".
UNZIPPED_LIMIT = 250 * MIB  # function code plus all its layers, unzipped
ZIPPED_LIMIT = 50 * MIB  # a .zip uploaded directly through the Lambda API, SDK or console
# What every python3.x managed runtime already has on its path.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer")

# The LAM4xx codes this module reports; their names and docs live in rules/lam4xx.toml.
CODES = ("LAM401", "LAM402", "LAM403", "LAM404", "LAM405", "LAM406", "LAM407")


def rule_name(code: str) -> str:
    from ..catalog import rule

    info = rule(code)
    return info.name if info else ""


# --- options -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepsOptions:
    """`[tool.lambdalint.deps]`: every field has a default, so DepsOptions() is a valid config."""

    margin: float = 0.8  # LAM403 fires above this fraction of a limit
    bundle_boto3: bool = False  # True: the project pins its own SDK on purpose
    site_packages: Path | None = None  # None: the interpreter lambdalint runs in
    use_installed: bool = True  # False: sizes come only from the shipped table
    dev_tools: tuple[str, ...] = ()  # added to rules/catalogs/dev_tools.toml
    ignore_unused: tuple[str, ...] = ()  # distributions LAM406 must not report
    python_version: str = "3.12"  # the Lambda runtime markers are evaluated for
    architecture: str = "x86_64"
    layers: tuple[Path, ...] = ()  # layer directories or zips: they count toward 250 MB
    size_table: Path | None = None  # None: the table shipped with lambdalint

    @property
    def env(self) -> TargetEnv:
        return TargetEnv(self.python_version, self.architecture)


def _check_type(key: str, value: object, kind: type | tuple[type, ...], what: str) -> None:
    # bool is a subclass of int, but `margin = true` is a mistake, not 1.0.
    wrong_bool = isinstance(value, bool) and kind is not bool
    if wrong_bool or not isinstance(value, kind):
        raise ConfigError(f"tool.lambdalint.deps.{key} must be {what}, not {type(value).__name__}")


def _string_list(key: str, value: object) -> tuple[str, ...]:
    _check_type(key, value, list, "a list of strings")
    if not all(isinstance(v, str) for v in value):  # type: ignore[union-attr]
        raise ConfigError(f"tool.lambdalint.deps.{key} must be a list of strings")
    return tuple(value)  # type: ignore[arg-type]


def _path(base: Path | None, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() or base is None else base / path


def deps_options_from_config(table: dict, *, base: Path | None = None) -> DepsOptions:
    """Validate `[tool.lambdalint.deps]`; relative paths are taken from `base` (the config's dir)."""
    if not isinstance(table, dict):
        raise ConfigError("tool.lambdalint.deps must be a table")
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in _CONFIG_KEYS:
            known = ", ".join(sorted(_CONFIG_KEYS))
            raise ConfigError(f"tool.lambdalint.deps.{key} is not a known option (known: {known})")
        field_name, convert = _CONFIG_KEYS[key]
        values[field_name] = convert(key, value, base)
    return DepsOptions(**values)  # type: ignore[arg-type]


def _margin(key: str, value: object, _base: Path | None) -> float:
    _check_type(key, value, (int, float), "a number between 0 and 1")
    if not 0 < float(value) < 1:  # type: ignore[arg-type]
        raise ConfigError(f"tool.lambdalint.deps.{key} must be between 0 and 1 (e.g. 0.8), got {value}")
    return float(value)  # type: ignore[arg-type]


def _boolean(key: str, value: object, _base: Path | None) -> bool:
    _check_type(key, value, bool, "true or false")
    return bool(value)


def _python_version(key: str, value: object, _base: Path | None) -> str:
    _check_type(key, value, str, 'a string like "3.12"')
    if not re.fullmatch(r"3\.\d{1,2}", str(value)):
        raise ConfigError(f'tool.lambdalint.deps.{key} must look like "3.12", got {value!r}')
    return str(value)


def _architecture(key: str, value: object, _base: Path | None) -> str:
    if value not in ("x86_64", "arm64"):
        raise ConfigError(f'tool.lambdalint.deps.{key} must be "x86_64" or "arm64", got {value!r}')
    return str(value)


def _one_path(key: str, value: object, base: Path | None) -> Path:
    _check_type(key, value, str, "a path string")
    return _path(base, str(value))


def _paths(key: str, value: object, base: Path | None) -> tuple[Path, ...]:
    return tuple(_path(base, v) for v in _string_list(key, value))


_CONFIG_KEYS = {
    "margin": ("margin", _margin),
    "bundle-boto3": ("bundle_boto3", _boolean),
    "site-packages": ("site_packages", _one_path),
    "use-installed": ("use_installed", _boolean),
    "dev-tools": ("dev_tools", lambda k, v, b: _string_list(k, v)),
    "ignore-unused": ("ignore_unused", lambda k, v, b: _string_list(k, v)),
    "python-version": ("python_version", _python_version),
    "architecture": ("architecture", _architecture),
    "layers": ("layers", _paths),
    "size-table": ("size_table", _one_path),
}


# --- finding the files ---------------------------------------------------------------------

# requirements files for development, tests or docs are not what ships.
_DEV_FILE = re.compile(r"(^|[-_.])(dev|devel|develop|test|tests|testing|lint|docs?|ci|typing)([-_.]|$)")


def is_shipping_requirements_file(path: Path) -> bool:
    name = path.name.lower()
    if not (name.startswith("requirements") and name.endswith(".txt")):
        return False
    return not _DEV_FILE.search(name[len("requirements"):-len(".txt")])


def find_requirement_files(handler: Path, *, root: Path | None = None,
                           memo: dict[Path, tuple[list[Path], bool]] | None = None) -> list[Path]:
    """The manifests that say what the handler's function ships.

    Looks in the handler's folder, then each parent up to `root` (default: the first folder
    holding a pyproject.toml or .git), and returns the first folder's shipping requirements
    files (requirements.txt, requirements-prod.txt, ...; not -dev/-test ones) or, when it has
    none, its pyproject.toml with dependencies, or its lock file.
    `memo`: what each folder held, shared by the calls for the handlers of one run (their
    folders have parents in common).
    """
    folder = Path(handler).resolve()
    folder = folder if folder.is_dir() else folder.parent
    stop = Path(root).resolve() if root is not None else None
    while True:
        known = memo.get(folder) if memo is not None else None
        if known is None:
            known = (_manifests_in(folder), (folder / "pyproject.toml").exists() or (folder / ".git").exists())
            if memo is not None:
                memo[folder] = known
        found, at_top = known
        if found:
            return found if Path(handler).is_absolute() else [_relative(p) for p in found]
        if folder == stop or at_top or folder.parent == folder:
            return []
        folder = folder.parent


def _relative(path: Path) -> Path:
    """Relative in, relative out: findings carry paths the way the user gave them."""
    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive on Windows
        return path


def _manifests_in(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.glob("requirements*.txt") if is_shipping_requirements_file(p))
    if files:
        included = {Path(f).resolve() for p in files for f in parse_requirements_file(p).files[1:]}
        return [p for p in files if p.resolve() not in included]
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and _declares_dependencies(pyproject):
        return [pyproject]
    lock = find_lock_file(folder)
    return [lock] if lock else []


def _declares_dependencies(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # let check_requirements report the broken file
    project = data.get("project", {})
    poetry = data.get("tool", {}).get("poetry", {})
    return bool(project.get("dependencies") or poetry.get("dependencies"))


# --- resolving what ships ------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedPackage:
    size: PackageSize
    path: Path  # the file and line of the requirement that brings it in
    line: int
    via: str  # that requirement's distribution name
    direct: bool
    from_url: bool = False  # a URL, VCS or path line: what it provides cannot be looked up


@dataclass
class Shipment:
    """Everything one manifest puts in the deployment package, sized."""

    manifest: Path
    packages: list[ShippedPackage] = field(default_factory=list)
    direct: list[RequirementLine] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    layers: list[PackageSize] = field(default_factory=list)
    graph: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lock: Path | None = None
    # False when a lock file is read without the manifest naming its roots: then every locked
    # package looks direct, and "never imported" would be said of transitive ones (LAM406 off).
    roots_known: bool = True

    @property
    def unzipped_bytes(self) -> int:
        """Known bytes against the 250 MB limit: the function's packages plus its layers."""
        sizes = [p.size for p in self.packages] + self.layers
        return sum(s.unzipped_bytes or 0 for s in sizes)

    @property
    def zipped_bytes(self) -> int:
        """Known bytes of the function's own zip (layers are uploaded separately)."""
        return sum(p.size.zipped_bytes or 0 for p in self.packages)

    @property
    def unknown(self) -> list[ShippedPackage]:
        return [p for p in self.packages if not p.size.known]


@dataclass
class _Sources:
    """Where sizes and dependency lists come from, in order of trust."""

    options: DepsOptions
    table: SizeTable
    installed: dict[str, metadata.Distribution]
    lock: LockFile | None


def resolve_shipment(path: Path, options: DepsOptions | None = None) -> Shipment:
    """Read a manifest (requirements file, pyproject.toml or lock file) and size what it ships."""
    options = options or DepsOptions()
    path = Path(path)
    parsed, lock = _load_manifest(path, options.env)
    sources = _Sources(
        options=options,
        table=load_size_table(options.size_table),
        installed=installed_distributions(options.site_packages) if options.use_installed else {},
        lock=lock,
    )
    shipment = Shipment(manifest=path, direct=parsed.requirements, problems=parsed.problems,
                        lock=lock.path if lock else None)
    _collect_packages(shipment, sources)
    if lock is not None and path == lock.path:
        shipment.roots_known = bool(lock.roots)
        _add_unreached(shipment, lock, sources)
    shipment.layers = [_measure_layer(layer) for layer in options.layers]
    return shipment


def _load_manifest(path: Path, env: TargetEnv) -> tuple[ParsedRequirements, LockFile | None]:
    if not path.is_file():
        raise DataError(f"{path} is not a file")
    if path.name in LOCK_FILE_NAMES:
        lock = read_lock_file(path, env)
        parsed = ParsedRequirements(files=[path], problems=list(lock.problems))
        shipped = lock.shipped()
        roots = [n for n in lock.roots if n in shipped] or list(shipped)
        parsed.requirements = [
            RequirementLine(name=n, path=path, line=shipped[n].line, text=f"{n}=={shipped[n].version}",
                            specifier=f"=={shipped[n].version}")
            for n in roots
        ]
        return parsed, lock
    if path.name == "pyproject.toml":
        parsed = parse_pyproject(path, env)
    else:
        parsed = parse_requirements_file(path, env)
    beside = find_lock_file(path.parent)
    return parsed, read_lock_file(beside, env) if beside else None


def _collect_packages(shipment: Shipment, sources: _Sources) -> None:
    """Size each direct requirement at its own line, then walk their dependencies: the first
    requirement (in file order) to reach a transitive package is where its findings point."""
    seen: set[str] = set()
    for requirement in shipment.direct:
        if requirement.name and requirement.name in seen:
            continue  # the same distribution listed twice (e.g. via an include) ships once
        seen.add(requirement.name)
        if not requirement.name:
            size = unknown(requirement.text, None, "URL or path requirement: size not looked up")
        else:
            shipment.graph[requirement.name] = _dependencies(requirement.name, requirement.extras, sources)
            size = _size(requirement.name, requirement.specifier, requirement.url, sources)
        shipment.packages.append(ShippedPackage(size, requirement.path, requirement.line,
                                                requirement.name or requirement.text, True,
                                                from_url=requirement.url is not None))
    for requirement in shipment.direct:
        pending = list(shipment.graph.get(requirement.name, ()))
        while pending:
            name = pending.pop(0)
            if name in seen:
                continue
            seen.add(name)
            shipment.graph[name] = _dependencies(name, (), sources)
            shipment.packages.append(ShippedPackage(_size(name, "", None, sources), requirement.path,
                                                    requirement.line, requirement.name, False))
            pending += [d for d in shipment.graph[name] if d not in seen]


def _add_unreached(shipment: Shipment, lock: LockFile, sources: _Sources) -> None:
    """A lock file ships everything it resolved, even what the edges known here do not reach
    (Pipfile.lock records no edges); such packages point at their own lock entry."""
    seen = {p.size.name for p in shipment.packages}
    for name, locked in lock.shipped().items():
        if name not in seen:
            shipment.graph.setdefault(name, _dependencies(name, (), sources))
            shipment.packages.append(ShippedPackage(_size(name, "", None, sources), lock.path,
                                                    locked.line, name, False))


def _dependencies(name: str, extras: Iterable[str], sources: _Sources) -> tuple[str, ...]:
    # Pipfile.lock records no dependency edges; the other lock formats do.
    if sources.lock is not None and sources.lock.kind != "pipenv" and name in sources.lock.packages:
        return sources.lock.packages[name].dependencies
    if name in sources.installed:
        env = sources.options.env.marker_environment()
        return tuple(installed_requires(sources.installed[name], env, extras))
    entry = sources.table.get(name)
    return entry.requires if entry else ()


def _size(name: str, specifier: str, url: str | None, sources: _Sources) -> PackageSize:
    """Installed (if its version fits) > table (if its version fits) > either > unknown."""
    if url:
        return unknown(name, None, "URL or path requirement: size not looked up")
    if sources.lock is not None and name in sources.lock.packages:
        specifier = f"=={sources.lock.packages[name].version}"
    dist = sources.installed.get(name)
    entry = sources.table.get(name)
    if dist is not None and _fits(dist.version, specifier):
        return measure_distribution(dist)
    if entry is not None and _fits(entry.version, specifier):
        return entry.as_size()
    if dist is not None:
        size = measure_distribution(dist)
        return _with_note(size, f"measured installed {dist.version}; the requirement asks {specifier}")
    if entry is not None:
        return _with_note(entry.as_size(), f"table has {entry.version}; the requirement asks {specifier}")
    return unknown(name, _pinned(specifier), "not installed and not in the size table")


def _fits(version: str, specifier: str) -> bool:
    if not specifier:
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _pinned(specifier: str) -> str | None:
    match = re.fullmatch(r"===?\s*([^,\s]+)", specifier.strip())
    return match.group(1) if match else None


def _with_note(size: PackageSize, note: str) -> PackageSize:
    joined = f"{size.note}; {note}" if size.note else note
    return PackageSize(size.name, size.version, size.unzipped_bytes, size.zipped_bytes, size.source, joined)


def _measure_layer(layer: Path) -> PackageSize:
    parts = measure_zip(layer) if layer.suffix == ".zip" else measure_directory(layer)
    unzipped = sum(p.unzipped_bytes or 0 for p in parts)
    zipped = sum(p.zipped_bytes or 0 for p in parts)
    source = "zip" if layer.suffix == ".zip" else "dir"
    return PackageSize(f"layer:{layer.name}", None, unzipped, zipped, source)


# --- the rules -----------------------------------------------------------------------------


def check_requirements(
    path: Path, *, handler_imports: set[str] | None, options: DepsOptions
) -> list[Finding]:
    """LAM401-LAM407 for one manifest. handler_imports=None skips LAM406 (imports unknown)."""
    shipment = resolve_shipment(path, options)
    findings = [_problem_finding(p) for p in shipment.problems]
    findings += _size_findings(shipment, options)
    findings += _sdk_findings(shipment, options)
    findings += _dev_tool_findings(shipment, options)
    if handler_imports is not None and shipment.roots_known:
        findings += _unused_findings(shipment, handler_imports, options)
    return sorted(findings)


def _finding(code: str, path: Path, line: int, message: str, severity: Severity) -> Finding:
    return Finding(path=str(path), line=line, column=1, code=code, message=message,
                   severity=severity, name=rule_name(code))


def _problem_finding(problem: ParseProblem) -> Finding:
    if problem.fatal:
        message = (f"unparsable requirement: {problem.message}. pip refuses the whole file at build "
                   "time, and lambdalint cannot count it toward Lambda's 250 MB limit: fix the line")
    else:
        message = (f"{problem.message}, so lambdalint cannot check this file against Lambda's "
                   "250 MB limit: vendor the included file")
    severity = Severity.ERROR if problem.fatal else Severity.WARNING
    return Finding(path=str(problem.path), line=problem.line, column=problem.column, code="LAM407",
                   message=message, severity=severity, name=rule_name("LAM407"))


def _biggest(packages: list[ShippedPackage], zipped: bool, count: int = 5) -> str:
    def weight(p: ShippedPackage) -> int:
        return (p.size.zipped_bytes if zipped else p.size.unzipped_bytes) or 0

    top = sorted((p for p in packages if p.size.known), key=weight, reverse=True)[:count]
    return ", ".join(f"{p.size.name} {format_mb(weight(p))}" for p in top)


def _culprit(shipment: Shipment, zipped: bool) -> tuple[Path, int]:
    """The requirement line whose packages weigh the most: that is where a fix starts."""
    weights: dict[tuple[Path, int], int] = {}
    for p in shipment.packages:
        size = (p.size.zipped_bytes if zipped else p.size.unzipped_bytes) or 0
        weights[(p.path, p.line)] = weights.get((p.path, p.line), 0) + size
    if not weights:
        return shipment.manifest, 1
    return max(weights, key=lambda k: weights[k])


def _unknown_note(shipment: Shipment) -> str:
    missing = [p.size.name for p in shipment.unknown]
    if not missing:
        return ""
    shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
    return f" ({len(missing)} package(s) of unknown size not counted: {shown})"


def _size_findings(shipment: Shipment, options: DepsOptions) -> list[Finding]:
    findings = []
    unzipped, zipped = shipment.unzipped_bytes, shipment.zipped_bytes
    layers = (f", of which layers {format_mb(sum(l.unzipped_bytes or 0 for l in shipment.layers))}"
              if shipment.layers else "")
    if unzipped > UNZIPPED_LIMIT:
        path, line = _culprit(shipment, zipped=False)
        findings.append(_finding("LAM401", path, line, (
            f"the deployment package would be {format_mb(unzipped)} unzipped{layers}, over Lambda's "
            f"250 MB limit for a function plus its layers, so the deploy is rejected; biggest: "
            f"{_biggest(shipment.packages, False)}{_unknown_note(shipment)}. Drop what the handler "
            "does not use, pick slimmer builds (e.g. CPU-only wheels), or ship a container image "
            "(10 GB limit)"), Severity.ERROR))
    elif unzipped > options.margin * UNZIPPED_LIMIT:
        path, line = _culprit(shipment, zipped=False)
        findings.append(_finding("LAM403", path, line, (
            f"the deployment package would be {format_mb(unzipped)} unzipped{layers}, "
            f"{unzipped / UNZIPPED_LIMIT:.0%} of Lambda's 250 MB limit (warning above "
            f"{options.margin:.0%}); biggest: {_biggest(shipment.packages, False)}"
            f"{_unknown_note(shipment)}. Trim dependencies before one more pushes the deploy over"),
            Severity.WARNING))
    findings += _zipped_findings(shipment, options, zipped)
    return findings


def _zipped_findings(shipment: Shipment, options: DepsOptions, zipped: int) -> list[Finding]:
    if zipped > ZIPPED_LIMIT:
        path, line = _culprit(shipment, zipped=True)
        return [_finding("LAM402", path, line, (
            f"the deployment zip would be {format_mb(zipped)}, over Lambda's 50 MB limit for a zip "
            f"uploaded directly (API, SDK or console); biggest zipped: "
            f"{_biggest(shipment.packages, True)}{_unknown_note(shipment)}. Upload it through S3 "
            "(still limited to 250 MB unzipped), move large dependencies to a layer, or trim them"),
            Severity.WARNING)]
    if zipped > options.margin * ZIPPED_LIMIT:
        path, line = _culprit(shipment, zipped=True)
        return [_finding("LAM403", path, line, (
            f"the deployment zip would be {format_mb(zipped)}, {zipped / ZIPPED_LIMIT:.0%} of "
            f"Lambda's 50 MB limit for a direct upload (warning above {options.margin:.0%}); "
            f"biggest zipped: {_biggest(shipment.packages, True)}. Plan an S3 upload or trim "
            "dependencies"), Severity.WARNING)]
    return []


def _by_line(packages: Iterable[ShippedPackage]) -> dict[tuple[Path, int, str], list[ShippedPackage]]:
    groups: dict[tuple[Path, int, str], list[ShippedPackage]] = {}
    for p in packages:
        groups.setdefault((p.path, p.line, p.via), []).append(p)
    return groups


def _listing(group: list[ShippedPackage], via: str) -> tuple[str, str]:
    names = ", ".join(p.size.name for p in group)
    known = [p.size.unzipped_bytes for p in group if p.size.known]
    size = format_mb(sum(known)) if known else "unknown size"  # type: ignore[arg-type]
    pulled = "" if any(p.size.name == via for p in group) else f" (pulled in by {via})"
    return names + pulled, size


def _sdk_findings(shipment: Shipment, options: DepsOptions) -> list[Finding]:
    if options.bundle_boto3:
        return []
    findings = []
    sdk = [p for p in shipment.packages if p.size.name in RUNTIME_SDK]
    for (path, line, via), group in _by_line(sdk).items():
        names, size = _listing(group, via)
        findings.append(_finding("LAM404", path, line, (
            f"{names} bundled: the python3.x runtime already provides boto3/botocore, so this adds "
            f"{size} unzipped to the 250 MB limit and to every cold start's code download. Remove "
            "it from the requirements, or keep it on purpose (to pin an SDK version) with "
            "`bundle-boto3 = true` in [tool.lambdalint.deps]"), Severity.WARNING))
    return findings


def _dev_tool_findings(shipment: Shipment, options: DepsOptions) -> list[Finding]:
    names, prefixes = _dev_tool_catalog()
    names = names | {canonicalize_name(n) for n in options.dev_tools}
    tools = [p for p in shipment.packages if _is_dev_tool(p.size.name, names, prefixes)]
    findings = []
    for (path, line, via), group in _by_line(tools).items():
        listed, size = _listing(group, via)
        findings.append(_finding("LAM405", path, line, (
            f"{listed} is a test/development tool bundled into the function ({size} unzipped): "
            "it never runs in the handler but counts against Lambda's 250 MB limit and slows "
            "cold starts. Move it to requirements-dev.txt or a dev dependency group"),
            Severity.WARNING))
    return findings


def _is_dev_tool(name: str, names: frozenset[str] | set[str], prefixes: tuple[str, ...]) -> bool:
    return name in names or name.startswith(prefixes)


def _unused_findings(shipment: Shipment, handler_imports: set[str], options: DepsOptions) -> list[Finding]:
    skip = _loaded_by_name() | {canonicalize_name(n) for n in options.ignore_unused}
    skip |= set(RUNTIME_SDK) if not options.bundle_boto3 else set()
    dev_names, dev_prefixes = _dev_tool_catalog()
    needed_by_others = {d for n, deps in shipment.graph.items() for d in deps if d != n}
    sources = _import_sources(options)
    findings = []
    for p in shipment.packages:
        name = p.size.name
        if (not p.direct or p.from_url or name in skip or name in needed_by_others
                or _is_dev_tool(name, dev_names, dev_prefixes) or p.via != name):
            continue
        modules, origin = _import_names_and_origin(name, sources)
        if modules & handler_imports:
            continue
        size = format_mb(p.size.unzipped_bytes) if p.size.known else "unknown size"
        findings.append(_finding("LAM406", p.path, p.line, (
            f"{name} is never imported by the handler's code (looked for "
            f"{', '.join(sorted(modules))}, {origin}), yet it ships: {size} unzipped against "
            "Lambda's 250 MB limit, and more code to download on each cold start. Remove it, or "
            "list it in `ignore-unused` if it is loaded by name"), Severity.INFO))
    return findings


# --- catalogs ------------------------------------------------------------------------------


def _catalog(name: str) -> dict:
    from ..data import data_dir

    path = data_dir("rules") / "catalogs" / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read catalog {path}: {exc}") from exc


@lru_cache(maxsize=1)
def _dev_tool_catalog() -> tuple[frozenset[str], tuple[str, ...]]:
    data = _catalog("dev_tools.toml")
    return (frozenset(canonicalize_name(n) for n in data.get("names", [])),
            tuple(data.get("prefixes", [])))


@lru_cache(maxsize=1)
def _import_catalog() -> dict[str, tuple[str, ...]]:
    data = _catalog("import_names.toml").get("distributions", {})
    return {canonicalize_name(k): tuple(v) for k, v in data.items()}


@lru_cache(maxsize=1)
def _loaded_by_name() -> frozenset[str]:
    data = _catalog("import_names.toml").get("loaded_by_name", {})
    return frozenset(canonicalize_name(n) for n in data.get("names", []))


@dataclass
class _ImportSources:
    installed: dict[str, metadata.Distribution]
    table: SizeTable


def _import_sources(options: DepsOptions) -> _ImportSources:
    installed = installed_distributions(options.site_packages) if options.use_installed else {}
    return _ImportSources(installed, load_size_table(options.size_table))


def import_names(distribution: str, sources: _ImportSources | None = None) -> set[str]:
    """Top-level modules a distribution provides: installed metadata, then the catalog, then
    the size table's record of the wheel, then the name itself (PEP 503 name, dashes as _)."""
    return _import_names_and_origin(distribution, sources or _import_sources(DepsOptions()))[0]


def _import_names_and_origin(distribution: str, sources: _ImportSources) -> tuple[set[str], str]:
    name = canonicalize_name(distribution)
    dist = sources.installed.get(name)
    if dist is not None and (found := _installed_top_level(dist)):
        return found, "from its installed metadata"
    if name in _import_catalog():
        return set(_import_catalog()[name]), "from lambdalint's import-name catalog"
    entry = sources.table.get(name)
    if entry is not None and entry.imports:
        return set(entry.imports), "from its wheel's file list"
    return {name.replace("-", "_")}, "guessed from its name"


def _installed_top_level(dist: metadata.Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    tops = set()
    for record in dist.files or []:
        first = record.parts[0] if record.parts else ""
        if not first or first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
            continue
        tops.add(first.split(".")[0] if first.endswith((".py", ".so", ".pyd")) else first)
    return tops
