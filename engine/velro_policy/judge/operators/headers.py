"""Security-header operators: HSTS, CSP and single-token header values.

Header values compare case-insensitively with spaces around ``;`` ``,``
``=`` ignored (``1;mode=block`` is ``1; mode=block``).  A value that is not
text is not a header value (a dict of feature flags such as
``{"X-Frame-Options": True}`` is not a header dict) and is not judged; nor is
a switch (``true``, ``off``, ``0``: a ``STRICT_CSP=true`` or ``API_CSP = True``
turns a policy on, it is not one) for ``csp`` and ``hsts``.
"""
from __future__ import annotations

import re

from velro_policy.judge.operators._base import CannotVerify, Context, as_bool, operator
from velro_policy.model import HeaderCoverage
from velro_policy.values import csp as csp_mod


def is_switch(value: object) -> bool:
    """A flag rather than a header value: a bool or a boolean word (``true``, ``off``, ``0``)."""
    return isinstance(value, bool) or (isinstance(value, str) and as_bool(value) is not None)


def normalise(value: str) -> str:
    text = re.sub(r"\s*([;,=])\s*", r"\1", value.strip().lower())
    return re.sub(r"\s+", " ", text).rstrip(";")


@operator({"type": "array", "items": {"type": "string"}, "minItems": 1,
           "description": "A header value equal to one of these, ignoring case and spaces around ';' ',' '=' (e.g. [DENY] for X-Frame-Options). Non-text values are not judged."})
def header_one_of(value: object, param: list[str], ctx: Context) -> str | None:
    """Pass when the header value is one of ``param`` (case-insensitive)."""
    if not isinstance(value, str):
        return None
    if normalise(value) in {normalise(p) for p in param}:
        return None
    wanted = " or ".join(repr(p) for p in param)
    return f"is {ctx.shown}; must be {wanted}"


_HSTS_PARAM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min_max_age": {"type": "integer", "minimum": 0, "description": "Smallest acceptable max-age in seconds (31536000 = one year)."},
        "include_subdomains": {"type": "boolean", "description": "includeSubDomains must be present."},
        "preload": {"type": "boolean", "description": "preload must be present."},
    },
    "description": "A Strict-Transport-Security value: max-age at least min_max_age, with includeSubDomains and preload when asked.",
}


@operator(_HSTS_PARAM)
def hsts(value: object, param: dict[str, object], ctx: Context) -> str | None:
    """Pass when the HSTS value has a long enough max-age and the required tokens."""
    if not isinstance(value, str) or is_switch(value):
        return None
    tokens = [t.strip() for t in value.split(";") if t.strip()]
    names = {t.split("=", 1)[0].strip().lower(): t for t in tokens}
    problems: list[str] = []
    raw = names.get("max-age")
    if raw is None or "=" not in raw:
        problems.append("has no max-age")
    else:
        number = raw.split("=", 1)[1].strip().strip('"')
        if not number.isdigit():
            problems.append(f"has a max-age that is not a number ({number[:20]!r})")
        elif int(number) < int(param.get("min_max_age", 0)):  # type: ignore[call-overload]
            problems.append(f"has max-age={int(number)}, below {param['min_max_age']}")
    if param.get("include_subdomains") and "includesubdomains" not in names:
        problems.append("lacks includeSubDomains")
    if param.get("preload") and "preload" not in names:
        problems.append("lacks preload")
    if not problems:
        return None
    return f"is {ctx.shown}: it " + ", ".join(problems)


_CSP_PARAM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "require": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "description": "Directive -> sources of which it must contain at least one, e.g. {default-src: [\"'self'\", \"'none'\"]}. The directive must be present itself (no fallback).",
        },
        "forbid": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "description": "Directive -> sources it must not allow, judged on the directive that applies after CSP fallback (script-src falls back to default-src). A directive that nothing restricts is a finding.",
        },
    },
    "description": "A Content-Security-Policy (header string, list of directives or dict) parsed into directives.",
}


@operator(_CSP_PARAM)
def csp(value: object, param: dict[str, dict[str, list[str]]], ctx: Context) -> str | None:
    """Pass when required directives have an accepted source and no forbidden source applies."""
    if is_switch(value):
        return None
    try:
        policy = csp_mod.parse(value)
    except csp_mod.CSPError as exc:
        return f"is {ctx.shown}, which is not a readable Content-Security-Policy: {exc}"
    problems: list[str] = []
    for directive, accepted in param.get("require", {}).items():
        sources = policy.directives.get(directive.lower())
        if sources is None:
            problems.append(f"has no {directive}")
        elif not any(csp_mod.same_source(s, a) for s in sources for a in accepted):
            problems.append(f"has {directive} without {' or '.join(accepted)}")
    for directive, banned in param.get("forbid", {}).items():
        applied = policy.effective(directive)
        if applied is None:
            problems.append(f"does not restrict {directive} (no {directive} and no default-src)")
            continue
        name, sources = applied
        bad = [s for s in sources if any(csp_mod.same_source(s, b) for b in banned)]
        if bad:
            via = "" if name == directive.lower() else f" (through {name}, which applies when {directive} is absent)"
            problems.append(f"allows {', '.join(bad)} in {directive}{via}")
    if not problems:
        return None
    return f"is {ctx.shown}: it " + "; ".join(problems)


_APP_PARAM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["headers"],
    "properties": {
        "headers": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "uniqueItems": True,
                    "description": "Header names (any case) the deployed app must set somewhere: in middleware, code, an applied header dict, a library or middleware options."},
    },
    "description": (
        "On the application model's header coverage (target: app, the `app` entry at the app's construction): every listed header "
        "is set by the deployed app. A missing one is a finding naming it; when something the model cannot read may set headers "
        "(a computed header name, a header middleware from a package, an incomplete model), it cannot be verified."
    ),
}


@operator(_APP_PARAM)
def app_headers(value: object, param: dict[str, list[str]], ctx: Context) -> str | None:
    """Pass when the deployed app sets every listed header."""
    if not isinstance(value, HeaderCoverage):
        raise TypeError(f"app_headers judges the application model's header coverage, not {type(value).__name__}")
    have = {s.header.lower() for s in value.sets}
    missing = [str(h) for h in param["headers"] if str(h).lower() not in have]
    if not missing:
        return None
    names = ", ".join(missing)
    if value.unsure or not value.complete:
        why = value.unsure[0] if value.unsure else "the application model is incomplete (see `velro-policy app`)"
        more = f" (and {len(value.unsure) - 1} more places)" if len(value.unsure) > 1 else ""
        return CannotVerify(f"may not set {names}; cannot verify: {why}{more}")
    unused = ""
    if value.unused:
        shown = ", ".join(value.unused[:3]) + (f" and {len(value.unused) - 3} more" if len(value.unused) > 3 else "")
        unused = f"; {shown} {'sets' if len(value.unused) == 1 else 'set'} headers, but nothing in the deployed app uses {'it' if len(value.unused) == 1 else 'them'}"
    them = "it" if len(missing) == 1 else "them"
    return f"does not set {names}: no middleware, code, header dict or library of the deployed app sets {them}{unused}"
