"""Regular expressions from policies, matched in linear time.

Policies may come from anyone's repository, so their patterns run on RE2
(``google-re2``): no backtracking, so no pattern can hang the linter.  RE2
has no backreferences or look-around; such a pattern is rejected when the
policy is loaded, with the policy file and line.  The module is imported
only when a regex rule is actually evaluated.
"""
from __future__ import annotations

from typing import Any


class PatternError(ValueError):
    """A pattern RE2 cannot compile."""


def compile_pattern(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise PatternError(f"invalid or unsupported regular expression {pattern!r}: {exc} (RE2 syntax: no backreferences or look-around)") from None


def search(pattern: str, text: str, cache: dict[str, object]) -> bool:
    compiled = cache.get("re:" + pattern)
    if compiled is None:
        compiled = cache["re:" + pattern] = compile_pattern(pattern)
    return compiled.search(text) is not None  # type: ignore[attr-defined]
