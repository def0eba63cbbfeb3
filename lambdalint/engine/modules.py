"""Which file an import refers to, looked up on disk the way the Lambda runtime would find it:
relative to the handler's package root (the deployment package root is on sys.path)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


class ModuleFinder:
    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        # The answer depends only on the importing file's directory and the name (and on the
        # file system, which does not change during a run).
        self._resolved: dict[tuple[str, str], tuple[str, str] | None] = {}

    def search_dirs(self, from_file: str) -> list[Path]:
        """Directories an absolute import in `from_file` may resolve against: its own directory
        and each parent up to the project root (Lambda's code root is one of them)."""
        here = Path(os.path.abspath(from_file)).parent
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
                if (dirs[-1] / "__init__.py").is_file():
                    dirs.append(parent)
                else:
                    break
        return dirs

    def resolve(self, from_file: str, name: str) -> tuple[str, str] | None:
        """(file path, remainder) for a dotted name such as `orders.db.save_order` or
        `.db.save_order`: the longest prefix that is a local module file, and the rest (a
        qualname inside it, possibly empty). None when no prefix is a local file."""
        key = (os.path.dirname(os.path.abspath(from_file)), name)
        try:
            return self._resolved[key]
        except KeyError:
            found = self._resolved[key] = self._resolve(from_file, name)
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
        for cut in range(len(parts), 0, -1):
            path = _module_file(str(base), tuple(parts[:cut]))
            if path is not None:
                return path, ".".join(parts[cut:])
        if not parts:
            init = base / "__init__.py"
            return (str(init), "") if init.is_file() else None
        return None


@lru_cache(maxsize=8192)
def _module_file(base: str, parts: tuple[str, ...]) -> str | None:
    stem = os.path.join(base, *parts)
    if os.path.isfile(stem + ".py"):
        return os.path.normpath(stem + ".py")
    init = os.path.join(stem, "__init__.py")
    if os.path.isfile(init):
        return os.path.normpath(init)
    return None
