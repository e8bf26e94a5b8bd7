"""Table operators: what a dict (a header set, a rate-limit table) must
hold, and values that must not be literals in code."""
from __future__ import annotations

import re
from fnmatch import fnmatchcase

from velro_policy.judge.operators._base import Context, operator
from velro_policy.model import Unknown

_KEYS_PARAM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["keys"],
    "properties": {
        "keys": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
                {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1}, "minProperties": 1},
            ],
            "description": "Keys the dict must have (case-insensitive), or name -> key globs of which one must be present (e.g. auth_login: ['*login*', '*signin*']).",
        },
        "recognise": {
            "type": "integer", "minimum": 0,
            "description": "Judge only dicts that already have at least this many of the keys: that is how a header set or a rate-limit table is recognised by its keys (0: judge every dict).",
        },
        "text_values": {
            "type": "boolean",
            "description": "Only keys whose value is text count towards `recognise` (a header set maps names to strings; {\"X-Frame-Options\": True} is a dict of flags).",
        },
    },
    "description": "A dict has every listed key (groups of globs allowed). Non-dicts pass.",
}


def _groups(keys: object) -> dict[str, list[str]]:
    if isinstance(keys, dict):
        return {str(k): [str(g) for g in v] for k, v in keys.items()}
    return {str(k): [str(k)] for k in keys}  # type: ignore[attr-defined]


@operator(_KEYS_PARAM)
def requires_keys(value: object, param: dict[str, object], ctx: Context) -> str | None:
    """Pass when every key group is present in the dict (or it is not this kind of dict)."""
    if not isinstance(value, dict):
        return None
    present = [str(k).lower() for k in value]
    groups = _groups(param["keys"])
    missing = [name for name, globs in groups.items() if not any(fnmatchcase(k, g.lower()) for k in present for g in globs)]
    counted = [str(k).lower() for k, v in value.items() if isinstance(v, str)] if param.get("text_values") else present
    recognised = sum(1 for globs in groups.values() if any(fnmatchcase(k, g.lower()) for k in counted for g in globs))
    if recognised < int(param.get("recognise", 0)):  # type: ignore[call-overload]
        return None
    if not missing:
        return None
    return f"has no entry for {', '.join(missing)}"


@operator({"const": True, "description": "The value is not written in the code: a literal default (text or number, even a short one) is a finding; an empty default, no default, or a value read from the environment passes."})
def no_literal(value: object, param: object, ctx: Context) -> str | None:
    """Fail when a literal (non-empty) value is written in the code."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float, bytes)):
        return f"has a literal default in the code ({ctx.shown}); anyone with the source has it"
    return None


_RATE_LIKE = re.compile(r"\d\s*(/|per\b|every\b)", re.IGNORECASE)
# Keys that name endpoints rather than tiers: a dict keyed by them (a tier
# {"free": {"api": ..., "auth_login": ...}}) is a table whose entries the
# policy's per-kind selectors judge one by one, not a limit of its own.
_ENDPOINT_KEY = re.compile(r"log_?in|sign_?in|sign_?up|auth|regist|generat|password|forgot|(?:^|_)api(?:$|_)", re.IGNORECASE)


def _rate_leaves(value: object) -> list[object]:
    """The parts of a table entry that are meant as rates: the value itself
    when it parses, else its rate-shaped members (tiers), recursively."""
    from velro_policy.values.rates import RateError, parse_rates

    try:
        parse_rates(value)
        return [value]
    except RateError:
        pass
    except (ValueError, OverflowError, ZeroDivisionError):  # (3, inf), 10**400 requests: meant as a rate, unusable
        return [value]
    if isinstance(value, dict) and not isinstance(value, Unknown):
        return [leaf for member in value.values() for leaf in _rate_leaves(member)]
    if isinstance(value, str) and _RATE_LIKE.search(value):
        return [value]  # meant as a rate but malformed: judged (and reported) as one
    return []


def _is_rate(value: dict[object, object]) -> bool:
    """A dict that is itself one limit ({"requests_per_minute": 150, "generations_per_month": 10})."""
    from velro_policy.values.rates import is_rate_word

    return any(is_rate_word(str(k)) for k in value)


@operator({"type": "string", "pattern": r"^\s*\d+\s*(/|per|\s)\s*\d*\s*[A-Za-z]+\s*$",
           "description": "For entries found in tables by their key names: like rate_at_most, but a value that is not rate-shaped (a quota such as generations_per_month: 10, a flag, a name) is not a rate limit and is not judged; per-tier dicts hold every rate-shaped tier to the limit."})
def table_rate_at_most(value: object, param: str, ctx: Context) -> str | None:
    """Pass when every rate-shaped part of the entry is no looser than ``param``."""
    from velro_policy.judge.operators.rates import rate_at_most
    from velro_policy.values.rates import rates_named

    if isinstance(value, dict) and not isinstance(value, Unknown) and any(_ENDPOINT_KEY.search(str(k)) for k in value) and not _is_rate(value):
        return None
    for leaf in _rate_leaves(rates_named(value, ctx.key)):
        try:
            reason = rate_at_most(leaf, param, ctx)
        except (ValueError, OverflowError, ZeroDivisionError):
            reason = f"is {ctx.shown}, which is not a usable rate"
        if reason:
            return reason
    return None
