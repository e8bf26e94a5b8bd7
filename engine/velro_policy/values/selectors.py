"""The path language that picks values out of a document.

One language for env files and settings modules alike:

- ``DEBUG``: a top-level key (case-insensitive; ``*`` and ``?`` are globs,
  so ``*_RATE_LIMIT_LOGIN`` or ``*CORS*ORIGINS`` work);
- ``SECURITY_HEADERS["X-Frame-Options"]``: a key inside a dict value;
  ``[*]`` is any single key or index, ``[**]`` any depth (zero or more);
- ``*["Strict-Transport-Security"]`` or ``**["Strict-Transport-Security"]``:
  that key in any dict at the top level / at any depth, wherever the dict is
  (header dicts are recognised by their keys, not only by the variable name);
- ``Settings.debug``: a class attribute (a dot separates a class from its field);
- ``!PATTERN`` (in a rule's ``select`` list) excludes what PATTERN matches.

String keys compare case-insensitively (header names are case-insensitive).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase

_TOKEN = re.compile(r"""\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\*\*|\*)|(-?\d+))\s*\]|\.([^.\[\]]+)""")

Pattern = tuple[str, ...]  # lower-cased segment globs; "**" spans segments


class SelectorError(ValueError):
    pass


def compile_selector(text: str) -> Pattern:
    text = text.strip()
    if text and not any(c in text for c in ".[]"):  # a plain name or one-segment glob (most selectors)
        return (text.lower(),)
    m = re.match(r"[^.\[\]]+", text)
    if not m:
        raise SelectorError(f"selector {text!r} must start with a name or '*'")
    segs = [m.group(0).strip()]
    pos = m.end()
    while pos < len(text):
        t = _TOKEN.match(text, pos)
        if not t:
            raise SelectorError(f"selector {text!r}: cannot read from {text[pos:]!r}")
        dq, sq, star, idx, attr = t.groups()
        segs.append(dq if dq is not None else sq if sq is not None else star or idx or attr or "")
        pos = t.end()
    return tuple(s.lower() for s in segs)


def _match(pattern: Pattern, parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and _segment(parts[0], head) and _match(rest, parts[1:])


_SEGMENT_MATCHERS: dict[str, Callable[[str], bool]] = {}


def _segment(name: str, glob: str) -> bool:
    """``fnmatchcase(name, glob)``, without a regex for the usual shapes
    (``DEBUG``, ``*_KEY``, ``JWT_*``, ``*SECRET*``): compiling one regex per
    glob costs more than a whole ``lint .env`` should."""
    matcher = _SEGMENT_MATCHERS.get(glob)
    if matcher is None:
        matcher = _SEGMENT_MATCHERS[glob] = _segment_matcher(glob)
    return matcher(name)


def _segment_matcher(glob: str) -> Callable[[str], bool]:
    body = glob.strip("*")
    if any(c in body for c in "?["):
        return lambda name: fnmatchcase(name, glob)
    if "*" in body:  # `*CORS*ORIGINS`, `JWT_*_KEY`: the pieces in order, anchored where the glob has no star
        return _stars_matcher(glob)
    lead, trail = glob.startswith("*"), glob.endswith("*")
    if lead and trail:
        return lambda name: body in name
    if lead:
        return lambda name: name.endswith(body)
    if trail:
        return lambda name: name.startswith(body)
    return lambda name: name == glob


def _stars_matcher(glob: str) -> Callable[[str], bool]:
    """``fnmatchcase`` for a glob whose only wildcard is ``*``."""
    pieces = glob.split("*")
    first, last, middle = pieces[0], pieces[-1], [p for p in pieces[1:-1] if p]

    def match(name: str) -> bool:
        if len(name) < len(first) + len(last) or not name.startswith(first) or not name.endswith(last):
            return False
        pos, end = len(first), len(name) - len(last)
        for piece in middle:
            found = name.find(piece, pos, end)
            if found < 0:
                return False
            pos = found + len(piece)
        return True

    return match


def needle(glob: str) -> str:
    """The longest literal piece of a one-segment glob: a name it matches contains it
    ("" for a glob with a ``[...]`` class, whose edges fnmatch reads in more than one way)."""
    if "[" in glob:
        return ""
    return max(re.split(r"[*?]", glob), key=len)


class GlobTable:
    """Which of many one-segment globs match a name, cheaply: each glob is tried only when the
    name contains its longest literal piece (``str.__contains__``, in C), so a key meets a
    few matchers instead of every glob of the pack (about 180 in the built-in one).  Values are
    what the caller files under each glob (rule positions)."""

    __slots__ = ("_rows",)

    def __init__(self, globs: dict[str, list[int]]) -> None:
        self._rows = [(needle(glob), glob, values) for glob, values in globs.items()]

    def matching(self, name: str) -> list[list[int]]:
        """The value lists of the globs that match ``name`` (lower-cased)."""
        return [values for piece, glob, values in self._rows if piece in name and _segment(name, glob)]


_MATCHES: dict[tuple[Pattern, tuple[object, ...]], bool] = {}  # (pattern, parts) -> verdict


def matches(pattern: Pattern, parts: tuple[object, ...]) -> bool:
    """Does ``pattern`` pick the value at ``parts``?  Memoised: the same keys
    meet the same selectors in every one of thousands of files."""
    try:
        return _MATCHES[(pattern, parts)]
    except KeyError:
        hit = _matches(pattern, parts)
        if len(_MATCHES) < 200_000:
            _MATCHES[(pattern, parts)] = hit
        return hit
    except TypeError:  # unhashable parts
        return _matches(pattern, parts)


def _matches(pattern: Pattern, parts: tuple[object, ...]) -> bool:
    lowered = tuple(str(p).lower() for p in parts)
    if len(pattern) == 1 and len(lowered) != 1:
        return False
    return _match(pattern, lowered)
