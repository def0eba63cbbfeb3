"""Which file an import refers to, looked up on disk the way the Lambda runtime would find it:
relative to the handler's package root (the deployment package root is on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path


class ModuleFinder:
    def __init__(self, root: Path, track: bool = False) -> None:
        """`track`: note what the answers depend on (`consulted`, `volatile`)."""
        self.root = Path(os.path.abspath(root))
        self.track = track
        # The answer depends only on the importing file's directory and the name (and on the
        # file system, which does not change during a run).
        self._resolved: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._by_file: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._files: dict[tuple[str, tuple[str, ...]], str | None] = {}
        self._listings: dict[str, frozenset[str] | None] = {}
        self._search: dict[str, list[Path]] = {}
        # What the answers depended on, for the run record (cache.py): the directories whose
        # entries were looked at, and whether a symlink was among them (a symlink's target can
        # change without its directory changing: such a run is not recorded).
        self.consulted: set[str] = set()
        self.volatile = False

    def search_dirs(self, from_file: str) -> list[Path]:
        """Directories an absolute import in `from_file` may resolve against: its own directory
        and each parent up to the project root (Lambda's code root is one of them)."""
        key = os.path.dirname(os.path.abspath(from_file))
        cached = self._search.get(key)
        if cached is None:
            cached = self._search[key] = self._search_dirs(Path(key))
        return list(cached)

    def _search_dirs(self, here: Path) -> list[Path]:
        dirs = [here]
        inside = self.root in here.parents or here == self.root
        for parent in here.parents:
            if inside:
                if parent == self.root or self.root in parent.parents:
                    dirs.append(parent)
                else:
                    break
            else:
                # Outside the project root: walk up while we are inside a package.
                self._note_file(str(dirs[-1] / "__init__.py"))
                if (dirs[-1] / "__init__.py").is_file():
                    dirs.append(parent)
                else:
                    break
        return dirs

    def resolve(self, from_file: str, name: str) -> tuple[str, str] | None:
        """(file path, remainder) for a dotted name such as `orders.db.save_order` or
        `.db.save_order`: the longest prefix that is a local module file, and the rest (a
        qualname inside it, possibly empty). None when no prefix is a local file."""
        try:
            return self._by_file[(from_file, name)]
        except KeyError:
            pass
        key = (os.path.dirname(os.path.abspath(from_file)), name)
        try:
            found = self._resolved[key]
        except KeyError:
            found = self._resolved[key] = self._resolve(from_file, name)
        self._by_file[(from_file, name)] = found
        return found

    def _resolve(self, from_file: str, name: str) -> tuple[str, str] | None:
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            base = Path(os.path.abspath(from_file)).parent
            for _ in range(level - 1):
                base = base.parent
            return self._longest(base, name[level:].split(".") if name[level:] else [])
        parts = name.split(".")
        for directory in self.search_dirs(from_file):
            found = self._longest(directory, parts)
            if found is not None:
                return found
        return None

    def _longest(self, base: Path, parts: list[str]) -> tuple[str, str] | None:
        if parts and not self._may_exist(str(base), parts[0]):
            return None  # every prefix starts with parts[0]: none can be a file here
        for cut in range(len(parts), 0, -1):
            path = self._module_file(str(base), tuple(parts[:cut]))
            if path is not None:
                return path, ".".join(parts[cut:])
        if not parts:
            init = base / "__init__.py"
            self._note_file(str(init))
            return (str(init), "") if init.is_file() else None
        return None

    def _module_file(self, base: str, parts: tuple[str, ...]) -> str | None:
        key = (base, parts)
        try:
            return self._files[key]
        except KeyError:
            pass
        found = None
        # Most names are not local (json, boto3): the directory listing answers those without
        # a stat() per candidate file. It is compared case-insensitively, so that on a
        # case-insensitive file system isfile() still has the last word.
        if self._may_exist(base, parts[0]):
            stem = os.path.join(base, *parts)
            for depth in range(1, len(parts) + 1):
                self._note_file(os.path.join(base, *parts[:depth]))
            self._note_file(stem + ".py")
            self._note_file(os.path.join(stem, "__init__.py"))
            if os.path.isfile(stem + ".py"):
                found = os.path.normpath(stem + ".py")
            else:
                init = os.path.join(stem, "__init__.py")
                if os.path.isfile(init):
                    found = os.path.normpath(init)
        self._files[key] = found
        return found

    def _note_file(self, path: str) -> None:
        """`path` is about to be tested: its directory's entries matter, and it must not be a
        symlink for the run to be recorded."""
        if self.track:
            self.consulted.add(os.path.dirname(path))
            if not self.volatile and os.path.islink(path):
                self.volatile = True

    def _may_exist(self, base: str, first: str) -> bool:
        """Could `base` hold `first` (a package directory) or `first.py`?"""
        try:
            names = self._listings[base]
        except KeyError:
            try:
                names = frozenset(name.lower() for name in os.listdir(base))
            except OSError:
                names = None
            self._listings[base] = names
            if self.track:
                self.consulted.add(base)
        if names is None:
            return True  # not listable: let isfile() decide
        first = first.lower()
        return first in names or first + ".py" in names
