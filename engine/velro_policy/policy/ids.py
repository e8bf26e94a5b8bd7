"""Rule ids named by users (``--only``, ``--skip``, ``disable``, ``severity``): each must name a rule.

A typo in one of them must not turn the gate green (``--only velro/no-such-rule``
used to check nothing and exit 0), so an id or glob that matches no rule of
the pack is an error (exit 2) with the nearest ids as suggestions.
"""
from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from velro_policy.errors import ConfigError

GLOB_CHARS = "*?["


def matches(rule_id: str, patterns: Iterable[str]) -> bool:
    """``rule_id`` is named by one of ``patterns`` (ids or globs such as ``velro/cors-*``)."""
    return any(fnmatchcase(rule_id, p) for p in patterns)


def check_known(patterns: Iterable[str], known: Iterable[str], *, where: str, path: str | None = None) -> None:
    """Raise ``ConfigError`` for the first pattern that names no known rule."""
    known = sorted(set(known))
    for pattern in patterns:
        if any(fnmatchcase(rid, pattern) for rid in known):
            continue
        if any(c in pattern for c in GLOB_CHARS):
            hint = "check the glob (velro-policy policies list shows every rule id)"
        else:
            from difflib import get_close_matches  # only for a typo: not on every run's start-up

            near = get_close_matches(pattern, known, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(near)}?" if near else "velro-policy policies list shows every rule id"
        raise ConfigError(f"{where}: {pattern} matches no rule; {hint}", path=path or "")
