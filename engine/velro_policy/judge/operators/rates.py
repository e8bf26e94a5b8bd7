"""Rate-limit operator: the loosest declared rate must be at most the limit."""
from __future__ import annotations

from velro_policy.judge.operators._base import Context, operator
from velro_policy.values.rates import RateError, loosest, parse_one


@operator({"type": "string", "pattern": r"^\s*\d+\s*(/|per|\s)\s*\d*\s*[A-Za-z]+\s*$", "description": "A rate such as '3/hour' or '100 per minute'; the value (string, (count, seconds) tuple, {'requests':..,'window':..} dict) must be at most as permissive. A malformed rate is a finding."})
def rate_at_most(value: object, param: str, ctx: Context) -> str | None:
    """Pass when every rate the value declares is no looser than ``param``."""
    limit = parse_one(param)
    try:
        worst = loosest(value)
    except RateError:
        # The error text may quote the value; only the masked rendering is shown.
        return f"is {ctx.shown}, which is not a valid rate (write it like '3/hour' or '100 per minute')"
    if worst.per_second > limit.per_second + 1e-12:
        return f"allows {worst}; must be at most {limit}"
    return None
