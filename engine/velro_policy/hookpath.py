"""The hooks' fast path: the command lines the hooks run, without click (issue 20, item 3).

A pre-commit hook starts one Python process per commit, and importing click is about a third
of that process's own time (bench E).  The hooks pass a fixed shape of arguments, so for exactly
these shapes the run is started here, with the same ``Options`` the click command would build
(``commands.run.Options`` defaults are the command line's defaults):

    lint [--target T]... FILE...        (.pre-commit-hooks.yaml: pre-commit appends the files)
    check --staged                      (hooks/pre-commit, the plain git hook)

Anything else (another option, ``-`` for stdin, a file name starting with ``-``, no file, an
unknown target) returns None and the click command line handles it, so errors, ``--help`` and
every option behave as documented.  tests/test_hookpath.py runs both paths on the same inputs
and compares output and exit code.
"""
from __future__ import annotations

TARGETS = ("env", "settings", "code", "app")  # --target choices: main.py offers these to click too


def parse(argv: list[str]) -> tuple[list[str], list[str] | None, bool] | None:
    """(paths, targets or None, staged) for a hook's command line; None for any other."""
    if argv == ["check", "--staged"]:
        return ["."], None, True
    if not argv or argv[0] != "lint":
        return None
    targets: list[str] = []
    rest = argv[1:]
    while len(rest) >= 2 and rest[0] == "--target":
        if rest[1] not in TARGETS:
            return None
        targets.append(rest[1])
        rest = rest[2:]
    if not rest or any(a.startswith("-") for a in rest):
        return None
    return rest, targets or None, False


def main() -> int:
    """The ``velro-policy`` console script and ``python -m velro_policy``: a hook's command line
    runs here, any other goes to click (``velro_policy.main``). The plain git hook and
    ``language: system`` hooks call the console script, so they skip click too."""
    import sys

    code = run(sys.argv[1:])
    if code is None:
        from velro_policy.main import main as click_main

        code = click_main()
    return code


def run(argv: list[str]) -> int | None:
    """The exit code of a hook's command line run without click, or None when it is not one."""
    parsed = parse(argv)
    if parsed is None:
        return None
    paths, targets, staged = parsed
    from velro_policy.error_handler import error_handler, signals_raise

    try:
        with signals_raise(), error_handler():
            from velro_policy.commands.run import Options
            from velro_policy.commands.run import run as run_checks

            return run_checks(Options(paths=paths, targets=targets, staged=staged))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
