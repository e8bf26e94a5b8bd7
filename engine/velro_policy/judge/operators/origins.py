"""Origin-list operators for CORS settings (JSON lists or comma-separated)."""
from __future__ import annotations

from velro_policy.judge.operators._base import Context, operator
from velro_policy.values import origins as o


def _parse(value: object) -> tuple[list[str] | None, str | None]:
    try:
        return o.parse_origins(value), None
    except o.OriginError as exc:
        return None, f"is not a readable origin list: {exc}"


@operator({"const": True, "description": "No '*' origin."})
def no_wildcard(value: object, param: object, ctx: Context) -> str | None:
    """Pass when no origin is a wildcard."""
    items, err = _parse(value)
    if items is None:
        return err
    bad = [i for i in items if o.is_wildcard(i)]
    return f"allows every origin ({', '.join(ctx.quote(b) for b in bad)})" if bad else None


@operator({"const": True, "description": "Every origin uses https://."})
def https_only(value: object, param: object, ctx: Context) -> str | None:
    """Pass when every non-wildcard origin is https."""
    items, err = _parse(value)
    if items is None:
        return err
    bad = [i for i in items if not o.is_wildcard(i) and not i.lower().startswith("https://")]
    return f"has origins that are not https: {', '.join(ctx.quote(b) for b in bad)}" if bad else None


@operator({"const": True, "description": "No localhost, 127.x, 0.0.0.0, ::1 or *.local origin."})
def no_localhost(value: object, param: object, ctx: Context) -> str | None:
    """Pass when no origin points at the local machine."""
    items, err = _parse(value)
    if items is None:
        return err
    bad = [i for i in items if o.is_local(i)]
    return f"has local origins: {', '.join(ctx.quote(b) for b in bad)}" if bad else None


@operator({"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "Every origin's host matches one of these (exact or '*.example.com')."})
def hosts_in(value: object, param: list[str], ctx: Context) -> str | None:
    """Pass when every origin's host is allowed by ``param``."""
    items, err = _parse(value)
    if items is None:
        return err
    bad = [i for i in items if not o.host_allowed(i, param)]
    return f"has origins outside the allowed hosts: {', '.join(ctx.quote(b) for b in bad)}" if bad else None
