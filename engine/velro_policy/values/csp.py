"""Content-Security-Policy values parsed into directives (CSP Level 3 syntax).

A policy is ``directive source source; directive ...``.  Directive names are
case-insensitive and only the first occurrence of a name counts (browsers
ignore repeats).  Keywords (``'self'``, ``'unsafe-inline'``...) and schemes
(``data:``) are case-insensitive too.  Fetch directives fall back to
``default-src`` when absent: a policy without ``script-src`` lets scripts do
what ``default-src`` allows, so ``effective("script-src")`` follows the
chain the browser follows.  Settings also hold CSPs as dicts
(``{"default-src": ["'self'"], ...}``) or lists of directive strings; both
are accepted.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from velro_policy.model import Unknown

# CSP3 fallback lists (script-src-elem -> script-src -> default-src, ...).
FALLBACK: dict[str, tuple[str, ...]] = {
    "script-src-elem": ("script-src", "default-src"),
    "script-src-attr": ("script-src", "default-src"),
    "script-src": ("default-src",),
    "style-src-elem": ("style-src", "default-src"),
    "style-src-attr": ("style-src", "default-src"),
    "style-src": ("default-src",),
    "img-src": ("default-src",), "font-src": ("default-src",), "connect-src": ("default-src",),
    "media-src": ("default-src",), "object-src": ("default-src",), "frame-src": ("child-src", "default-src"),
    "child-src": ("default-src",), "worker-src": ("child-src", "script-src", "default-src"),
    "manifest-src": ("default-src",),
}
_NAME = re.compile(r"^[a-zA-Z0-9-]+$")
KNOWN: frozenset[str] = frozenset({
    *FALLBACK, "default-src", "prefetch-src", "fenced-frame-src", "base-uri", "form-action", "frame-ancestors",
    "navigate-to", "sandbox", "report-uri", "report-to", "upgrade-insecure-requests", "block-all-mixed-content",
    "require-trusted-types-for", "trusted-types", "plugin-types", "require-sri-for", "referrer",
})


class CSPError(ValueError):
    """A value that is meant to be a CSP but cannot be read as one."""


class Policy(NamedTuple):
    directives: dict[str, tuple[str, ...]]  # lower-case name -> sources as written

    def effective(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """(directive that applies, its sources) for ``name``, following fallbacks."""
        name = name.lower()
        for candidate in (name, *FALLBACK.get(name, ())):
            if candidate in self.directives:
                return candidate, self.directives[candidate]
        return None


def _from_text(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for chunk in text.split(";"):
        tokens = chunk.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if not _NAME.match(name):
            raise CSPError(f"{tokens[0][:40]!r} is not a directive name")
        out.setdefault(name, tuple(tokens[1:]))
    return out


def parse(value: object) -> Policy:
    """A CSP from a header string, a list of directive strings or a dict."""
    if isinstance(value, str):
        directives = _from_text(value)
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        directives = _from_text(";".join(value))
    elif isinstance(value, dict):
        directives = {}
        for key, sources in value.items():
            if isinstance(sources, Unknown):
                raise CSPError(f"sources of {key!r} are not known statically ({sources.why})")
            if not isinstance(key, str) or not _NAME.match(key.replace("_", "-")):
                raise CSPError(f"{str(key)[:40]!r} is not a directive name")
            if isinstance(sources, str):
                tokens = tuple(sources.split())
            elif isinstance(sources, (list, tuple, set)) and all(isinstance(s, str) for s in sources):
                tokens = tuple(sources)
            elif sources is True or sources is None:
                tokens = ()
            else:
                raise CSPError(f"sources of {key!r} are not text")
            directives.setdefault(key.replace("_", "-").lower(), tokens)
    else:
        raise CSPError(f"a {type(value).__name__} is not a policy")
    if not directives:
        raise CSPError("it has no directives")
    if not any(name in KNOWN for name in directives):
        raise CSPError("it has no known directive (default-src, script-src, ...)")
    return Policy(directives)


def same_source(token: str, wanted: str) -> bool:
    """Keywords, schemes and ``*`` compare case-insensitively; hosts too."""
    return token.strip().lower() == wanted.strip().lower()
