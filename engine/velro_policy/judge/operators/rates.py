"""Rate-limit operator: the loosest declared rate must be at most the limit."""
from __future__ import annotations

from velro_policy.judge.operators._base import Context, operator
from velro_policy.values.rates import RateError, loosest, parse_limit_param, rates_named


@operator({"type": "string", "pattern": r"^\s*\d+\s*(/|per|\s)\s*\d*\s*[A-Za-z]+\s*$", "description": "A rate such as '3/hour' or '100 per minute'; the value (string, (count, seconds) tuple, {'requests':..,'window':..} dict) must be at most as permissive. A malformed rate is a finding."})
def rate_at_most(value: object, param: str, ctx: Context) -> str | None:
    """Pass when the rate the value lets through is no looser than ``param``.

    Strings are read with the limits library's grammar (what slowapi
    applies); several limits in one string all apply, so the strictest
    part counts; per-tier alternatives count by the loosest tier.  A bare
    count is a rate when its name carries the unit (``..._PER_HOUR=25``)."""
    limit = parse_limit_param(param)
    try:
        worst = loosest(rates_named(value, ctx.key))
    except RateError:
        # The error text may quote the value; only the masked rendering is shown.
        if isinstance(value, str):
            return (f"is {ctx.shown}, which is not a valid rate: the limits library (slowapi) rejects it and applies no limit"
                    " (write it like '3/hour', '100 per minute' or '3/hour;10/day')")
        return f"is {ctx.shown}, which is not a valid rate (write it like '3/hour' or '100 per minute')"
    if worst.per_second > limit.per_second + 1e-12:
        return f"allows {worst}; must be at most {limit}"
    return None
