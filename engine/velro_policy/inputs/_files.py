"""Reading input files safely: bytes -> text or a Problem, never a traceback."""
from __future__ import annotations

import os
import re
from functools import lru_cache
from stat import S_ISBLK, S_ISCHR, S_ISFIFO, S_ISREG, S_ISSOCK

from velro_policy.model import Problem

MAX_BYTES = 64 * 1024 * 1024


def special_kind(path: str) -> str | None:
    """What ``path`` is when it is not something to read: "a FIFO (named pipe)",
    "a device", "a socket"; None for a regular file, a folder, a missing path,
    and an anonymous pipe (``lint <(cat .env)`` names ``/dev/fd/63``, whose writer
    exists already).  Asked with ``os.stat`` before any open: opening a FIFO
    without a writer blocks forever, and a device (``/dev/zero``) never ends."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # the open reports it
    mode = st.st_mode
    if S_ISREG(mode):
        return None
    if S_ISFIFO(mode):
        if os.path.basename(os.path.realpath(path)).startswith("pipe:"):
            return None  # /dev/fd/N, /dev/stdin: a pipe the shell made (no name in any folder)
        return "a FIFO (named pipe)"
    if S_ISCHR(mode) or S_ISBLK(mode):
        return "a device"
    if S_ISSOCK(mode):
        return "a socket"
    return None


def shown_name(path: str) -> str:
    """``path`` as output shows it: a name that is not valid UTF-8 (read by Python
    as lone surrogates) with those bytes escaped (``.env.prod\\xff``), so that
    printing, hashing or JSON-encoding it cannot fail (one such name made every
    run exit 2 with "unexpected UnicodeEncodeError")."""
    if path.isascii():
        return _CONTROL.sub(_escape, path) if not path.isprintable() else path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        path = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(_escape, path) if not path.isprintable() else path


# A newline (or another control character) in a name would start a line of its own in the output,
# one that could pass for a finding or a summary: shown escaped (``a\nb.env``).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def _escape(m: re.Match[str]) -> str:
    return m.group(0).encode("unicode_escape").decode("ascii")


def read_capped(path: str) -> bytes | None:
    """The bytes of a regular file of at most MAX_BYTES, else None (a special
    file, a larger file, an unreadable one: its source reports it).  For
    second reads of an input (the inline-ignore scan), so they keep the
    same limits as the first."""
    if special_kind(path) is not None:
        return None
    try:
        data = _read_bytes(path)
    except OSError:
        return None
    return None if len(data) > MAX_BYTES else data


def _read_bytes(path: str) -> bytes:
    """At most MAX_BYTES + 1 bytes.  The buffer is sized from fstat: asking
    read() for 64 MiB allocates 64 MiB per file, which costs more than the
    whole parse of a small env file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        size = st.st_size
        regular = S_ISREG(st.st_mode)  # a pipe (``lint <(cat .env)``) may return short reads before its end
        chunks = []
        total = 0
        want = min(size, MAX_BYTES) + 1 if size else 65536
        while total <= MAX_BYTES:
            asked = min(want, MAX_BYTES + 1 - total)
            chunk = os.read(fd, asked)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if regular and len(chunk) < asked:
                break  # a short read of a regular file is its end: no second read() to learn it
            want = 65536
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str) -> tuple[str | None, Problem | None]:
    """Read a UTF-8 file (BOM allowed).  Any failure is a Problem naming the file.
    A FIFO, device or socket is refused before it is opened (``special_kind``)."""
    kind = special_kind(path)
    if kind is not None:
        return None, Problem(path, 0, 0, f"is {kind}, not a regular file; not read (exclude it or name a regular file)", "io-error")
    try:
        data = _read_bytes(path)
    except FileNotFoundError:
        return None, Problem(path, 0, 0, "file disappeared before it could be read; rerun", "io-error")
    except IsADirectoryError:
        return None, Problem(path, 0, 0, "is a directory, not a file", "io-error")
    except PermissionError:
        if os.path.isdir(path):
            return None, Problem(path, 0, 0, "folder cannot be listed (permission denied) and may hold env files; "
                                 "make it readable or add it to exclude", "io-error")
        return None, Problem(path, 0, 0, "permission denied; make it readable or exclude it", "io-error")
    except OSError as exc:
        return None, Problem(path, 0, 0, f"cannot be read ({os.strerror(exc.errno or 0) or exc}); fix or exclude it", "io-error")
    if len(data) > MAX_BYTES:
        return None, Problem(path, 0, 0, f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; exclude it", "io-error")
    if b"\0" in data[:8192]:
        return None, Problem(path, 1, 1, "looks like a binary file (NUL bytes); exclude it", "parse-error")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Problem(
            path, line, 1,
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x}); the application reads it as UTF-8: re-save it as UTF-8",
            "parse-error",
        )


def project_relative(path: str, root: str | None) -> str:
    """``path`` relative to ``root`` (the config's folder), else to the current
    directory, else absolute without its leading separator; always with ``/``.
    The folder part is worked out once per folder (a walk asks for thousands of files)."""
    head, name = os.path.split(path)
    cwd = os.getcwd()
    key = (head, root, cwd)
    folder = _RELATIVE_FOLDERS.get(key)
    if folder is None:
        # A name no real file has (a folder named like it would answer "." for itself: the parent of
        # the checkout /tmp/x asked with "x" came back as the checkout).
        folder = _project_relative(os.path.join(head, _NO_NAME), root, cwd)[:-len(_NO_NAME)]
        if len(_RELATIVE_FOLDERS) < 100_000:
            _RELATIVE_FOLDERS[key] = folder
    if not name or name == "." or name.startswith("..") or name in (os.path.basename(cwd), os.path.basename(root or "")):
        return _project_relative(path, root, cwd)  # "..", or a path that may be the base folder itself ("../x" from /tmp/x)
    return folder + name


_RELATIVE_FOLDERS: dict[tuple[str, str | None, str], str] = {}
_NO_NAME = "\x00velro"


def _project_relative(path: str, root: str | None, cwd: str) -> str:
    for base in (root, cwd):
        if base:
            rel = os.path.relpath(os.path.abspath(path), base)
            if not rel.startswith(".."):
                return rel.replace(os.sep, "/")
    return os.path.abspath(path).lstrip(os.sep).replace(os.sep, "/")


def tail_glob_match(path: str, patterns: list[str], root: str | None) -> bool:
    """Does a glob match the project-relative path or any tail of it?

    So ``tests/*`` excludes ``tests/`` folders at any depth.  A pattern without
    ``/`` (``test_*.py``, ``conftest.py``) matches the file name only, as in
    gitignore: its ``*`` never spans a folder, so a project checked out under a
    folder named ``test_something`` is not excluded whole.  Used by
    ``code_exclude`` and ``python_exclude`` alike.  At most two regex matches
    per path: the tails are the suffixes that start at the beginning or right
    after a ``/``.
    """
    names, tails = _glob_regexes(tuple(patterns))
    rel = project_relative(path, root)
    return bool(names.match(rel.rsplit("/", 1)[-1]) or tails.search(rel))


@lru_cache(maxsize=64)
def _glob_regexes(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(file-name patterns, path patterns) as two regexes: ``fnmatch`` of the name for the
    patterns without ``/``, ``fnmatch`` of any tail for the others (case-insensitive where
    ``fnmatch`` is: where ``os.path.normcase`` folds case)."""
    from fnmatch import translate

    flags = re.IGNORECASE if os.path.normcase("A") == "a" else 0
    names = [translate(p) for p in patterns if "/" not in p]
    paths = [translate(p) for p in patterns if "/" in p]
    return (re.compile("(?:" + "|".join(names) + ")" if names else "(?!)", flags),
            re.compile("(?:^|/)(?:" + "|".join(paths) + ")" if paths else "(?!)", flags))


def repository_top(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` holding ``.git`` (a directory, or the file of a
    linked worktree or submodule); None outside any repository."""
    here = os.path.abspath(folder)
    while not os.path.lexists(os.path.join(here, ".git")):
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
    return here


def deploy_platform(root: str) -> str:
    """The platform the project deploys to, as far as remediation text cares: "railway" when a
    railway.toml / railway.json sits at the project's top, else "" (unknown: generic advice)."""
    top = repository_top(root) or os.path.abspath(root)
    return "railway" if any(os.path.isfile(os.path.join(top, n)) for n in ("railway.toml", "railway.json")) else ""


_VERSION = re.compile(r"(\d+)\.(\d+)")
_REQUIRES_PYTHON = re.compile(r"""^\s*requires-python\s*=\s*["']([^"']*)["']""", re.MULTILINE)


def declared_python(root: str) -> tuple[tuple[int, int], str] | None:
    """The Python version a project declares it runs on, and where: ``.python-version``, else the
    lower bound of ``requires-python`` in ``pyproject.toml`` (``>=3.14``, ``~=3.12``, ``==3.13.*``),
    in ``root`` and the folders above it up to the repository's top.  None when nothing says."""
    top = repository_top(root)
    here = os.path.abspath(root)
    while True:
        for name in (".python-version", "pyproject.toml"):
            path = os.path.join(here, name)
            data = read_capped(path) if os.path.isfile(path) else None
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
            if name == "pyproject.toml":
                m = _REQUIRES_PYTHON.search(text)
                text = re.split(r",", m.group(1))[0] if m and re.match(r"\s*(>=|~=|==)", m.group(1)) else ""
            v = _VERSION.search(text)
            if v:
                return (int(v.group(1)), int(v.group(2))), os.path.relpath(path, root).replace(os.sep, "/")
        parent = os.path.dirname(here)
        if top is None or here == top or parent == here:
            return None
        here = parent

