"""Running a rule's ``Check`` tree on one value (see ``rules``).

Pure: the operators are pure functions of (value, parameter, context).
"""
from __future__ import annotations

from velro_policy.judge.operators import OPERATORS, Context
from velro_policy.rules import All, AnyOf, Check, Not, Op, resolve


def run_check(check: Check, value: object, ctx: Context, environment: str) -> str | None:
    """The first failure reason of a check tree for a present value, or None when it passes."""
    if isinstance(check, Op):
        param = resolve(check.param, environment)
        if param is None:
            return None
        return OPERATORS[check.name](value, param, ctx)
    if isinstance(check, All):
        for sub in check.items:
            reason = run_check(sub, value, ctx, environment)
            if reason:
                return reason
        return None
    if isinstance(check, AnyOf):
        reasons = [run_check(sub, value, ctx, environment) for sub in check.items]
        if reasons and all(reasons):
            return " and ".join(r for r in reasons if r)
        return None
    if isinstance(check, Not):
        if run_check(check.item, value, ctx, environment) is None:
            return f"is {ctx.shown}, which the policy does not allow"
        return None
    raise TypeError(f"not a check: {check!r}")
