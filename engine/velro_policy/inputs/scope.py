"""Diff-aware runs: only the files a commit or a pull request changes.

- ``--staged`` checks the staged version of each staged file: the index
  blobs are written (one ``git cat-file --batch``) into a private temporary
  folder that mirrors their paths, the sources read them there, and every
  output names the real path.  A staged fix with a still-bad working tree
  passes; a bad staged file with a fixed working tree fails.
- ``--changed-since REF`` checks, in the working tree, the files added or
  modified since the merge base of REF and HEAD (a pull request's files).

Files are classified as if found by walking a directory (never "named
explicitly"), so a changed README is not linted as an env file; the
config's ``exclude`` globs apply; only files under the PATHS given count.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from fnmatch import fnmatch
from typing import Any

from velro_policy.inputs._files import shown_name
from velro_policy.inputs.discover import Discovered
from velro_policy.model import Problem


class Scope:
    """The files of a diff-aware run, and where each was read from."""

    def __init__(self, found: Discovered, real: dict[str, str], tmp: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.found = found
        self._real = real  # read path -> real path (staged blobs live in tmp)
        self._tmp = tmp

    def real_path(self, path: str) -> str:
        return self._real.get(path, path)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _under(path: str, roots: list[str]) -> bool:
    ap = os.path.abspath(path)
    for r in roots:
        ar = os.path.abspath(r)
        if ap == ar or ap.startswith(ar.rstrip(os.sep) + os.sep):
            return True
    return False


def _excluded(path: str, exclude: list[str]) -> bool:
    """Only the config's ``exclude``: a file the commit adds under ``node_modules/``, ``.venv/``, ``.vscode/``...
    (folders a walk skips as not the project's) is exactly what a hook is for."""
    rel = os.path.relpath(path).replace(os.sep, "/")
    parts = rel.split("/")
    return any(fnmatch(rel, pat) or fnmatch(parts[-1], pat) for pat in exclude)


def open_scope(paths: list[str], classify: Callable[[str, bool], list[str]], config: dict[str, Any], *,
               staged: bool, changed_since: str | None) -> Scope:
    """The changed files under ``paths``, classified per source."""
    from velro_policy.inputs import git as gitrepo

    roots = paths or ["."]
    cwd = roots[0] if os.path.isdir(roots[0]) else os.path.dirname(roots[0]) or "."
    exclude = list(config.get("exclude", []))
    files: dict[str, list[str]] = {}
    real: dict[str, str] = {}
    tmp = None
    problems: list[Problem] = []
    if staged:
        entries = [s for s in gitrepo.staged(cwd) if _under(s.path, roots) and not _excluded(s.path, exclude)]
        picked = [(s, classify(os.path.normpath(s.path), False)) for s in entries]
        picked = [(s, names) for s, names in picked if names]
        for s, _ in picked:
            if not s.blob:  # fail closed: neither side of the conflict is what will be committed
                problems.append(Problem(shown_name(os.path.normpath(s.path)), 0, 0, "has an unresolved merge conflict (the "
                                        "index holds both sides, no version to commit): resolve it, stage it, then check again",
                                        "io-error"))
        picked = [(s, names) for s, names in picked if s.blob]
        if picked:
            blobs = gitrepo.read_blobs(sorted({s.blob for s, _ in picked}), cwd)
            tmp = tempfile.TemporaryDirectory(prefix="velro-policy-staged-")
            for s, names in picked:
                rel = os.path.relpath(os.path.abspath(s.path), os.path.abspath(cwd))
                inner = rel.replace("..", "__up__")
                target = os.path.join(tmp.name, inner)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as fh:
                    fh.write(blobs[s.blob])
                real[target] = os.path.normpath(s.path)
                for name in names:
                    files.setdefault(name, []).append(target)
    else:
        assert changed_since is not None
        for path in gitrepo.changed_since(changed_since, cwd):
            if _under(path, roots) and not _excluded(path, exclude):
                norm = os.path.normpath(path)
                for name in classify(norm, False):
                    files.setdefault(name, []).append(norm)
    for names in files.values():
        names.sort()
    return Scope(Discovered(files, [], problems=tuple(problems)), real, tmp)
