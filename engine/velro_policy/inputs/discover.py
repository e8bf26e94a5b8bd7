"""Turning the paths on the command line into input files per source.

Directories are walked; a folder that cannot be listed is an input of the
env source, so its read fails with a problem naming it (exit 2).  .git, node_modules, virtualenvs, caches and the
config's ``exclude`` globs are skipped, and so are directories that git
ignores (one ``git ls-files`` call, only when a walked directory inside a
work tree has a subdirectory to decide about).  Env files are linted even when gitignored: they are ignored
precisely because they hold secrets.  Symlinks are not followed out of the
scanned root.  A file named on the command line is always taken.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from fnmatch import fnmatch
from typing import NamedTuple

from velro_policy.errors import InputError
from velro_policy.inputs._files import repository_top, special_kind
from velro_policy.model import Problem

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", "site-packages", ".eggs", ".idea", ".vscode", ".direnv", ".cache",
})


class Discovered(NamedTuple):
    files: dict[str, list[str]]  # source name -> paths
    skipped: list[str]  # notes on what was skipped and why
    explicit: frozenset[str] = frozenset()  # files named on the command line (normalised)
    problems: tuple[Problem, ...] = ()  # in scope but not readable as a file (an unresolved merge conflict)


def _git_ignored_dirs(root: str) -> set[str]:
    import subprocess  # only when a directory is walked: `lint .env` never starts git

    try:
        out = subprocess.run(
            ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
            cwd=root, capture_output=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if out.returncode != 0:
        return set()
    return {os.path.normpath(os.path.join(root, p.decode("utf-8", "surrogateescape").rstrip("/")))
            for p in out.stdout.split(b"\0") if p.endswith(b"/")}


def _in_work_tree(path: str) -> bool:
    return repository_top(os.path.realpath(path)) is not None


def _rel(full: str, root: str) -> str:
    """``full`` relative to the scanned root, with / (what exclude globs see)."""
    return os.path.relpath(full, root).replace(os.sep, "/")


def discover(  # noqa: C901  one pass over the tree on purpose; splitting it is a later refactor
    paths: list[str],
    classify: Callable[[str, bool], list[str]],
    *,
    exclude: list[str] = (),  # type: ignore[assignment]
    follow_outside: bool = False,
) -> Discovered:
    """``classify(path, explicit)`` names the sources that read a file (none: skipped)."""
    files: dict[str, list[str]] = {}
    skipped: list[str] = []
    seen: set[str] = set()

    def add(path: str, explicit: bool) -> None:
        norm = os.path.normpath(path)
        if norm in seen:
            return
        seen.add(norm)
        for source in classify(norm, explicit):
            files.setdefault(source, []).append(norm)

    for raw in paths:
        if not os.path.lexists(raw):
            raise InputError("no such file or directory; check the path", path=raw)
        if not os.path.isdir(raw):
            kind = special_kind(raw)
            if kind is not None:
                raise InputError(f"is {kind}, not a regular file; refused (name a regular file)", path=raw)
            add(raw, True)
            continue
        root_real = os.path.realpath(raw)
        ignored: set[str] | None = None  # asked of git at the first folder to decide about (none: no git)
        pending = [raw]
        while pending:  # os.scandir, not os.walk: a symlink check costs no lstat per file
            dirpath = pending.pop()
            try:
                with os.scandir(dirpath) as it:
                    entries = list(it)
            except OSError:
                # Fail closed: a folder that cannot be listed may hold env files.  It is
                # handed to the env source as an input, whose read fails with a problem
                # naming it ("permission denied; make it readable or exclude it", exit 2);
                # the config's ``exclude`` keeps a known one (a database volume) out.
                srcs = classify(os.path.join(dirpath, ".env.production"), False)
                if "env" in srcs:
                    files.setdefault("env", []).append(os.path.normpath(dirpath))
                else:
                    skipped.append(f"{os.path.normpath(dirpath)}: folder cannot be read, not walked")
                continue
            if dirpath != raw and any(e.name == "pyvenv.cfg" for e in entries):
                continue  # a virtualenv
            subdirs = []
            for e in entries:
                name = e.name
                try:
                    is_dir = e.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if e.is_symlink():
                        continue  # a linked folder is not walked (it may lead outside the root or loop)
                    full = os.path.normpath(e.path)
                    if name in SKIP_DIRS:
                        continue
                    if ignored is None:
                        ignored = _git_ignored_dirs(raw) if _in_work_tree(raw) else set()
                    if full in ignored:
                        continue
                    if exclude and any(fnmatch(_rel(full, raw), pat) or fnmatch(name, pat) for pat in exclude):
                        continue
                    subdirs.append(e.path)
                    continue
                full = e.path
                if exclude and any(fnmatch(_rel(full, raw), pat) or fnmatch(name, pat) for pat in exclude):
                    continue
                if e.is_symlink() and not follow_outside:
                    target = os.path.realpath(full)
                    if not (target == root_real or target.startswith(root_real + os.sep)):
                        skipped.append(f"{os.path.normpath(full)}: symlink to outside the scanned root, not followed")
                        continue
                add(full, False)
            pending.extend(sorted(subdirs, reverse=True))
    for names in files.values():
        names.sort()
    return Discovered(files, skipped, frozenset(os.path.normpath(p) for p in paths if not os.path.isdir(p)))
