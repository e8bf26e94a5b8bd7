"""The project's Python files, parsed once each, and static import resolution.

Every ``.py`` file under the root is indexed (virtualenvs, ``node_modules``,
caches and dot-folders skipped); a file is parsed with ``ast`` at most once
per build and never imported.  Files over ``MAX_BYTES`` and files that do
not parse are remembered as such.
"""
from __future__ import annotations

import ast
import os
from collections.abc import Callable
from typing import NamedTuple

from velro_policy.inputs._files import special_kind
from velro_policy.inputs.deploy import is_deploy_file, references, workflow_files
from velro_policy.inputs.pysyntax import parse as parse_newer

MAX_BYTES = 2 * 1024 * 1024
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "virtualenv", "dist", "build"})


class Parsed(NamedTuple):
    tree: ast.Module | None
    text: str
    error: tuple[int, int, str] | None  # (line, col, message) when it could not be read


class Project:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.files: list[str] = []
        self.dirs: set[str] = {self.root}
        self._fileset: set[str] = set()
        self._parsed: dict[str, Parsed] = {}
        self._texts: dict[str, str] = {}
        self.deploy_files: list[str] = []  # Dockerfiles, compose files, shell scripts, CI workflows (inputs.deploy)
        self._walk()

    def _walk(self) -> None:
        for here, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS
                             and not os.path.exists(os.path.join(here, d, "pyvenv.cfg")))
            self.dirs.update(os.path.join(here, d) for d in dirs)
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(here, name)
                    self.files.append(path)
                    self._fileset.add(path)
                elif is_deploy_file(name):
                    self.deploy_files.append(os.path.join(here, name))
        self.deploy_files.extend(workflow_files(self.root))

    def deploy_references(self, shown: Callable[[str], str] | None = None) -> dict[str, str]:
        """Env variable names (upper case) the deployment files name, each with the first "file:line"."""
        return references(self.deploy_files, shown or self.rel)

    def is_file(self, path: str) -> bool:
        return path in self._fileset

    def text(self, path: str) -> str:
        """The file's text, read once per build ('' when too large or unreadable)."""
        hit = self._texts.get(path)
        if hit is None:
            hit = self._texts[path] = _read_text(path)
        return hit

    def parse(self, path: str) -> Parsed:
        hit = self._parsed.get(path)
        if hit is None:
            hit = self._parsed[path] = _parse(path)
        return hit

    def parsed_already(self, path: str) -> tuple[str, ast.Module] | None:
        """The text and tree of a module this build parsed (absolute path), without parsing anything."""
        hit = self._parsed.get(path)
        return (hit.text, hit.tree) if hit is not None and hit.tree is not None else None

    def rel(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    # -- module resolution ------------------------------------------------
    def find_module(self, dotted: str, roots: list[str]) -> list[str]:
        """Files executed by ``import dotted`` from these sys.path entries: every
        package ``__init__`` on the way and the module itself (a package wins
        over a module of the same name, as in Python).  [] when not in the project."""
        parts = dotted.split(".")
        for root in roots:
            out: list[str] = []
            here = root
            for i, part in enumerate(parts):
                pkg = os.path.join(here, part)
                init = os.path.join(pkg, "__init__.py")
                mod = pkg + ".py"
                if self.is_file(init):
                    out.append(init)
                    here = pkg
                elif pkg in self.dirs and not self.is_file(mod):
                    here = pkg  # a namespace package
                elif self.is_file(mod) and i == len(parts) - 1:
                    out.append(mod)
                    here = ""
                else:
                    out = []
                    break
            else:
                if out or here in self.dirs:
                    return out
        return []

    def module_file(self, dotted: str, roots: list[str]) -> str | None:
        """The file of the module itself (the package's ``__init__`` for a package)."""
        found = self.find_module(dotted, roots)
        if not found:
            return None
        last = found[-1]
        name = dotted.split(".")[-1]
        if os.path.basename(last) == name + ".py" or os.path.basename(os.path.dirname(last)) == name:
            return last
        return None

    def by_suffix(self, rel_path: str, prefer: str = "") -> str | None:
        """The project file whose path ends with the longest part of ``rel_path``
        (``/app/mealie/main.py`` -> ``<root>/mealie/main.py``)."""
        parts = [p for p in rel_path.replace("\\", "/").split("/") if p and p != "."]
        for start in range(len(parts)):
            tail = os.sep + os.path.join(*parts[start:])
            hits = [f for f in self.files if f.endswith(tail)]
            if hits:
                hits.sort(key=lambda f: (not f.startswith(prefer), len(f)))
                return hits[0]
        return None




def _parse(path: str) -> Parsed:
    kind = special_kind(path)  # a FIFO blocks the read forever, /dev/zero never ends (getsize says 0)
    if kind is not None:
        return Parsed(None, "", (1, 1, f"is {kind}, not a regular file; not read"))
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return Parsed(None, "", (1, 1, f"is larger than {MAX_BYTES // (1024 * 1024)} MB; not read"))
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return Parsed(None, "", (1, 1, f"cannot be read ({exc.strerror or exc})"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        return Parsed(parse_newer(text, path), text, None)
    except SyntaxError as exc:
        return Parsed(None, text, (exc.lineno or 1, exc.offset or 1, f"is not valid Python 3 ({exc.msg or 'invalid syntax'})"))
    except (ValueError, RecursionError, MemoryError) as exc:
        return Parsed(None, text, (1, 1, f"cannot be parsed as Python ({exc.__class__.__name__})"))


def module_name_of(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def _read_text(path: str) -> str:
    if special_kind(path) is not None:
        return ""
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return ""
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""
