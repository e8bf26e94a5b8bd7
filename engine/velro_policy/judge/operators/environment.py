"""The environment-name operator: a file's ENVIRONMENT must name the
environment whose rules it is held to."""
from __future__ import annotations

from velro_policy.judge.operators._base import Context, operator
from velro_policy.values.environments import DEFAULT_ALIASES


@operator({"const": True, "description": "The value names the environment the file is judged as (through the environment aliases); a production file claiming 'development' is a finding."})
def names_environment(value: object, param: object, ctx: Context) -> str | None:
    """Pass when the value, read through the aliases, is the decided environment."""
    if ctx.environment == "template" or not isinstance(value, str):
        return None
    aliases: dict[str, str] = ctx.compiled.get("aliases") or DEFAULT_ALIASES  # type: ignore[assignment]
    named = aliases.get(value.strip().lower())
    if named == ctx.environment:
        return None
    return f"is {ctx.shown} but the file is judged as {ctx.environment} (by its name); the app would run with {named or 'an unrecognised'} behaviour"
