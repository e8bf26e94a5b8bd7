"""Comparison operators: equality, membership, presence, length, numbers, regex."""
from __future__ import annotations

from velro_policy.judge.operators._base import Context, as_bool, as_int, operator
from velro_policy.values.regexes import search

_SCALAR = {"type": ["string", "number", "boolean", "null"]}


def _same(value: object, expected: object) -> bool:
    if isinstance(expected, bool):
        return as_bool(value) is expected
    if isinstance(expected, (int, float)) and not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return value == expected
        try:
            return float(str(value).strip()) == expected
        except ValueError:
            return False
    if expected is None:
        return value is None
    return value == expected


@operator({**_SCALAR, "description": "The value equals this (booleans and numbers compare by meaning: DEBUG=0 equals false)."})
def equals(value: object, param: object, ctx: Context) -> str | None:
    """Pass when the value equals ``param``."""
    return None if _same(value, param) else f"is {ctx.shown}; must be {param!r}"


@operator({"type": "array", "items": _SCALAR, "minItems": 1, "description": "The value is one of these."})
def one_of(value: object, param: list[object], ctx: Context) -> str | None:
    """Pass when the value is one of ``param``."""
    if any(_same(value, p) for p in param):
        return None
    return f"is {ctx.shown}; must be one of {', '.join(repr(p) for p in param)}"


@operator({"type": "array", "items": _SCALAR, "minItems": 1, "description": "The value is none of these."})
def not_one_of(value: object, param: list[object], ctx: Context) -> str | None:
    """Pass when the value is none of ``param``."""
    if any(_same(value, p) for p in param):
        return f"is {ctx.shown}, which is not allowed"
    return None


@operator({"enum": [True, False, "any"], "description": "The value is a boolean (true/false/1/0/yes/no/on/off/t/f/y/n, any case) equal to this; 'any' only checks that it is a boolean. Any other text is itself a finding."})
def boolean(value: object, param: object, ctx: Context) -> str | None:
    """Pass when the value reads as a boolean (pydantic's words) equal to ``param``."""
    parsed = as_bool(value)
    if parsed is None:
        return f"is {ctx.shown}, which is not a boolean (use true or false)"
    if param == "any" or parsed is param:
        return None
    return f"is {ctx.shown}; must be {str(param).lower()}"


@operator({"const": True, "description": "The key must be set (evaluated on the document: a missing key is the finding)."})
def required(value: object, param: object, ctx: Context) -> str | None:
    """Presence is judged by the evaluator; a present value passes."""
    return None


@operator({"const": True, "description": "The key must not be set at all."})
def forbidden(value: object, param: object, ctx: Context) -> str | None:
    """Fail whenever the key is present."""
    return "is set; it must not be present"


def _length(value: object) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple, dict)) else None


@operator({"type": "integer", "minimum": 0, "description": "At least this many characters (or items)."})
def min_length(value: object, param: int, ctx: Context) -> str | None:
    """Pass when the value has at least ``param`` characters."""
    n = _length(value)
    if n is None:
        return f"is {ctx.shown}, which has no length"
    return None if n >= param else f"is {n} characters long; needs at least {param}"


@operator({"type": "integer", "minimum": 0, "description": "At most this many characters (or items)."})
def max_length(value: object, param: int, ctx: Context) -> str | None:
    """Pass when the value has at most ``param`` characters."""
    n = _length(value)
    if n is None:
        return f"is {ctx.shown}, which has no length"
    return None if n <= param else f"is {n} characters long; must be at most {param}"


@operator({"type": "integer", "description": "An integer at least this."})
def int_min(value: object, param: int, ctx: Context) -> str | None:
    """Pass when the value is an integer >= ``param``; a non-integer is a finding."""
    n = as_int(value)
    if n is None:
        return f"is {ctx.shown}, which is not an integer"
    return None if n >= param else f"is {n}; must be at least {param}"


@operator({"type": "integer", "description": "An integer at most this."})
def int_max(value: object, param: int, ctx: Context) -> str | None:
    """Pass when the value is an integer <= ``param``; a non-integer is a finding."""
    n = as_int(value)
    if n is None:
        return f"is {ctx.shown}, which is not an integer"
    return None if n <= param else f"is {n}; must be at most {param}"


_REGEX = {"type": "string", "minLength": 1, "description": "A regular expression (searched, not anchored; matched in linear time with a timeout)."}


@operator(_REGEX)
def matches(value: object, param: str, ctx: Context) -> str | None:
    """Pass when the regex ``param`` is found in the value."""
    if not isinstance(value, str):
        return f"is {ctx.shown}, which is not text"
    return None if search(param, value, ctx.compiled) else f"is {ctx.shown}; must match /{param}/"


@operator(_REGEX)
def not_matches(value: object, param: str, ctx: Context) -> str | None:
    """Pass when the regex ``param`` is not found in the value."""
    if not isinstance(value, str):
        return None
    return f"is {ctx.shown}; must not match /{param}/" if search(param, value, ctx.compiled) else None
