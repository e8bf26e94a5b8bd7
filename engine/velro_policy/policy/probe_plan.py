"""The probe plan: which paths ``velro-policy probe`` requests, and how.

The shipped plan is ``policies/velro/http.plan.yaml`` (the guide's
post-deployment checklist); a project names its own with ``probe_plan`` in
velro-policy.yaml or ``--plan FILE``.  Validated against
``schemas/probe-plan.schema.json``; a bad plan stops the run (exit 2) with
``file:line:col``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from velro_policy.errors import PolicyError

BUILTIN = "velro/http.plan.yaml"
DEFAULT_UNTRUSTED_ORIGIN = "https://malicious-site.example"


class Plan(NamedTuple):
    paths: list[str]
    cors_paths: list[str]
    untrusted_origin: str
    auth_paths: list[str]
    auth_method: str
    unknown_path: str | None
    malformed_json: list[str]
    rate_path: str | None
    rate_limit: int
    source: str  # display name of the plan file


def builtin_path() -> Path:
    from velro_policy.resources import builtin_policies_dir

    return builtin_policies_dir() / BUILTIN


def load(path: Path | None) -> Plan:
    """Read and validate a plan (the built-in one when ``path`` is None)."""
    from velro_policy.policy.load import load_validated

    builtin = path is None
    path = path or builtin_path()
    rel = os.path.relpath(path)
    display = "builtin:" + BUILTIN if builtin else (rel if not rel.startswith("..") else str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("probe plan not found; check --plan or probe_plan in the config", path=display) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read the probe plan ({exc.__class__.__name__}); it must be a UTF-8 YAML file", path=display) from None
    _, data = load_validated(text, display, "probe-plan.schema.json", "probe plan")
    return _plan(data, display)


def _plan(data: dict[str, Any], display: str) -> Plan:
    cors, auth, errors, rate = (data.get(k) or {} for k in ("cors", "auth", "errors", "rate_limit"))
    unknown = errors.get("unknown_path", "/velro-policy-probe/does-not-exist")
    return Plan(
        paths=list(data["paths"]),
        cors_paths=list(cors.get("paths", [])),
        untrusted_origin=cors.get("untrusted_origin", DEFAULT_UNTRUSTED_ORIGIN),
        auth_paths=list(auth.get("paths", [])),
        auth_method=auth.get("method", "GET"),
        unknown_path=unknown or None,
        malformed_json=list(errors.get("malformed_json", [])),
        rate_path=rate.get("path"),
        rate_limit=int(rate.get("limit", 3)),
        source=display,
    )
