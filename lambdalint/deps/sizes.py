"""Measure how many bytes a package adds to a Lambda deployment, unzipped and zipped.

Every figure is measured, never estimated: from the files an installed distribution records,
from the files of a build directory or a zip, or from the shipped table that
scripts/gen_package_sizes.py measured from real wheels. A package none of these knows is
reported with `None` sizes ("unknown"), never as zero.

Zipped sizes of files on disk are measured by deflating each file the way `zip` and Python's
zipfile do (level 6) and adding the per-entry zip headers, so the figure is what a deployment
zip of those files would weigh.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from packaging.utils import canonicalize_name

from ..errors import DataError, LambdalintError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MIB = 1024 * 1024
# A zip stores each file twice in its directory: a local header (30 bytes + name) and a central
# directory record (46 bytes + name). Small files make this overhead matter.
_LOCAL_HEADER = 30
_CENTRAL_HEADER = 46
_CHUNK = 1 << 20

SOURCES = ("installed", "dir", "zip", "table", "unknown")


@dataclass(frozen=True)
class PackageSize:
    """One distribution's weight in the package. Sizes are None when nothing measured them."""

    name: str
    version: str | None
    unzipped_bytes: int | None
    zipped_bytes: int | None
    source: str  # one of SOURCES
    note: str = ""

    @property
    def known(self) -> bool:
        return self.unzipped_bytes is not None


def unknown(name: str, version: str | None = None, note: str = "") -> PackageSize:
    return PackageSize(name, version, None, None, "unknown", note)


# --- measuring files -----------------------------------------------------------------------


def deflated_size(path: Path) -> int:
    """Bytes the file's data takes in a zip: deflated, or stored when deflate does not help."""
    with open(path, "rb") as handle:
        return deflated_stream_size(handle)


def deflated_stream_size(handle: BinaryIO) -> int:
    """Deflate at level 6 (zip's and zipfile's default) and count; nothing is kept in memory."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    size = compressed = 0
    while chunk := handle.read(_CHUNK):
        size += len(chunk)
        compressed += len(compressor.compress(chunk))
    compressed += len(compressor.flush())
    return min(size, compressed)


def zip_entry_overhead(arcname: str) -> int:
    return _LOCAL_HEADER + _CENTRAL_HEADER + 2 * len(arcname.encode("utf-8"))


def measure_files(files: Iterable[tuple[Path, str]]) -> tuple[int, int]:
    """(unzipped, zipped) bytes of files given as (path on disk, name inside the zip)."""
    unzipped = zipped = 0
    for path, arcname in files:
        unzipped += path.stat().st_size
        zipped += deflated_size(path) + zip_entry_overhead(arcname)
    return unzipped, zipped


# --- installed distributions ---------------------------------------------------------------


def installed_distributions(site_packages: Path | None = None) -> dict[str, metadata.Distribution]:
    """Distributions in `site_packages`, or in the running interpreter's path when None.

    The first distribution of a name wins, as it does for the import system.
    """
    if site_packages is not None and not Path(site_packages).is_dir():
        raise LambdalintError(f"--site-packages {site_packages} is not a directory")
    found = (
        metadata.distributions(path=[str(site_packages)])
        if site_packages is not None
        else metadata.distributions()
    )
    result: dict[str, metadata.Distribution] = {}
    for dist in found:
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            result.setdefault(canonicalize_name(name), dist)
    return result


def distribution_files(dist: metadata.Distribution) -> list[tuple[Path, str]] | None:
    """The files a distribution's RECORD lists that exist inside its install root.

    Entries that climb out of the root (`../../bin/...` console scripts) are left out: they are
    not in site-packages, so a deployment package built from it does not carry them.
    """
    if dist.files is None:
        return None
    root = Path(str(dist.locate_file(""))).resolve()
    files: dict[str, Path] = {}
    for record in dist.files:
        relative = PurePosixPath(str(record))
        if ".." in relative.parts or relative.is_absolute():
            continue
        path = root / Path(*relative.parts)
        if path.is_file():
            files.setdefault(relative.as_posix(), path)
    return [(path, arcname) for arcname, path in files.items()]


def measure_distribution(dist: metadata.Distribution) -> PackageSize:
    """Measure an installed distribution by the files its RECORD lists (cached per location)."""
    name = canonicalize_name(dist.metadata["Name"])
    key = (str(dist.locate_file("")), name, dist.version)
    if key not in _MEASURED:
        files = distribution_files(dist)
        if files is None:
            _MEASURED[key] = unknown(name, dist.version, "installed, but it records no file list")
        else:
            unzipped, zipped = measure_files(files)
            _MEASURED[key] = PackageSize(name, dist.version, unzipped, zipped, "installed")
    return _MEASURED[key]


# Deflating a large distribution takes seconds; one `check` run may meet it in several files.
_MEASURED: dict[tuple[str, str, str], PackageSize] = {}


def installed_requires(dist: metadata.Distribution, environment: dict[str, str],
                       extras: Iterable[str] = ()) -> list[str]:
    """Names of the runtime dependencies `dist` declares, markers evaluated for Lambda."""
    from packaging.requirements import InvalidRequirement, Requirement

    names: list[str] = []
    for text in dist.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None:
            wanted = [""] + list(extras)
            if not any(requirement.marker.evaluate({**environment, "extra": e}) for e in wanted):
                continue
        names.append(canonicalize_name(requirement.name))
    return names


# --- build directories and zips ------------------------------------------------------------


@dataclass(frozen=True)
class _Owner:
    name: str
    version: str | None


def _record_paths(record_text: str, prefix: str = "") -> set[str]:
    paths = set()
    for row in csv.reader(io.StringIO(record_text)):
        if row and ".." not in PurePosixPath(row[0]).parts:
            paths.add(prefix + row[0])
    return paths


def _dist_info_owner(dist_info: str, metadata_text: str | None) -> _Owner:
    """Name and version from METADATA, else from the `name-version.dist-info` folder name."""
    fields: dict[str, str] = {}
    for line in (metadata_text or "").splitlines():
        if not line.strip():
            break  # headers end at the first blank line; the long description follows
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    stem = PurePosixPath(dist_info).name[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return _Owner(canonicalize_name(fields.get("name", name)), fields.get("version", version) or None)


def _assign(relpaths: Iterable[str], records: dict[str, _Owner]) -> dict[_Owner, list[str]]:
    """Group files by the distribution whose RECORD lists them.

    Files no RECORD lists (bytecode compiled later, the handler's own code) go to the
    distribution owning the same top-level folder, else to a group named after that folder.
    """
    by_top: dict[str, _Owner] = {}
    for path, owner in records.items():
        by_top.setdefault(path.split("/", 1)[0], owner)
    groups: dict[_Owner, list[str]] = defaultdict(list)
    for relpath in relpaths:
        top = relpath.split("/", 1)[0]
        owner = records.get(relpath) or by_top.get(top) or _Owner(top, None)
        groups[owner].append(relpath)
    return groups


def _walk_files(root: Path) -> Iterator[str]:
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                yield path.relative_to(root).as_posix()


def measure_directory(root: Path) -> list[PackageSize]:
    """Measure a build folder (`pip install -t`) or a site-packages by the files it holds."""
    root = Path(root)
    if not root.is_dir():
        raise LambdalintError(f"{root} is not a directory")
    records: dict[str, _Owner] = {}
    for dist_info in sorted(root.glob("*.dist-info")):
        meta = dist_info / "METADATA"
        meta_text = meta.read_text("utf-8", "replace") if meta.is_file() else None
        owner = _dist_info_owner(dist_info.name, meta_text)
        record = dist_info / "RECORD"
        listed = _record_paths(record.read_text("utf-8", "replace")) if record.is_file() else set()
        for path in listed | {f"{dist_info.name}/{p.name}" for p in dist_info.iterdir()}:
            records.setdefault(path, owner)
    sizes = []
    for owner, relpaths in _assign(_walk_files(root), records).items():
        unzipped, zipped = measure_files((root / p, p) for p in relpaths)
        sizes.append(PackageSize(owner.name, owner.version, unzipped, zipped, "dir"))
    return sizes


def measure_zip(path: Path) -> list[PackageSize]:
    """Measure a built deployment zip by its entries (the compressed sizes it really holds)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LambdalintError(f"cannot read zip {path}: {exc}") from exc
    with archive:
        infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}
        records = _zip_records(archive, infos)
        sizes = []
        for owner, names in _assign(infos, records).items():
            unzipped = sum(infos[n].file_size for n in names)
            zipped = sum(infos[n].compress_size + zip_entry_overhead(n) + 2 * len(infos[n].extra)
                         for n in names)
            sizes.append(PackageSize(owner.name, owner.version, unzipped, zipped, "zip"))
    return sizes


def _zip_records(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, _Owner]:
    records: dict[str, _Owner] = {}
    folders = {n.split("/", 1)[0] for n in infos if n.split("/", 1)[0].endswith(".dist-info")}
    for folder in sorted(folders):
        def read(member: str) -> str | None:
            name = f"{folder}/{member}"
            return archive.read(name).decode("utf-8", "replace") if name in infos else None

        owner = _dist_info_owner(folder, read("METADATA"))
        listed = _record_paths(read("RECORD") or "")
        listed |= {n for n in infos if n.startswith(folder + "/")}
        for name in listed:
            records.setdefault(name, owner)
    return records


# --- the shipped table ---------------------------------------------------------------------


@dataclass(frozen=True)
class TableEntry:
    name: str
    version: str
    unzipped_bytes: int
    zipped_bytes: int
    requires: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    wheel: str = ""
    note: str = ""

    def as_size(self) -> PackageSize:
        return PackageSize(self.name, self.version, self.unzipped_bytes, self.zipped_bytes,
                           "table", self.note)


@dataclass(frozen=True)
class SizeTable:
    as_of: str
    method: str
    packages: dict[str, TableEntry]

    def get(self, name: str) -> TableEntry | None:
        return self.packages.get(canonicalize_name(name))


def default_table_path() -> Path:
    from ..data import data_dir

    return data_dir("rules") / "catalogs" / "package_sizes.toml"


@lru_cache(maxsize=8)
def load_size_table(path: Path | None = None) -> SizeTable:
    """Load the measured size table; a malformed file is a DataError naming the entry."""
    path = Path(path) if path is not None else default_table_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read package size table {path}: {exc}") from exc
    packages = {}
    for raw_name, entry in data.get("packages", {}).items():
        try:
            packages[canonicalize_name(raw_name)] = TableEntry(
                name=canonicalize_name(raw_name),
                version=str(entry["version"]),
                unzipped_bytes=int(entry["unzipped_bytes"]),
                zipped_bytes=int(entry["zipped_bytes"]),
                requires=tuple(entry.get("requires", ())),
                imports=tuple(entry.get("imports", ())),
                wheel=str(entry.get("wheel", "")),
                note=str(entry.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: packages.{raw_name} is malformed ({exc!r})") from exc
    return SizeTable(str(data.get("as_of", "")), str(data.get("method", "")), packages)


def format_mb(size: int | None) -> str:
    """Lambda's limits are in MB of 2**20 bytes, so figures are shown in the same unit."""
    return "unknown" if size is None else f"{size / MIB:.1f} MB"
