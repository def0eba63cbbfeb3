"""The per-file result cache: a re-run on an unchanged tree parses nothing.

An entry is one file's `ModuleSummary` (what `runner.analyze_file` returns), stored under a key
derived from everything that result depends on: the file's bytes (sha256), lambdalint's version
and a fingerprint of its own code and rule data, the Python and libcst versions (they decide
what parses), the configuration's fingerprint, the enabled rules, and the analysis mode (full
analysis forced or not). Paths are not part of the key: the same bytes at another path (or the
checkout moved) hit the same entry, and the findings are re-pathed on load.

Layout: `<root>/.lambdalint_cache/v1/<2 hex>/<62 hex>`, one small file per entry, beside a
`.gitignore` (`*`) and a `CACHEDIR.TAG` (backup tools skip the directory). When the config
root is not writable, the user cache directory is used ($XDG_CACHE_HOME/lambdalint, else
~/.cache/lambdalint; %LOCALAPPDATA%\\lambdalint on Windows).

Safety:
* Entries are JSON, never pickle: reading a planted file cannot run code.
* Each entry carries an HMAC-SHA256 under a random key kept in the user cache directory (0o600,
  outside any repository), so entries this user's lambdalint did not write -- committed to a
  repository, say, to hide findings -- are ignored. No key available: no cache.
* Writes go to a temporary file in the same directory, then `os.replace`: concurrent runs
  (pre-commit and an editor, two CI jobs on one cache) never see half an entry; both write the
  same bytes for the same key.
* Anything unexpected on read -- missing, truncated, corrupt, wrong header or version, bad MAC,
  not a regular file, too big -- is a miss, and the entry is overwritten. Nothing here raises
  into a check: a cache that cannot be written just stops being written.
* The directories are created 0o700. The cache is pruned (oldest entries first) when it grows
  past `max_bytes`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .. import __version__
from ..findings import Finding, Severity
from .summary import Candidate, FunctionInfo, ModuleSummary, Reach, Settings

FORMAT = 1
DIR_NAME = ".lambdalint_cache"
HEADER = b"lambdalint-cache 1\n"
MAX_ENTRY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by lambdalint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


# -- where --------------------------------------------------------------------------------
def user_cache_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "lambdalint"


def _private_dir(path: Path) -> bool:
    """Create `path` (0o700) if needed; True when it is a directory we can write to."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path.is_dir() and os.access(path, os.W_OK | os.X_OK)
    except OSError:
        return False


def _prepare(directory: Path) -> bool:
    """Create the cache directory with its .gitignore and CACHEDIR.TAG."""
    if not _private_dir(directory / f"v{FORMAT}"):
        return False
    for name, text in ((".gitignore", "# Created by lambdalint.\n*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)):
        marker = directory / name
        if not marker.exists():
            _atomic_write(marker, text.encode())
    return True


def _secret(directory: Path) -> bytes | None:
    """The per-user MAC key, created on first use (atomically: concurrent first runs agree)."""
    path = directory / "cache.key"
    try:
        data = _read_regular(path, 1024)
        if data is not None and len(data) == 32:
            return data
        if not _private_dir(directory):
            return None
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".key-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # fails when another run created it first: use theirs
            except FileExistsError:
                pass
            except OSError:
                os.replace(tmp, path)  # no hard links (some file systems): last writer wins
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        data = _read_regular(path, 1024)
        return data if data is not None and len(data) == 32 else None
    except OSError:
        return None


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file (no symlink followed), None when absent or not acceptable."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> bool:
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


# -- what the key depends on ------------------------------------------------------------------
# The parts of lambdalint whose code decides what a file's analysis or a run's result is.
_CODE = ("engine", "rules", "__init__.py", "catalog.py", "config.py", "data.py", "findings.py", "selection.py")


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """lambdalint's version, the code and rule data that produce findings, and the Python and
    libcst versions: a new release, a local edit or a parser upgrade gives new keys."""
    import importlib.util

    from ..data import data_dir

    digest = hashlib.sha256()
    digest.update(f"{FORMAT}|{__version__}|{sys.version}|{sys.implementation.cache_tag}".encode())
    spec = importlib.util.find_spec("libcst")  # finds without importing it
    if spec is not None and spec.origin:
        version_file = Path(spec.origin).parent / "_version.py"
        digest.update(version_file.read_bytes() if version_file.is_file() else spec.origin.encode())
    package = Path(__file__).resolve().parent.parent
    paths = []
    for name in _CODE:
        target = package / name
        paths += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    try:
        rules = data_dir("rules")
        paths += sorted(rules.rglob("*.toml"))
    except Exception:  # pragma: no cover - reported elsewhere
        pass
    for path in paths:
        digest.update(path.name.encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()


# -- the cache ----------------------------------------------------------------------------
@dataclass
class Cache:
    """Picklable (it travels to worker processes with the work)."""

    directory: Path
    secret: bytes = field(repr=False)
    salt: str                       # code fingerprint + configuration fingerprint
    max_bytes: int = DEFAULT_MAX_BYTES
    written: int = 0

    @classmethod
    def open(cls, root: Path, config_fingerprint: str = "", directory: Path | None = None,
             max_bytes: int | None = None) -> "Cache | None":
        """The cache for a project rooted at `root` (or in `directory`); None when no usable
        location or key exists."""
        user = user_cache_dir()
        secret = _secret(user)
        if secret is None:
            return None
        candidates = [Path(directory)] if directory is not None else [Path(root) / DIR_NAME, user]
        for candidate in candidates:
            if _prepare(candidate):
                salt = hashlib.sha256(f"{code_fingerprint()}|{config_fingerprint}".encode()).hexdigest()
                return cls(candidate, secret, salt, DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)
        return None

    def key(self, data: bytes, settings: Settings, force: bool) -> str:
        digest = hashlib.sha256()
        digest.update(self.salt.encode())
        digest.update(("|" + ",".join(sorted(settings.enabled)) + f"|{int(bool(force))}|").encode())
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / f"v{FORMAT}" / key[:2] / key[2:]

    def load(self, key: str, path: str, shown: str) -> ModuleSummary | None:
        """The stored summary, re-pathed to `path`/`shown`; None on any problem."""
        body = self._read(key, MAX_ENTRY_BYTES)
        if body is None:
            return None
        try:
            return _decode(json.loads(body), path, shown)
        except Exception:  # a valid MAC over a layout this code does not read: a miss
            return None

    def store(self, key: str, summary: ModuleSummary, shown: str) -> None:
        try:
            body = json.dumps(_encode(summary, shown), separators=(",", ":"), ensure_ascii=False).encode()
        except (TypeError, ValueError):
            return
        if self._write(key, body):
            self.written += 1

    # -- whole runs ------------------------------------------------------------------------
    def run_key(self, identity: str) -> str:
        return hashlib.sha256(f"run|{self.salt}|{identity}".encode()).hexdigest()

    def load_run(self, key: str) -> "RunRecord | None":
        """The record of an earlier run with the same inputs, if every file and directory it
        depended on is unchanged (same inode, size, mtime and ctime); else None."""
        body = self._read(key, MAX_ENTRY_BYTES * 4)
        if body is None:
            return None
        try:
            record = RunRecord.from_json(json.loads(body))
        except Exception:
            return None
        return record if record.unchanged() else None

    def store_run(self, key: str, record: "RunRecord") -> bool:
        """Store `record` unless a file or directory it depends on changed too recently for its
        time stamps to tell a later change apart (a "racy" entry, as git calls them)."""
        if not record.settled():
            return False
        body = json.dumps(record.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
        return self._write(key, body)

    # -- entries on disk: a header, the HMAC of key and body, the body ----------------------
    def _read(self, key: str, limit: int) -> bytes | None:
        """The body stored under `key`, if the entry is there, whole and signed by this user's
        key; else None."""
        raw = _read_regular(self._path(key), limit)
        if raw is None or not raw.startswith(HEADER):
            return None
        mac, sep, body = raw[len(HEADER):].partition(b"\n")
        if not sep or not hmac.compare_digest(mac, self._mac(key, body).encode()):
            return None
        return body

    def _write(self, key: str, body: bytes) -> bool:
        """Store `body` under `key`, signed, atomically; False when it could not be written."""
        target = self._path(key)
        try:
            target.parent.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return False
        return _atomic_write(target, HEADER + self._mac(key, body).encode() + b"\n" + body)

    def _mac(self, key: str, body: bytes) -> str:
        return hmac.new(self.secret, key.encode() + b"\n" + body, hashlib.sha256).hexdigest()

    def prune(self) -> None:
        """Delete the oldest entries while the cache is bigger than max_bytes (down to 80 %)."""
        entries = []
        total = 0
        try:
            with os.scandir(self.directory / f"v{FORMAT}") as shards:
                for shard in shards:
                    if not shard.is_dir(follow_symlinks=False):
                        continue
                    with os.scandir(shard.path) as files:
                        for entry in files:
                            try:
                                info = entry.stat(follow_symlinks=False)
                            except OSError:
                                continue
                            entries.append((info.st_mtime, info.st_size, entry.path))
                            total += info.st_size
        except OSError:
            return
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(entries):
            if total <= self.max_bytes * 0.8:
                break
            try:
                os.unlink(path)
                total -= size
            except OSError:
                pass


# -- run records ------------------------------------------------------------------------------
# A run record is trusted only on systems where st_ctime is the inode change time (every
# write to a file or directory moves it, and it cannot be set back by tools that restore
# mtimes); elsewhere (Windows: st_ctime is the creation time) only per-file entries are used.
RUN_RECORDS = os.name == "posix"
RACY_NS = 2_000_000_000  # time stamps closer than this to "now" may not show the next change


def signature(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


@dataclass
class RunRecord:
    """What a whole run produced, and the files and directories it depended on."""

    files: list[str]                          # the checked files, in order
    signatures: dict[str, list[int] | None]   # every file whose content was read (None: absent)
    directories: dict[str, list[int] | None]  # every directory whose entries mattered
    findings: list[Finding]                   # engine findings, filtered (not LAM4xx, not LAM904)
    handlers: list[tuple]                     # (path, function, at_least_once, timeout, source)
    closures: dict[str, list[str]]            # handler path -> top-level names its modules import
    no_manifests: bool = False                # LAM4xx on: no handler had a manifest
    recorded_ns: int = 0

    def unchanged(self) -> bool:
        return (all(signature(path) == sig for path, sig in self.signatures.items())
                and all(signature(path) == sig for path, sig in self.directories.items()))

    def settled(self) -> bool:
        limit = (self.recorded_ns or time.time_ns()) - RACY_NS
        for sig in (*self.signatures.values(), *self.directories.values()):
            if sig is not None and max(sig[3], sig[4]) > limit:
                return False
        return True

    def to_json(self) -> dict:
        return {"files": self.files, "signatures": self.signatures, "directories": self.directories,
                "findings": [_finding(f, "\0") for f in self.findings], "handlers": [list(h) for h in self.handlers],
                "closures": self.closures, "no_manifests": self.no_manifests, "recorded_ns": self.recorded_ns}

    @classmethod
    def from_json(cls, data: dict) -> "RunRecord":
        return cls(
            files=[str(f) for f in data["files"]],
            signatures={str(k): v for k, v in data["signatures"].items()},
            directories={str(k): v for k, v in data["directories"].items()},
            findings=[_unfinding(f, "\0") for f in data["findings"]],
            handlers=[tuple(h) for h in data["handlers"]],
            closures={str(k): [str(n) for n in v] for k, v in data["closures"].items()},
            no_manifests=bool(data["no_manifests"]),
            recorded_ns=int(data["recorded_ns"]),
        )


# -- (de)serialisation ----------------------------------------------------------------------
def _finding(f: Finding, shown: str) -> list:
    return [None if f.path == shown else f.path, f.line, f.column, f.code, f.message, f.severity.value,
            f.name, f.end_line, f.end_column, list(f.chain)]


def _unfinding(data: list, shown: str) -> Finding:
    path, line, column, code, message, severity, name, end_line, end_column, chain = data
    return Finding(shown if path is None else str(path), int(line), int(column), str(code), str(message),
                   Severity(severity), str(name), int(end_line), int(end_column), tuple(chain))


def _encode(summary: ModuleSummary, shown: str) -> dict:
    return {
        "analyzed": summary.analyzed,
        "imports": list(summary.imports),
        "functions": [[f.qualname, f.line, list(f.params), f.module_level, f.class_name, sorted(f.refs),
                       list(f.decorators), list(f.decorator_roots), f.guarded, f.at_least_once]
                      for f in summary.functions.values()],
        "candidates": [[_finding(c.finding, shown), c.reach.value, c.function] for c in summary.candidates],
        "errors": [_finding(e, shown) for e in summary.errors],
        "noqa": [[line, None if codes is None else sorted(codes)] for line, codes in summary.noqa.items()],
        "handler_names": list(summary.handler_names),
    }


def _decode(data: dict, path: str, shown: str) -> ModuleSummary:
    functions = {}
    for qualname, line, params, module_level, class_name, refs, decorators, roots, guarded, alo in data["functions"]:
        functions[qualname] = FunctionInfo(qualname, line, tuple(params), module_level, class_name, set(refs),
                                           tuple(decorators), tuple(roots), guarded, alo)
    return ModuleSummary(
        path=path,
        analyzed=bool(data["analyzed"]),
        imports=[str(name) for name in data["imports"]],
        functions=functions,
        candidates=[Candidate(_unfinding(f, shown), Reach(reach), function) for f, reach, function in data["candidates"]],
        errors=[_unfinding(f, shown) for f in data["errors"]],
        noqa={int(line): None if codes is None else frozenset(codes) for line, codes in data["noqa"]},
        handler_names=[str(name) for name in data["handler_names"]],
    )
