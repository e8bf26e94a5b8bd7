"""Route operators: judging one route of the application model (``model.Route``).

``route_rate_limit`` tells a route's kind (login, registration, password reset,
generation, ...) from the words of its path and of its handler's name, with the
vocabulary written in the policy (not here), and holds a route of a sensitive
kind to that kind's limit:

- no rate limit at all applies to it: a finding;
- every limit that applies is looser than the kind's limit: a finding naming
  the tightest one (several limits apply at once, so the tightest binds);
- no known limit is within the kind's limit and one cannot be folded to a value
  (``Unknown``): "cannot verify", never a guess (``CannotVerify``).

Words: the path's literal segments (``{param}`` segments dropped) and the
handler's name are split on ``/ - _ .``, spaces and camelCase, and lower-cased:
``/api/v1/auth/sign-in`` is ``api v1 auth sign in``, ``loginForAccessToken`` is
``login for access token``.  A phrase of the policy (``"sign in"``) matches
when its words appear consecutively.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from velro_policy.judge.operators._base import CannotVerify, Context, operator
from velro_policy.model import Route, RouteLimit, Unknown
from velro_policy.values import masking
from velro_policy.values.rates import Rate, RateError, parse_one, parse_rates

_RATE_PATTERN = r"^\s*\d+\s*(/|per|\s)\s*\d*\s*[A-Za-z]+\s*$"
_PHRASES = {"type": "array", "items": {"type": "string", "pattern": r"[A-Za-z0-9]"}, "uniqueItems": True}

_KIND = {
    "type": "object",
    "additionalProperties": False,
    "required": ["limit"],
    "anyOf": [{"required": ["words"]}, {"required": ["path_end"]}, {"required": ["path_is"]}, {"required": ["model_kinds"]}],
    "properties": {
        "limit": {"type": "string", "pattern": _RATE_PATTERN,
                  "description": "The guide's limit for this kind of route ('3/hour'): every limit applying to the route may be no looser."},
        "label": {"type": "string", "minLength": 1,
                  "description": "How findings name the kind ('login' -> 'is a login route with no rate limit'); default: the kind's name with '_' as spaces."},
        "words": {**_PHRASES, "description": "Phrases that make a route this kind wherever they appear in its path or its handler's name ('sign in' matches /auth/sign-in and sign_in())."},
        "path_end": {**_PHRASES, "description": "Phrases that make a route this kind when its path ends with them (path parameters aside): 'generations' matches /projects/{id}/generations, not /generations/{id}/favorite."},
        "path_is": {**_PHRASES, "description": "Phrases that make a route this kind when they are its whole path apart from leading prefix words: 'token' matches /token and /api/v1/auth/token, not /push/token."},
        "not_words": {**_PHRASES, "description": "Phrases that, anywhere in the path or the handler's name, mean the route is not this kind ('logout', 'refresh')."},
        "model_kinds": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z][a-z0-9_-]*$"}, "uniqueItems": True,
                        "description": "Kinds the application model tells from what the handler calls ('generation': it reaches an AI/generation SDK call, directly or through project helpers): a route the model marks with one is this kind whatever its words say (not_words do not apply to it), and the finding says why."},
        "top_level": {"type": "boolean",
                      "description": "A route of this kind is never nested under another resource: with true, a path with a parameter segment ('/businesses/{id}/accounts') is not this kind ('create account' there is an accounting record, not a sign-up). Default false."},
        "methods": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z]+$"}, "minItems": 1, "uniqueItems": True,
                    "description": "HTTP methods a route of this kind has (default POST, PUT, PATCH: a read-only GET route is never a login). A route whose method is '*', 'ANY', '?' (not readable) or empty has them all."},
    },
}

_PARAM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kinds"],
    "properties": {
        "kinds": {"type": "object", "minProperties": 1, "additionalProperties": _KIND,
                  "description": "Kind name -> how to recognise it and its limit.  A route of no kind passes; a route of several kinds is held to the strictest of their limits."},
        "prefix_words": {**_PHRASES, "description": "Words a path may start with before a `path_is` phrase (api, auth, ...); version segments (v1, 2) always may."},
    },
    "description": (
        "For a route of the application model (target: app): classify it by the words of its path and handler name "
        "(kinds: {login: {limit: 3/hour, words: [login, sign in], path_is: [token]}, ...}) and hold a route of a kind "
        "to the kind's limit: no rate limit at all, or only looser ones, is a finding; a limit that cannot be folded "
        "(and no known one within the limit) cannot be verified."
    ),
}

DEFAULT_METHODS = ("POST", "PUT", "PATCH")
_ANY_METHOD = frozenset({"", "*", "?", "ANY", "ALL"})  # "?": the methods could not be read (never fail open)
_VERSION = re.compile(r"^(v\d+(\.\d+)*|\d+)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_PARAM_SEGMENT = re.compile(r"^[{<:]")
# A path parameter ({id}, {file_path:path}, <id>, :id), as opposed to a prefix the model could not
# fold, shown as its source text ({settings.API_PREFIX}): that one is no resource the route is under.
_PARAMETER = re.compile(r"^(\{\w+(:\w+)?\}|<[^<>]*>|:\w+)$")



def words(text: str) -> tuple[str, ...]:
    """``"/api/v1/auth/sign-in"`` -> ``("api", "v1", "auth", "sign", "in")``; ``"loginForAccessToken"`` -> ``("login", "for", "access", "token")``."""
    return tuple(w.lower() for w in _SPLIT.split(_CAMEL.sub(" ", text)) if w)


def path_words(path: str) -> tuple[str, ...]:
    """The words of a route path's literal segments (``{id}``, ``<id>``, ``:id`` dropped)."""
    return tuple(w for seg in path.split("/") if seg and not _PARAM_SEGMENT.match(seg) for w in words(seg))


def _phrases(items: object) -> tuple[tuple[str, ...], ...]:
    return tuple(p for p in (words(str(i)) for i in (items or ())) if p)  # type: ignore[attr-defined]


def _contains(seq: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(seq[i:i + n] == phrase for i in range(len(seq) - n + 1))


class Kind(NamedTuple):
    name: str
    label: str
    limit: Rate
    words: tuple[tuple[str, ...], ...]
    path_end: tuple[tuple[str, ...], ...]
    path_is: tuple[tuple[str, ...], ...]
    not_words: tuple[tuple[str, ...], ...]
    methods: frozenset[str]
    model_kinds: frozenset[str] = frozenset()
    top_level: bool = False


class Vocabulary(NamedTuple):
    kinds: tuple[Kind, ...]
    prefix: frozenset[str]


def compile_param(param: dict[str, Any]) -> Vocabulary:
    kinds = []
    for name, spec in param["kinds"].items():
        kinds.append(Kind(
            name=str(name),
            label=str(spec.get("label") or str(name).replace("_", " ")),
            limit=parse_one(str(spec["limit"])),
            words=_phrases(spec.get("words")),
            path_end=_phrases(spec.get("path_end")),
            path_is=_phrases(spec.get("path_is")),
            not_words=_phrases(spec.get("not_words")),
            methods=frozenset(str(m).upper() for m in spec.get("methods") or DEFAULT_METHODS),
            model_kinds=frozenset(str(k) for k in spec.get("model_kinds") or ()),
            top_level=spec.get("top_level") is True,
        ))
    prefix = frozenset(w for p in _phrases(param.get("prefix_words")) for w in p)
    return Vocabulary(tuple(kinds), prefix)


def _vocabulary(param: dict[str, Any], ctx: Context) -> Vocabulary:
    key = f"route_rate_limit:{id(param)}"
    got = ctx.compiled.get(key)
    if not (isinstance(got, tuple) and got[0] is param):
        got = ctx.compiled[key] = (param, compile_param(param))
    return got[1]


def _has_method(route_method: str, methods: frozenset[str]) -> bool:
    wanted = {m for m in re.split(r"[\s,|/]+", route_method.strip().upper()) if m} or {""}
    return bool(wanted & _ANY_METHOD) or bool(wanted & methods)


def _path_is(pw: tuple[str, ...], phrase: tuple[str, ...], prefix: frozenset[str]) -> bool:
    start = len(pw) - len(phrase)
    return start >= 0 and pw[start:] == phrase and all(w in prefix or _VERSION.match(w) for w in pw[:start])


def classify(method: str, path: str, handler: str, vocabulary: Vocabulary, model_kind: str = "") -> Kind | None:
    """The kind of ``vocabulary`` the route is, or None.  A route that matches several
    kinds is held to the strictest of their limits (the first written, when equal).
    ``model_kind`` is the kind the application model told from what the handler calls
    (``Route.kind``): it makes the route of every kind that lists it in ``model_kinds``,
    whatever the words say (its evidence is the call, not the name)."""
    pw, hw = path_words(path), words(handler)
    nested = any(_PARAMETER.match(seg) for seg in path.split("/") if seg)
    best: Kind | None = None
    for kind in vocabulary.kinds:
        if not _has_method(method, kind.methods) or (kind.top_level and nested):
            continue
        by_model = bool(model_kind) and model_kind in kind.model_kinds
        if not by_model and any(_contains(pw, p) or _contains(hw, p) for p in kind.not_words):
            continue
        if (by_model or any(_contains(pw, p) or _contains(hw, p) for p in kind.words)
                or any(pw[len(pw) - len(p):] == p for p in kind.path_end if len(p) <= len(pw))
                or any(_path_is(pw, p, vocabulary.prefix) for p in kind.path_is)):
            if best is None or kind.limit.per_second < best.limit.per_second:
                best = kind
    return best


def _effective(value: object) -> Rate:
    """The rate of one limit's value that binds: the tightest of rates enforced together
    (``"10/minute;100/hour"``, a list of limit strings), the loosest of alternatives
    (per-tier tables: a client gets one tier).  Raises ``RateError`` when not a rate."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value) \
            and not (len(value) == 2 and value[0].strip().isdigit()):
        rates = [r for v in value for r in parse_rates(v)]
        return min(rates, key=lambda r: r.per_second)
    rates = parse_rates(value)
    pick = min if isinstance(value, str) else max
    return pick(rates, key=lambda r: r.per_second)


def _show_limit(limit: RouteLimit) -> str:
    # A rate limit is not a credential, whatever the route's path says (routes["POST /token"]
    # reads as a secret's name): shown through masking, which still hides real-looking secrets.
    return masking.show("rate_limit", limit.value)


@operator(_PARAM)
def route_rate_limit(value: object, param: dict[str, Any], ctx: Context) -> str | None:
    """Pass when the route is of no sensitive kind, or a limit within its kind's limit applies to it."""
    if not isinstance(value, Route):
        raise TypeError(f"route_rate_limit judges routes of the application model, not {type(value).__name__}")
    kind = classify(value.method, value.path, value.handler, _vocabulary(param, ctx), value.kind)
    if kind is None:
        return None
    guide = kind.limit
    # why the route is of its kind when the model told it from the calls (the words may say nothing)
    why = f"; it {value.kind_reason}" if value.kind and value.kind in kind.model_kinds and value.kind_reason else ""
    if not value.limits:
        return f"is a {kind.label} route with no rate limit (guide: {guide}){why}"
    known: list[tuple[Rate, RouteLimit]] = []
    unknown: list[RouteLimit] = []
    malformed: list[RouteLimit] = []
    for limit in value.limits:
        if isinstance(limit.value, Unknown):
            unknown.append(limit)
            continue
        try:
            rate = _effective(limit.value)
        except (RateError, ValueError, OverflowError, ZeroDivisionError):
            malformed.append(limit)
            continue
        if rate.per_second <= guide.per_second + 1e-12:
            return None  # limits apply together: one within the guide's bounds the route
        known.append((rate, limit))
    if unknown:
        lim = unknown[0]
        return CannotVerify(f"is a {kind.label} route; cannot verify its rate limit: {lim.source} is {_show_limit(lim)} "
                            f"(guide: at most {guide}){why}")
    if known:
        rate, lim = min(known, key=lambda rl: rl[0].per_second)
        return f"is a {kind.label} route that allows {rate}, from {lim.source} (guide: at most {guide}){why}"
    lim = malformed[0]
    return f"is a {kind.label} route whose rate limit {_show_limit(lim)}, from {lim.source}, is not a valid rate (guide: at most {guide}){why}"
