"""``velro-policy hooks install|uninstall``: plain git hooks without the pre-commit framework.

The scripts ship in ``velro_policy.hooks`` (the repository's ``hooks/``).
Install writes them into the folder git runs hooks from, which
``git rev-parse --git-path hooks`` answers with ``core.hooksPath`` taken into
account, and records the Python that has velro-policy so the hook works
without an activated virtualenv, with the flags that run it isolated: git
starts hooks at the top of the work tree, and no module there (a committed
``click.py``, a ``velro_policy/`` folder) may ever be imported.  A hook
velro-policy did not write (no ``velro-policy-hook:`` marker) is never
overwritten without ``--force``; with it, the old hook is kept as
``<hook>.pre-velro-policy`` and uninstall puts it back.
"""
from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys

from velro_policy.errors import InputError
from velro_policy.resources import hooks_dir

MARKER = "velro-policy-hook:"
BACKUP_SUFFIX = ".pre-velro-policy"
PYTHON_LINE = 'VELRO_POLICY_PYTHON=""'
ISOLATE_LINE = 'VELRO_POLICY_ISOLATE="-I"'


def hooks_path() -> str:
    """The folder git runs hooks from (core.hooksPath aware), created if missing."""
    from velro_policy.inputs import git as gitrepo

    raw = gitrepo._git(["rev-parse", "--git-path", "hooks"], ".", what="run it inside a git repository")
    path = os.path.abspath(raw.decode("utf-8", "surrogateescape").strip())
    os.makedirs(path, exist_ok=True)
    return path


def _ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return MARKER in fh.read(4096)
    except OSError:
        return False


def isolation_flags(python: str = sys.executable) -> list[str]:
    """Interpreter flags that keep the current folder and PYTHONPATH off sys.path
    and still find velro-policy: ``-I``; ``-E -P`` (Python 3.11+) when it lives in
    the user site-packages (``pip install --user``), which ``-I`` leaves out."""
    candidates = [["-I"]] + ([["-E", "-P"]] if sys.version_info >= (3, 11) else [])
    reason = ""
    for flags in candidates:
        try:
            probe = subprocess.run([python, *flags, "-c", "import velro_policy.main"], stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = reason or str(exc)
            continue
        if probe.returncode == 0:
            return flags
        lines = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = reason or (lines[-1] if lines else f"exit {probe.returncode}")
    raise InputError(f"{python} cannot import velro-policy when run isolated ({' '.join(candidates[0])}: {reason}), "
                     "and a hook must never import modules from the repository; install velro-policy into a "
                     "virtualenv (or with pipx) and rerun `velro-policy hooks install` with it")


def script(name: str, flags: list[str] | None = None) -> str:
    """The shipped hook script, pointed at this Python run with ``flags`` (isolated)."""
    text = (hooks_dir() / name).read_text(encoding="utf-8")
    text = text.replace(PYTHON_LINE, f"VELRO_POLICY_PYTHON={shlex.quote(sys.executable)}", 1)
    return text.replace(ISOLATE_LINE, f"VELRO_POLICY_ISOLATE={shlex.quote(' '.join(flags or ['-I']))}", 1)


def install(names: list[str], *, force: bool = False) -> int:
    folder = hooks_path()
    flags = isolation_flags()
    for name in names:
        target = os.path.join(folder, name)
        if os.path.lexists(target) and not _ours(target):
            if not force:
                raise InputError(f"a {name} hook velro-policy did not write is already installed; "
                                 f"rerun with --force to replace it (it is kept as {name}{BACKUP_SUFFIX})", path=target)
            os.replace(target, target + BACKUP_SUFFIX)
        tmp = target + ".tmp-velro"
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(script(name, flags))
        os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        os.replace(tmp, target)
        sys.stdout.write(f"installed {name} hook: {os.path.relpath(target)}\n")
    return 0


def uninstall(names: list[str]) -> int:
    folder = hooks_path()
    removed = 0
    for name in names:
        target = os.path.join(folder, name)
        if not os.path.lexists(target):
            continue
        if not _ours(target):
            sys.stderr.write(f"velro-policy: {os.path.relpath(target)} was not written by velro-policy; left in place\n")
            continue
        os.remove(target)
        removed += 1
        backup = target + BACKUP_SUFFIX
        if os.path.lexists(backup):
            os.replace(backup, target)
            sys.stdout.write(f"removed {name} hook; restored the previous one\n")
        else:
            sys.stdout.write(f"removed {name} hook: {os.path.relpath(target)}\n")
    if not removed:
        sys.stdout.write("no velro-policy hook was installed\n")
    return 0
