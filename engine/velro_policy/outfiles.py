"""Writing the files a user asks for (``--format X=FILE``, ``-o``, ``baseline create``,
``report --html``, ``probe --record``): atomically, and only where asked.

A scanned repository is not trusted, and these files are often written inside it
(a CI job writes ``velro-policy.sarif`` at the top of the checkout).  So:

- the text goes to a new temporary file in the target's folder, which then
  replaces the target (``os.replace``): a reader never sees half a file, a run
  that fails writes nothing, and a hard link or a symlink at the target is
  replaced, never written through;
- a path that leads through a symlink inside a repository (the nearest folder
  above it holding ``.git``, else the current folder) to a place outside that
  repository is refused: ``InputError`` (exit 2) naming the path.  A symlink that
  stays inside the repository is followed (the file it points to is replaced),
  and symlinks outside any repository (``/tmp`` on macOS) are the user's own.
"""
from __future__ import annotations

import os

from velro_policy.errors import InputError


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _repository_of(path: str) -> str | None:
    """The nearest folder at or above ``path``'s folder (lexically) holding ``.git``; else the
    current folder when ``path`` is under it; else None."""
    folder = os.path.dirname(path)
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    cwd = os.getcwd()
    return cwd if _inside(path, cwd) else None


def _first_link(path: str) -> str | None:
    """The first component of the absolute ``path`` that is a symlink (its folder holds none)."""
    drive, rest = os.path.splitdrive(path)
    current = drive + os.sep
    for part in rest.split(os.sep):
        if not part:
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            return current
    return None


def target_of(path: str) -> str:
    """The file a write to ``path`` replaces, after the checks above."""
    lexical = os.path.abspath(path)
    real = os.path.realpath(lexical)
    link = _first_link(lexical) if real != lexical else None
    if link is None:
        return lexical
    # The folder of the first link is real, so the repository found from it is the one the link was planted in.
    top = _repository_of(link)
    if top is None or _inside(real, os.path.realpath(top)):
        return real
    what = "is a symlink" if link == lexical else f"leads through the symlink {os.path.relpath(link)}"
    raise InputError(f"{what} out of the repository (to {real}); refused: remove the link or write the file elsewhere",
                     path=path)


def write_text(path: str, text: str, *, what: str) -> None:
    """Write ``text`` to ``path`` (UTF-8, ``\\n`` line ends) atomically; ``what`` names the file in errors."""
    import tempfile

    target = target_of(path)
    folder = os.path.dirname(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise InputError(f"cannot write {what} ({exc.strerror or exc}); check the path", path=path) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
