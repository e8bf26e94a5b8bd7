"""The ``http`` source: responses of a running service as documents.

``velro-policy probe`` sends the requests of the probe plan and hands the
exchanges (one record per request: method, URL, status, response headers,
for error probes a capped body) to ``documents``.  The same records, saved
with ``probe --record FILE.probe.json``, are read back by this source, so a
recorded probe can be linted again and the shipped http policies are tested
by ``velro-policy test`` without a server.

Why observations, not raw responses: a policy cannot know which Origin a
request sent or how many login attempts were made, so the source states
what each probe showed as plain values (``cors.untrusted_origin`` is
``refused``, ``echoed``, ``echoed with credentials``, ``wildcard`` ...) and
the policies judge them with the ordinary operators.  Response headers are
entries ``headers["Name"]``, the same shape as a settings module's
``SECURITY_HEADERS["Name"]``, so header rules read the same.

Entries of every exchange's document (path and location: the URL):

- ``headers["<Name>"]``: each response header (repeated headers joined by
  ", "); ``Set-Cookie`` is left out (it carries session values);
- ``status``: the status code;
- by probe: ``cors.untrusted_origin``, ``cors.allowed_origin``,
  ``auth.no_token`` / ``auth.invalid_token`` / ``auth.mock_token`` (status),
  ``error.body`` (text), ``rate_limit.enforced`` (bool) and
  ``rate_limit.headers`` (which rate-limit headers the 429 carried).

Stdlib only: this module is imported with the source registry on the
``lint .env`` path.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from velro_policy.model import Document, Entry, Location, Problem

if TYPE_CHECKING:
    from velro_policy.inputs import LoadContext

NAME = "http"
TARGET = "http"
SUFFIX = ".probe.json"
FORMAT_VERSION = 1

PROBES = (
    "page", "cors-untrusted", "cors-allowed", "auth-none", "auth-invalid", "auth-mock",
    "error-unknown-path", "error-malformed-json", "rate-limit",
)
_AUTH_KEYS = {
    "auth-none": ("no_token", "status with no Authorization header"),
    "auth-invalid": ("invalid_token", "status with a bogus bearer"),
    "auth-mock": ("mock_token", "status with a mock-auth bearer"),
}
_HIDDEN_HEADERS = frozenset({"set-cookie"})
RATE_LIMIT_HEADERS = ("retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                      "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy", "ratelimit")


def claims(path: str, explicit: bool, config: dict[str, Any]) -> bool:
    """Recorded probes: ``*.probe.json`` (written by ``probe --record``)."""
    return os.path.basename(path).endswith(SUFFIX)


_CANONICAL = {n.lower(): n for n in (
    "Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
    "X-XSS-Protection", "Referrer-Policy", "WWW-Authenticate", "ETag", "X-RateLimit-Limit", "X-RateLimit-Remaining",
    "X-RateLimit-Reset", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")}


def canonical(name: str) -> str:
    """A header name as documents show it (HTTP/2 and many servers send lower case)."""
    low = name.lower()
    return _CANONICAL.get(low) or "-".join(w[:1].upper() + w[1:] for w in low.split("-"))


def header_map(headers: list[list[str]]) -> dict[str, tuple[str, str]]:
    """lower-case name -> (name as sent, value); repeated headers joined by ', '."""
    out: dict[str, tuple[str, str]] = {}
    for name, value in headers:
        low = name.lower()
        if low in out:
            out[low] = (out[low][0], out[low][1] + ", " + value)
        else:
            out[low] = (canonical(name), value)
    return out


def cors_answer(headers: dict[str, tuple[str, str]], origin: str) -> str:
    """What the response allowed the given Origin: refused, echoed, wildcard (+ with credentials)."""
    allow = headers.get("access-control-allow-origin", ("", ""))[1].strip()
    creds = headers.get("access-control-allow-credentials", ("", ""))[1].strip().lower() == "true"
    suffix = " with credentials" if creds else ""
    if not allow:
        return "refused"
    if allow == "*":
        return "wildcard" + suffix
    if allow.lower().rstrip("/") == origin.lower().rstrip("/"):
        return "echoed" + suffix
    return "refused"


def _entries(ex: dict[str, Any]) -> list[Entry]:
    url = str(ex["url"])
    loc = Location(url, 1, 1)
    headers = header_map(ex.get("headers") or [])
    out = [Entry(f"header {name}", value, loc, ("headers", name)) for low, (name, value) in headers.items()
           if low not in _HIDDEN_HEADERS]
    out.append(Entry("status", int(ex["status"]), loc, ("status",)))
    probe = ex["probe"]
    if probe == "cors-untrusted":
        origin = str(ex.get("origin", ""))
        out.append(Entry(f"CORS answer to Origin {origin}", cors_answer(headers, origin), loc, ("cors", "untrusted_origin")))
    elif probe == "cors-allowed":
        origin = str(ex.get("origin", ""))
        answer = cors_answer(headers, origin)
        out.append(Entry(f"CORS answer to Origin {origin}", "refused" if answer == "refused" else "allowed", loc,
                         ("cors", "allowed_origin")))
    elif probe in _AUTH_KEYS:
        part, key = _AUTH_KEYS[probe]
        out.append(Entry(key, int(ex["status"]), loc, ("auth", part)))
    elif probe.startswith("error-"):
        out.append(Entry("error response body", str(ex.get("body", "")), loc, ("error", "body")))
    elif probe == "rate-limit":
        statuses = [int(s) for s in ex.get("statuses", [])]
        limited = 429 in statuses
        out.append(Entry(f"HTTP 429 within {len(statuses)} login requests", limited, loc, ("rate_limit", "enforced")))
        if limited:
            present = [headers[h][0] for h in RATE_LIMIT_HEADERS if h in headers]
            out.append(Entry("rate-limit headers on the 429 response", ", ".join(present), loc, ("rate_limit", "headers")))
    return out


def check_exchange(ex: object) -> str:
    """Why a recorded exchange cannot be used ('' when it can)."""
    if not isinstance(ex, dict):
        return "an exchange must be an object"
    if ex.get("probe") not in PROBES:
        return f"probe must be one of {', '.join(PROBES)}"
    if not isinstance(ex.get("url"), str) or "://" not in ex["url"]:
        return "url must be an absolute URL"
    if not isinstance(ex.get("status"), int) or isinstance(ex.get("status"), bool):
        return "status must be an integer"
    headers = ex.get("headers", [])
    if not isinstance(headers, list) or not all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(p, str) for p in h) for h in headers):
        return "headers must be a list of [name, value] pairs"
    if not isinstance(ex.get("statuses", []), list) or not all(isinstance(s, int) for s in ex.get("statuses", [])):
        return "statuses must be a list of integers"
    return ""


def label(ex: dict[str, Any]) -> str:
    """The request in words (shown with findings): method, path and what was special about it."""
    from urllib.parse import urlsplit

    parts = urlsplit(str(ex["url"]))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    extra = str(ex.get("request", ""))
    return f"{ex.get('method', 'GET')} {target}" + (f" ({extra})" if extra else "")


def documents(exchanges: list[dict[str, Any]], environment: str, source: str) -> list[Document]:
    """One document per exchange, in order."""
    return [Document(str(ex["url"]), TARGET, tuple(_entries(ex)), environment, source, display_path=str(ex["url"]))
            for ex in exchanges]


def load(paths: list[str], ctx: LoadContext) -> Iterator[Document]:
    from velro_policy.inputs._files import read_text

    for path in paths:
        shown = ctx.display(path)
        text, problem = read_text(path)
        if problem:
            yield Document(shown, TARGET, (), problems=(problem._replace(path=shown),), display_path=shown)
            continue
        try:
            data = json.loads(text or "")
        except json.JSONDecodeError as exc:
            yield _bad(shown, f"is not valid JSON ({exc.msg} at line {exc.lineno}); re-record it with `velro-policy probe --record`")
            continue
        if not isinstance(data, dict) or data.get("velro_probe") != FORMAT_VERSION or not isinstance(data.get("exchanges"), list):
            yield _bad(shown, f'is not a recorded probe (expected {{"velro_probe": {FORMAT_VERSION}, "exchanges": [...]}}); re-record it with `velro-policy probe --record`')
            continue
        errors = [(i, why) for i, ex in enumerate(data["exchanges"]) if (why := check_exchange(ex))]
        if errors:
            i, why = errors[0]
            yield _bad(shown, f"exchange {i + 1}: {why}; re-record it with `velro-policy probe --record`")
            continue
        env = ctx.flag_environment or str(data.get("environment") or "production")
        why_env = "flag" if ctx.flag_environment else ("recorded" if data.get("environment") else "unknown: held to production rules")
        yield from documents(data["exchanges"], env, why_env)


def _bad(path: str, message: str) -> Document:
    return Document(path, TARGET, (), problems=(Problem(path, 1, 1, message),), display_path=path)
