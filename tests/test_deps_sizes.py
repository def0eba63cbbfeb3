"""Sizes are measured: installed distributions, build folders and zips agree with the files."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from lambdalint.deps.sizes import (
    distribution_files,
    installed_distributions,
    load_size_table,
    measure_directory,
    measure_distribution,
    measure_zip,
)

# Installed in every test environment (lambdalint's own dependencies); libcst has a compiled
# extension, click is pure Python.
MEASURED = ("click", "libcst", "pytest")


def _apparent_size(paths: list[Path]) -> int:
    """What `du --apparent-size --bytes` adds up, computed independently of RECORD."""
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
            continue
        for folder, _dirs, files in os.walk(path):
            total += sum((Path(folder) / f).stat().st_size for f in files)
    return total


def _dist_folders(dist: metadata.Distribution) -> list[Path]:
    """The package folders and modules a distribution installed, plus its .dist-info."""
    root = Path(str(dist.locate_file("")))
    tops = {f.parts[0] for f in dist.files or [] if f.parts and f.parts[0] not in ("..", "__pycache__")}
    return [root / t for t in sorted(tops) if (root / t).exists()]


@pytest.mark.parametrize("name", MEASURED)
def test_installed_sizes_match_the_files_on_disk_within_5_percent(name: str) -> None:
    dist = installed_distributions()[name]
    size = measure_distribution(dist)
    assert size.source == "installed" and size.version == dist.version
    on_disk = _apparent_size(_dist_folders(dist))
    assert on_disk > 0
    assert abs(size.unzipped_bytes - on_disk) / on_disk < 0.05, (size.unzipped_bytes, on_disk)
    # deflate never makes Python code bigger than stored, and the headers are small
    assert 0 < size.zipped_bytes < size.unzipped_bytes * 1.05


@pytest.mark.skipif(shutil.which("du") is None or shutil.which("find") is None,
                    reason="needs GNU du and find")
@pytest.mark.parametrize("name", ("click", "libcst", "botocore"))
def test_installed_size_matches_du_apparent_size(name: str) -> None:
    dists = installed_distributions()
    if name not in dists:
        pytest.skip(f"{name} is not installed here")
    folders = [str(p) for p in _dist_folders(dists[name])]
    du = subprocess.run(["du", "-s", "-b", "-c", *folders], capture_output=True, text=True)
    dirs = subprocess.run(["find", *folders, "-type", "d", "-printf", "%s\\n"],
                          capture_output=True, text=True)
    if du.returncode != 0 or dirs.returncode != 0:
        pytest.skip("du/find without GNU options")
    # du's apparent size also counts each directory's own entry (4 KB apiece on ext4, and
    # botocore has hundreds); a zip holds files, so those bytes are taken back out.
    files_only = int(du.stdout.strip().splitlines()[-1].split()[0]) - sum(map(int, dirs.stdout.split()))
    measured = measure_distribution(dists[name]).unzipped_bytes
    assert abs(measured - files_only) / files_only < 0.05, (measured, files_only)


def test_console_scripts_outside_site_packages_are_not_counted() -> None:
    dist = installed_distributions()["pytest"]
    arcnames = [arcname for _path, arcname in distribution_files(dist)]
    assert arcnames and not any(a.startswith("..") for a in arcnames)


def _build_folder(tmp_path: Path) -> Path:
    """A `pip install -t build`-shaped folder: click's files, its dist-info, and a handler."""
    build = tmp_path / "build"
    dist = installed_distributions()["click"]
    for path, arcname in distribution_files(dist):
        target = build / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (build / "app.py").write_text("import click\n\ndef handler(event, context):\n    return 1\n")
    return build


def test_a_directory_is_measured_by_its_files(tmp_path: Path) -> None:
    build = _build_folder(tmp_path)
    sizes = {s.name: s for s in measure_directory(build)}
    assert set(sizes) == {"click", "app.py"}
    assert sizes["click"].source == "dir"
    assert sizes["click"].version == installed_distributions()["click"].version
    all_files = _apparent_size([build])
    assert sum(s.unzipped_bytes for s in sizes.values()) == all_files
    # the zipped figure is what a real deflated zip of the folder weighs
    archive = tmp_path / "fn.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for folder, _dirs, files in os.walk(build):
            for name in files:
                path = Path(folder) / name
                out.write(path, path.relative_to(build).as_posix())
    zipped = sum(s.zipped_bytes for s in sizes.values())
    assert abs(zipped - archive.stat().st_size) / archive.stat().st_size < 0.05


def test_a_zip_is_measured_by_its_entries(tmp_path: Path) -> None:
    build = _build_folder(tmp_path)
    archive = tmp_path / "fn.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for folder, _dirs, files in os.walk(build):
            for name in files:
                path = Path(folder) / name
                out.write(path, path.relative_to(build).as_posix())
    sizes = {s.name: s for s in measure_zip(archive)}
    assert set(sizes) == {"click", "app.py"} and sizes["click"].source == "zip"
    assert sum(s.unzipped_bytes for s in sizes.values()) == _apparent_size([build])
    zipped = sum(s.zipped_bytes for s in sizes.values())
    assert abs(zipped - archive.stat().st_size) / archive.stat().st_size < 0.02


def test_unreadable_zip_is_a_user_error(tmp_path: Path) -> None:
    from lambdalint.errors import LambdalintError

    bad = tmp_path / "fn.zip"
    bad.write_text("not a zip")
    with pytest.raises(LambdalintError):
        measure_zip(bad)


def test_the_shipped_table_is_dated_and_measured() -> None:
    table = load_size_table()
    assert table.as_of and "pip download" in table.method
    torch = table.get("torch")
    assert torch is not None and torch.unzipped_bytes > 250 * 2**20 and torch.note
    for name in ("boto3", "botocore", "s3transfer", "pytest", "black", "numpy"):
        entry = table.get(name)
        assert entry is not None, name
        assert 0 < entry.zipped_bytes <= entry.unzipped_bytes * 1.05
    assert table.get("PyYAML") is table.get("pyyaml")  # names are canonicalized
