"""Secret-quality operators: placeholders, entropy, weak and real-looking secrets."""
from __future__ import annotations

from velro_policy.judge.operators._base import Context, operator
from velro_policy.values import secret_quality as sq


@operator({"const": True, "description": "Not a placeholder such as REPLACE_WITH_..., changeme, your-...-here, <...>, xxx, example."})
def not_placeholder(value: object, param: object, ctx: Context) -> str | None:
    """Pass when the value is not a template placeholder."""
    if isinstance(value, str) and sq.is_placeholder(value):
        return f"is {ctx.shown} that was never replaced" if ctx.shown.startswith("a placeholder") else f"is {ctx.shown}, a placeholder that was never replaced"
    return None


@operator({"type": "number", "minimum": 0, "description": "Shannon entropy of the value's characters, in bits per character, at least this (token_urlsafe gives about 5.5-6; hex about 3.8-4)."})
def min_entropy(value: object, param: float, ctx: Context) -> str | None:
    """Pass when the value looks random enough (bits per character)."""
    if not isinstance(value, str):
        return f"is {ctx.shown}, which is not text"
    bits = sq.entropy_per_char(value)
    return None if bits >= param else f"has {bits:.1f} bits of entropy per character; needs at least {param}"


@operator({"const": True, "description": "Not a repeated pattern, not a handful of distinct characters, not made of dictionary words."})
def not_weak_secret(value: object, param: object, ctx: Context) -> str | None:
    """Pass unless the value is a repeated, low-variety or dictionary string."""
    if not isinstance(value, str):
        return None
    why = sq.weakness(value)
    return None if why is None else f"is weak: {why}"


@operator({"const": True, "description": "Not a real-looking secret (long, random, not a placeholder): for templates and committed files."})
def not_real_secret(value: object, param: object, ctx: Context) -> str | None:
    """Pass unless the value looks like a real credential."""
    if isinstance(value, str) and sq.looks_like_real_secret(value):
        return f"holds what looks like a real secret ({ctx.shown})"
    return None
