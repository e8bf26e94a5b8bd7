"""Asking git what is staged, changed or tracked, with as few processes as possible.

Imported lazily: only ``--staged``, ``--changed-since`` and the
committed-secrets step need git, and ``lint .env`` must not pay for
``subprocess`` + git unless an env file holds a real-looking secret.
Every call runs ``git`` with ``-z`` output and a timeout; a failure is a
``ScanError`` naming what to do (fail closed), except ``tracked`` which
answers "not tracked" outside a work tree (no git, nothing committed) and
reports git refusing a repository through its ``failures`` list.
"""
from __future__ import annotations

import os
from typing import NamedTuple

from velro_policy.errors import ScanError

TIMEOUT = 60
_REGULAR_MODES = ("100644", "100755")  # symlinks (120000) and submodules (160000) are not read


class StagedFile(NamedTuple):
    """One staged regular file: its path relative to cwd, and its blob id ("" for an unresolved merge
    conflict: the index holds its stages 1-3, no version to commit)."""

    path: str
    blob: str


def _git(args: list[str], cwd: str, *, stdin: bytes | None = None, what: str = "") -> bytes:
    import subprocess  # here: `lint .env` imports this module without always starting git

    try:
        out = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise ScanError(f"{what or 'this run'} needs git, which is not installed; install git or drop the option") from None
    except subprocess.TimeoutExpired:
        raise ScanError(f"git {args[0]} took longer than {TIMEOUT}s; rerun") from None
    if out.returncode != 0:
        err = [line.strip() for line in out.stderr.decode("utf-8", "replace").strip().splitlines() if line.strip()]
        fatal = [line for line in err if line.startswith(("fatal:", "error:"))]  # not the hint after it
        why = (fatal or err)[0 if fatal else -1] if err else "exit " + str(out.returncode)
        raise ScanError(f"git {args[0]} failed ({why}); {what or 'check the repository'}")
    return out.stdout


def _split(raw: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in raw.split(b"\0") if p]


def toplevel(cwd: str = ".", what: str = "run it inside a git work tree") -> str:
    """The work tree root, or a ScanError when cwd is not in one."""
    raw = _git(["rev-parse", "--show-toplevel"], cwd, what=what)
    return os.path.normpath(raw.decode("utf-8", "surrogateescape").strip())


def _rel(top: str, name: str) -> str:
    return os.path.relpath(os.path.join(top, name))


def staged(cwd: str = ".") -> list[StagedFile]:
    """Staged added/copied/modified/renamed regular files, with the index blob of each.

    Two calls: ``git diff --cached`` names what the commit changes,
    ``git ls-files --stage`` gives the blob the index holds for it.
    """
    what = "--staged needs a git repository: run it inside one"
    top = toplevel(cwd, what)
    names = _split(_git(["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMRU", "--no-renames"], top, what=what))
    if not names:
        return []
    raw = _git(["ls-files", "--stage", "-z", "--", *[":(literal)" + n for n in names]], top, what=what)
    out = []
    conflicted: dict[str, None] = {}
    for rec in _split(raw):
        meta, _, name = rec.partition("\t")
        mode, blob, stage = meta.split(" ")
        if mode in _REGULAR_MODES and stage == "0":
            out.append(StagedFile(_rel(top, name), blob))
        elif stage != "0":
            conflicted[name] = None
    return out + [StagedFile(_rel(top, name), "") for name in conflicted]


def read_blobs(blobs: list[str], cwd: str = ".") -> dict[str, bytes]:
    """The content of many blobs with one ``git cat-file --batch``."""
    if not blobs:
        return {}
    raw = _git(["cat-file", "--batch"], cwd, stdin="".join(b + "\n" for b in blobs).encode(), what="cannot read staged content")
    out: dict[str, bytes] = {}
    pos = 0
    for blob in blobs:
        nl = raw.index(b"\n", pos)
        header = raw[pos:nl].split(b" ")
        if len(header) != 3:
            raise ScanError(f"git cat-file cannot read blob {blob}; run `git fsck`")
        size = int(header[2])
        out[blob] = raw[nl + 1: nl + 1 + size]
        pos = nl + 1 + size + 1
    return out


def changed_since(ref: str, cwd: str = ".") -> list[str]:
    """Files (relative to cwd) added or modified since the merge base of REF and HEAD,
    committed or not: what a pull request from this branch into REF changes."""
    top = toplevel(cwd, f"--changed-since {ref} needs a git repository: run it inside one")
    what = f"check that {ref!r} is a branch, tag or commit (in CI: fetch it, e.g. fetch-depth: 0)"
    _git(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], top, what=what)
    try:
        base = _git(["merge-base", ref, "HEAD"], top, what=what).decode().strip()
    except ScanError:
        base = ref  # unrelated histories: compare with REF itself
    names = _split(_git(["diff", "--name-only", "-z", "--diff-filter=ACMR", "--no-renames", base, "--"], top, what=what))
    return [_rel(top, n) for n in names if os.path.isfile(os.path.join(top, n))]


def _redirected() -> bool:
    """Inside a git hook (a temporary index) or a redirected repository: only git itself knows."""
    return any(os.environ.get(v) for v in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"))


_WORK_TREES: dict[str, str | None] = {}


_NO_REPOSITORY = "\0none"


def _work_tree(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` with a ``.git`` directory; None when the
    nearest ``.git`` is a file or a link; ``_NO_REPOSITORY`` when there is none."""
    if folder in _WORK_TREES:
        return _WORK_TREES[folder]
    dot_git = os.path.join(folder, ".git")
    if os.path.lexists(dot_git):
        found = folder if os.path.isdir(dot_git) and not os.path.islink(dot_git) else None
    else:
        parent = os.path.dirname(folder)
        found = _NO_REPOSITORY if parent == folder else _work_tree(parent)
    _WORK_TREES[folder] = found
    return found


# More paths than this: list the whole index of their work tree once instead of
# asking git about each path on one long command line.
_LIST_WHOLE_INDEX = 64


def tracked(paths: list[str], *, resolved: bool = False, failures: list[str] | None = None) -> set[str]:
    """Which of ``paths`` (returned as real paths) the index holds: tracked, or staged to be added.

    Normally one ``git ls-files`` call; when the paths span work trees, one
    per directory.  Paths outside any work tree, or a missing git, count as
    not tracked (nothing can have been committed).  ``resolved``: the paths
    are real paths already.  ``failures``: where git was asked about paths in a
    repository and refused (``safe.directory``, a bogus ``GIT_DIR``, no git), one
    message per refusal is appended: the caller must say "could not check"
    rather than count those paths as untracked.
    """
    real = sorted(set(paths) if resolved else {os.path.realpath(p) for p in paths})
    if len(real) > _LIST_WHOLE_INDEX and not _redirected():
        return _tracked_by_listing(real, failures)
    if not _redirected():  # with no repository above a path, nothing can have been committed: git is not asked
        real = [p for p in real if _work_tree(os.path.dirname(p)) != _NO_REPOSITORY]
    if not real:
        return set()

    def ask(folder: str, group: list[str], last: bool = False) -> set[str] | None:
        try:
            raw = _git(["ls-files", "-z", "--cached", "--", *[":(literal)" + p for p in group]], folder,
                       what="velro-policy cannot tell whether the file is committed")
        except ScanError as exc:
            if last and failures is not None:
                failures.append(str(exc))
            return None
        return {os.path.realpath(os.path.join(folder, n)) for n in _split(raw)}

    first = ask(os.path.dirname(real[0]), real)
    if first is not None:
        return first
    out: set[str] = set()
    by_dir: dict[str, list[str]] = {}
    for p in real:
        by_dir.setdefault(os.path.dirname(p), []).append(p)
    for folder, group in by_dir.items():
        out.update(ask(folder, group, last=True) or ())
    return out


def _tracked_by_listing(real: list[str], failures: list[str] | None = None) -> set[str]:
    """``tracked`` for many paths: one plain ``git ls-files`` per work tree, intersected.

    Index entries are joined to the work tree's real path as they are: git
    never stores a path below a symlink, so the result is a real path."""
    by_tree: dict[str, list[str]] = {}
    rest: list[str] = []
    for p in real:
        tree = _work_tree(os.path.dirname(p))
        if tree == _NO_REPOSITORY:
            continue  # nothing can have been committed
        if tree is None:
            rest.append(p)  # .git is a file (worktree, submodule): per-path question below
        else:
            by_tree.setdefault(tree, []).append(p)
    out: set[str] = set()
    for tree, group in by_tree.items():
        try:
            raw = _git(["ls-files", "-z", "--cached"], tree, what="velro-policy cannot tell whether the file is committed")
        except ScanError as exc:
            if failures is not None:
                failures.append(str(exc))  # a repository git refuses: the caller says "could not check"
            continue
        listed = {os.path.join(tree, n) for n in _split(raw)} if os.sep == "/" else \
            {os.path.join(tree, n.replace("/", os.sep)) for n in _split(raw)}
        out.update(p for p in group if p in listed)
    for i in range(0, len(rest), _LIST_WHOLE_INDEX):  # in batches small enough to be asked path by path
        out |= tracked(rest[i:i + _LIST_WHOLE_INDEX], resolved=True, failures=failures)
    return out
