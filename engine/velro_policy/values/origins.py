"""Origin lists as applications read them.

pydantic-settings decodes a ``list[str]`` field from a JSON array
(``["https://a","https://b"]``); many apps split a comma-separated string
instead.  Both are accepted, as are Python lists from settings modules.

An origin never carries credentials: a ``user:password@`` part is returned with
the password as ``***`` (``masking.mask_url_userinfo``), so no operator that
quotes an origin can print it; scheme and host, all the rules look at, are kept.
"""
from __future__ import annotations

import re
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from velro_policy.values.masking import mask_url_userinfo


class OriginError(ValueError):
    """A value that should be an origin list but cannot be read as one."""


def parse_origins(value: object) -> list[str]:
    return [mask_url_userinfo(i) if "@" in i else i for i in _parse_origins(value)]


def _parse_origins(value: object) -> list[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if not all(isinstance(i, str) for i in items):
            raise OriginError("origin list holds non-string items")
        if isinstance(value, (set, frozenset)):
            items.sort()
        return [i.strip() for i in items if i.strip()]
    if not isinstance(value, str):
        raise OriginError(f"{type(value).__name__} is not an origin list")
    text = value.strip()
    if text.startswith("["):
        import json  # here: most origin values are plain lists, and json costs ~1 ms to import

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OriginError(f"looks like a JSON list but is not valid JSON ({exc.msg})") from None
        if not isinstance(data, list) or not all(isinstance(i, str) for i in data):
            raise OriginError("JSON value is not a list of strings")
        return [i.strip() for i in data if i.strip()]
    return [p.strip().strip("'\"") for p in re.split(r"[,\s]+", text) if p.strip().strip("'\"")]


def is_wildcard(origin: str) -> bool:
    """``*`` (any origin).  ``https://*`` style values are wildcards too."""
    return origin.strip() in ("*", "http://*", "https://*", "*://*")


def host(origin: str) -> str:
    try:
        return (urlsplit(origin).hostname or "").lower()
    except ValueError:
        return ""


_LOCAL = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?|.*\.localhost|.*\.local|host\.docker\.internal)$")


def is_local(origin: str) -> bool:
    return bool(_LOCAL.match(host(origin)))


def host_allowed(origin: str, patterns: list[str]) -> bool:
    h = host(origin)
    return any(fnmatchcase(h, p.lower()) and (not p.startswith("*.") or h != p[2:]) or h == p.lower() for p in patterns)
