"""The probe requests of the guide's post-deployment checklist, from a plan.

Order matters: the rate-limit burst comes last, so the login quota it
spends does not turn the other probes' answers into 429s.  Every value sent
is fixed and fake: ``Bearer invalid-token``, ``Bearer mock_token_...`` and a
login body with an ``.invalid`` address (RFC 2606: never deliverable).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from velro_policy.inputs.probe.client import Client

INVALID_BEARER = "invalid-token"
MOCK_BEARER = "mock_token_velro_policy_probe"
FAKE_LOGIN = {"email": "velro-policy-probe@example.invalid", "password": "velro-policy-probe-not-a-password"}
MALFORMED_JSON = b'{"email": "velro-policy-probe@example.invalid", "password": '
MAX_ALLOWED_ORIGINS = 3

if TYPE_CHECKING:  # the plan is loaded by the policy layer; here it is only read
    from velro_policy.policy.probe_plan import Plan


def run(client: Client, plan: Plan, *, allowed_origins: list[str], rate_limit_check: bool) -> list[dict[str, Any]]:
    """All exchanges of one probe, in the order they were made."""
    out = [client.request("GET", p, probe="page") for p in plan.paths]
    out += _cors(client, plan, allowed_origins[:MAX_ALLOWED_ORIGINS])
    out += _auth(client, plan)
    out += _errors(client, plan)
    if rate_limit_check and plan.rate_path:
        out.append(_rate_limit(client, plan.rate_path, plan.rate_limit))
    return out


def _cors(client: Client, plan: Plan, allowed: list[str]) -> list[dict[str, Any]]:
    out = []
    origin = plan.untrusted_origin
    for i, path in enumerate(plan.cors_paths):
        out.append(client.request("OPTIONS", path, probe="cors-untrusted", note=f"preflight from Origin {origin}", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, content-type"}))
        out[-1]["origin"] = origin
        out.append(client.request("GET", path, probe="cors-untrusted", note=f"Origin {origin}", headers={"Origin": origin}))
        out[-1]["origin"] = origin
        if i == 0:
            for good in allowed:
                out.append(client.request("GET", path, probe="cors-allowed", note=f"Origin {good}", headers={"Origin": good}))
                out[-1]["origin"] = good
    return out


def _auth(client: Client, plan: Plan) -> list[dict[str, Any]]:
    out = []
    for path in plan.auth_paths:
        m = plan.auth_method
        out.append(client.request(m, path, probe="auth-none", note="no Authorization header"))
        out.append(client.request(m, path, probe="auth-invalid", note=f"Authorization: Bearer {INVALID_BEARER}",
                                  headers={"Authorization": f"Bearer {INVALID_BEARER}"}))
        out.append(client.request(m, path, probe="auth-mock", note=f"Authorization: Bearer {MOCK_BEARER}",
                                  headers={"Authorization": f"Bearer {MOCK_BEARER}"}))
    return out


def _errors(client: Client, plan: Plan) -> list[dict[str, Any]]:
    out = []
    if plan.unknown_path:
        out.append(client.request("GET", plan.unknown_path, probe="error-unknown-path", note="a route that does not exist",
                                  keep_body=True))
    for path in plan.malformed_json:
        out.append(client.request("POST", path, probe="error-malformed-json", note="malformed JSON body",
                                  headers={"Content-Type": "application/json"}, content=MALFORMED_JSON, keep_body=True))
    return out


def _rate_limit(client: Client, path: str, limit: int) -> dict[str, Any]:
    """Up to limit+2 fake logins; stops at the first 429.  One summarising record."""
    body = json.dumps(FAKE_LOGIN).encode()
    statuses: list[int] = []
    last: dict[str, Any] = {}
    for n in range(1, limit + 3):
        last = client.request("POST", path, probe="rate-limit", note=f"fake login {n} of at most {limit + 2}",
                              headers={"Content-Type": "application/json"}, content=body)
        statuses.append(int(last["status"]))
        if last["status"] == 429:
            break
    last["statuses"] = statuses
    last["request"] = f"{len(statuses)} fake logins, limit {limit}"
    return last
