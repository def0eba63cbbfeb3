#!/usr/bin/env python3
"""Regenerate rules/catalogs/package_sizes.toml from real wheels.

For each package below, pip downloads the wheel Lambda's python3.12 x86_64 runtime would get
(`pip download --no-deps --only-binary=:all: --platform manylinux... --python-version 3.12`),
and this script measures it:

- unzipped_bytes: the sum of the sizes of the files in the wheel, i.e. what it occupies once
  installed into a deployment package (pip adds only bytecode on top);
- zipped_bytes: the size of those files in a freshly deflated zip (level 6, the same way
  `lambdalint.deps.sizes` measures a directory), i.e. what it adds to a deployment zip;
- requires: its runtime dependencies (Requires-Dist, markers evaluated for Linux/3.12, no extras),
  so lambdalint can total a requirement's closure when nothing is installed;
- imports: the top-level import names the wheel provides (top_level.txt, else its file list).

Usage (from a checkout, with network access to the package index):

    python scripts/gen_package_sizes.py                       # all packages, writes the table
    python scripts/gen_package_sizes.py --only numpy --only torch --output /tmp/t.toml

A package whose download fails or takes longer than --timeout is left out and listed under
`[skipped]` with the reason: the table never holds a number that was not measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path, PurePosixPath

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from lambdalint.deps.sizes import deflated_stream_size, zip_entry_overhead  # noqa: E402

DEFAULT_OUTPUT = REPO / "rules" / "catalogs" / "package_sizes.toml"
PYTHON_VERSION = "3.12"
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): any of these wheels installs there.
PLATFORMS = ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")
MARKER_ENV = {
    "implementation_name": "cpython", "implementation_version": "3.12.0", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython",
    "platform_release": "", "platform_system": "Linux", "platform_version": "",
    "python_full_version": "3.12.0", "python_version": "3.12", "sys_platform": "linux",
    "extra": "",
}

# The packages measured: what Lambda functions commonly bundle, the AWS SDK the runtime already
# provides, and the dev tools that should not ship. Overrides say where a wheel differs from the
# default download (and why, in `note`).
PACKAGES: list[tuple[str, dict[str, str]]] = [
    ("torch==2.13.0", {
        "python_version": "3.11",
        "note": "CPU-only build (torch 2.13.0+cpu, cp311 wheel, the one available to the generator). "
                "The default PyPI Linux wheel is the CUDA build: larger, and it pulls several GB "
                "of nvidia-* wheels on top. Either way far beyond Lambda's 250 MB.",
    }),
    ("torchvision", {}), ("numpy", {}), ("pandas", {}), ("scipy", {}), ("pyarrow", {}),
    ("scikit-learn", {}), ("joblib", {}), ("threadpoolctl", {}), ("matplotlib", {}),
    ("pillow", {}), ("opencv-python-headless", {}), ("sympy", {}), ("mpmath", {}),
    ("networkx", {}), ("transformers", {}), ("tokenizers", {}), ("safetensors", {}),
    ("huggingface-hub", {}), ("onnxruntime", {}), ("xgboost", {}), ("lightgbm", {}),
    ("boto3", {}), ("botocore", {}), ("s3transfer", {}), ("jmespath", {}),
    ("python-dateutil", {}), ("six", {}), ("urllib3", {}), ("requests", {}), ("certifi", {}),
    ("charset-normalizer", {}), ("idna", {}), ("httpx", {}), ("httpcore", {}), ("h11", {}),
    ("anyio", {}), ("sniffio", {}), ("aiohttp", {}), ("multidict", {}), ("yarl", {}),
    ("frozenlist", {}), ("aiosignal", {}), ("attrs", {}), ("pydantic", {}),
    ("pydantic-core", {}), ("annotated-types", {}), ("typing-extensions", {}),
    ("typing-inspection", {}), ("cryptography", {}), ("cffi", {}), ("pycparser", {}),
    ("pyjwt", {}), ("psycopg2-binary", {}), ("psycopg", {}), ("psycopg-binary", {}),
    ("pymysql", {}), ("sqlalchemy", {}), ("greenlet", {}), ("redis", {}), ("pymongo", {}),
    ("dnspython", {}), ("aws-lambda-powertools", {}), ("aws-xray-sdk", {}), ("wrapt", {}),
    ("mangum", {}), ("fastapi", {}), ("starlette", {}), ("jinja2", {}), ("markupsafe", {}),
    ("pyyaml", {}), ("orjson", {}), ("ujson", {}), ("simplejson", {}), ("lxml", {}),
    ("beautifulsoup4", {}), ("soupsieve", {}), ("grpcio", {}), ("protobuf", {}),
    ("google-cloud-storage", {}), ("google-cloud-core", {}), ("google-api-core", {}),
    ("google-auth", {}), ("googleapis-common-protos", {}), ("stripe", {}), ("twilio", {}),
    ("openai", {}), ("tiktoken", {}), ("regex", {}), ("tqdm", {}), ("sentry-sdk", {}),
    ("structlog", {}), ("tenacity", {}), ("pytz", {}), ("tzdata", {}), ("packaging", {}),
    ("click", {}), ("setuptools", {}), ("pytest", {}), ("pluggy", {}), ("iniconfig", {}),
    ("pytest-cov", {}), ("coverage", {}), ("hypothesis", {}), ("moto", {}), ("black", {}),
    ("ruff", {}), ("mypy", {}), ("flake8", {}), ("pylint", {}), ("isort", {}),
    ("pre-commit", {}), ("ipython", {}), ("awscli", {}), ("boto3-stubs", {}),
]
# Dependencies of the packages above, so a requirement's closure can be totalled from the
# table alone (the `requires` lists name them).
PACKAGES += [(name, {}) for name in (
    "aiohappyeyeballs", "aiohttp-retry", "annotated-doc", "cloudpickle", "colorama",
    "contourpy", "cycler", "fonttools", "kiwisolver", "pyparsing", "filelock", "fsspec",
    "flatbuffers", "google-crc32c", "google-resumable-media", "proto-plus", "pyasn1",
    "pyasn1-modules", "rsa", "hf-xet", "jiter", "distro", "narwhals", "opentelemetry-api",
    "importlib-metadata", "zipp", "propcache", "psutil", "pygments", "platformdirs", "pathspec",
    "pytokens", "mypy-extensions", "librt", "ast-serialize", "werkzeug", "xmltodict",
    "responses", "dill", "nvidia-nccl-cu13", "typer", "rich", "markdown-it-py", "mdurl",
    "shellingham", "tomlkit", "sortedcontainers", "mccabe", "pycodestyle", "pyflakes",
    "astroid", "cfgv", "identify", "nodeenv", "virtualenv", "distlib", "jedi", "parso",
    "traitlets", "stack-data", "executing", "asttokens", "pure-eval", "prompt-toolkit",
    "wcwidth", "pexpect", "ptyprocess", "matplotlib-inline", "ipython-pygments-lexers",
    "decorator", "docutils", "botocore-stubs", "types-s3transfer", "types-awscrt", "httpx2",
)]


def download(spec: str, python_version: str, dest: Path, timeout: float) -> Path:
    """Fetch one wheel with pip, exactly as a Lambda build for the target would pick it."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               *platforms, "--python-version", python_version, "--implementation", "cp",
               "--dest", str(dest), "--quiet", spec]
    before = set(dest.glob("*.whl"))
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "pip failed")
    new = set(dest.glob("*.whl")) - before
    if len(new) != 1:
        raise RuntimeError(f"expected one new wheel, pip left {sorted(p.name for p in new)}")
    return new.pop()


def measure_wheel(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        unzipped = sum(i.file_size for i in infos)
        zipped = 0
        for info in infos:
            with archive.open(info) as handle:
                zipped += deflated_stream_size(handle) + zip_entry_overhead(info.filename)
        dist_info = next(i.filename.split("/")[0] for i in infos
                         if i.filename.split("/")[0].endswith(".dist-info"))
        meta = Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode("utf-8", "replace"))
        names = [i.filename for i in infos]
        top_level = f"{dist_info}/top_level.txt"
        imports = (archive.read(top_level).decode().split() if top_level in names
                   else _imports_from_names(names))
    return {
        "name": canonicalize_name(meta["Name"]),
        "version": meta["Version"],
        "wheel": wheel.name,
        "wheel_bytes": wheel.stat().st_size,
        "files": len(infos),
        "unzipped_bytes": unzipped,
        "zipped_bytes": zipped,
        "requires": _runtime_requires(meta.get_all("Requires-Dist") or []),
        "imports": sorted({n.split(".")[0] for n in imports if n and not n.startswith("_")} or set(imports)),
    }


def _imports_from_names(names: list[str]) -> list[str]:
    tops = set()
    for name in names:
        first = PurePosixPath(name).parts[0]
        if first.endswith((".dist-info", ".data")) or first == "__pycache__":
            continue
        if "/" in name or first.endswith(".py"):
            tops.add(first.split(".")[0])
        elif first.endswith((".so", ".pyd")):
            tops.add(first.split(".")[0])
    return sorted(tops)


def _runtime_requires(lines: list[str]) -> list[str]:
    names = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or Marker(str(requirement.marker)).evaluate(MARKER_ENV):
            names.append(canonicalize_name(requirement.name))
    return sorted(set(names))


def render(rows: list[dict], skipped: dict[str, str], as_of: str) -> str:
    """TOML by hand (the stdlib reads TOML but does not write it); json.dumps quotes strings
    and lists in a form TOML accepts."""
    out = [
        "# Generated by scripts/gen_package_sizes.py from real wheels. Do not edit by hand:",
        "# rerun the script (see docs/deps.md) to refresh it.",
        f"as_of = {json.dumps(as_of)}",
        "method = " + json.dumps(
            f"pip download --no-deps --only-binary=:all: --python-version {PYTHON_VERSION} "
            f"--platform {' --platform '.join(PLATFORMS)}; unzipped_bytes = sum of the wheel's "
            "file sizes; zipped_bytes = those files deflated at level 6 into a new zip, with "
            "zip headers"),
        "target = " + json.dumps(f"python{PYTHON_VERSION} x86_64 (Amazon Linux 2023)"),
        "",
    ]
    for row in sorted(rows, key=lambda r: r["name"]):
        out.append(f"[packages.{row['name']}]")
        for key in ("version", "wheel", "wheel_bytes", "files", "unzipped_bytes",
                    "zipped_bytes", "requires", "imports", "note"):
            if key in row and row[key] != "":
                out.append(f"{key} = {json.dumps(row[key])}")
        out.append("")
    if skipped:
        out.append("[skipped]")
        out += [f"{json.dumps(name)} = {json.dumps(reason)}" for name, reason in sorted(skipped.items())]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--only", action="append", default=[], help="measure just these specs")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per download")
    parser.add_argument("--wheel-dir", type=Path, help="keep wheels here (default: a temp dir)")
    args = parser.parse_args(argv)
    wanted = {canonicalize_name(n) for n in args.only}
    packages = [(s, o) for s, o in PACKAGES
                if not wanted or canonicalize_name(Requirement(s).name) in wanted]
    rows, skipped = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        dest = args.wheel_dir or Path(tmp)
        dest.mkdir(parents=True, exist_ok=True)
        for spec, override in packages:
            name = canonicalize_name(Requirement(spec).name)
            started = time.monotonic()
            try:
                wheel = download(spec, override.get("python_version", PYTHON_VERSION), dest, args.timeout)
                row = measure_wheel(wheel)
            except (RuntimeError, subprocess.TimeoutExpired, OSError, zipfile.BadZipFile, StopIteration) as exc:
                skipped[name] = f"not measured: {exc}"
                print(f"skip {name}: {exc}", file=sys.stderr)
                continue
            if override.get("note"):
                row["note"] = override["note"]
            rows.append(row)
            print(f"{name:28} {row['version']:14} {row['unzipped_bytes'] / 2**20:9.1f} MB unzipped "
                  f"{row['zipped_bytes'] / 2**20:8.1f} MB zipped  ({time.monotonic() - started:.0f}s)",
                  file=sys.stderr)
            if not args.wheel_dir:
                wheel.unlink()  # keep the temp dir small: torch alone is hundreds of MB
    args.output.write_text(render(rows, skipped, dt.date.today().isoformat()), encoding="utf-8")
    print(f"wrote {len(rows)} packages ({len(skipped)} skipped) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
