"""A generated app of 40 routes (seeded): the route table of `velro-policy app` and the findings of
velro/route-rate-limit must match what the generator knows, exactly.

The generator writes four routers under /api/v1 with mixed limiter styles: slowapi decorators
(below the route decorator, and one above it, which slowapi does not apply), fastapi-limiter
``Depends(RateLimiter(...))`` at the route, the limiter's ``default_limits`` through
``SlowAPIMiddleware``, ``@limiter.exempt`` (no limit at all) and a commented-out decorator.
Login, registration, password-reset and generation routes get the guide's limit, a stricter
one, a looser one or none; GET routes on the same paths and ordinary routes are never findings.
The truth (limits of each route, and which are findings) is computed here from the generator's
own choices and the guide's table, not by the tool.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, NamedTuple

from conftest import cli, write

DEFAULT = "100/minute"
GUIDE = {"login": 3 / 3600, "register": 2 / 3600, "reset": 3 / 3600, "generation": 10 / 3600}
PATHS = {
    "login": [("/auth/login", "login"), ("/auth/sign-in", "sign_in"), ("/session/login", "login_user")],
    "register": [("/auth/register", "register"), ("/users/signup", "signup_user")],
    "reset": [("/auth/forgot-password", "forgot_password"), ("/auth/reset-password", "reset_password")],
    "generation": [("/generations", "create_generation"), ("/images/generate", "generate_image")],
    "plain": [("/projects", "list_projects"), ("/items", "list_items"), ("/stats", "read_stats"), ("/notes", "list_notes")],
}
# (limit as written, the tool's value, requests per second)
STRINGS = {
    "login": [("3/hour", 3 / 3600), ("2 per hour", 2 / 3600), ("5/minute", 5 / 60), ("10/hour", 10 / 3600)],
    "register": [("2/hour", 2 / 3600), ("1/hour", 1 / 3600), ("3/hour", 3 / 3600), ("5/5minutes", 5 / 300)],
    "reset": [("3/hour", 3 / 3600), ("1/day", 1 / 86400), ("10/hour", 10 / 3600)],
    "generation": [("10/hour", 10 / 3600), ("5/hour", 5 / 3600), ("20/hour", 20 / 3600), ("30/minute", 30 / 60)],
    "plain": [("100/minute", 100 / 60), ("300/minute", 300 / 60)],
}
DEPENDENCIES = {  # RateLimiter keyword arguments -> (times, seconds)
    "login": [("times=3, hours=1", (3, 3600)), ("times=5, seconds=60", (5, 60))],
    "register": [("times=2, seconds=3600", (2, 3600)), ("times=4, minutes=60", (4, 3600))],
    "reset": [("times=3, seconds=3600", (3, 3600)), ("times=6, hours=1", (6, 3600))],
    "generation": [("times=10, hours=1", (10, 3600)), ("times=50, hours=1", (50, 3600))],
    "plain": [("times=100, seconds=60", (100, 60))],
}
STYLES = ["decorator", "decorator", "dependency", "default", "exempt", "commented", "above"]


class Truth(NamedTuple):
    method: str
    path: str
    handler: str
    file: str
    line: int  # the route decorator
    limits: tuple[tuple[object, str], ...]  # (value as JSON, source)
    finding: bool


def _rate(value: object) -> float:
    if isinstance(value, list):
        return value[0] / value[1]
    count, _, unit = str(value).replace(" per ", "/").partition("/")
    seconds = {"minute": 60, "hour": 3600, "day": 86400, "5minutes": 300}[unit]
    return int(count) / seconds


def generate(root: Path, seed: int = 16, count: int = 40) -> list[Truth]:
    rng = random.Random(seed)
    files: dict[str, list[str]] = {}
    truth: list[Truth] = []
    routers = ["accounts", "media", "admin", "public"]
    used: set[tuple[str, str]] = set()
    kinds = ["login", "register", "reset", "generation"] * 6 + ["plain"] * 16
    rng.shuffle(kinds)
    for n, kind in enumerate(kinds[:count]):
        router = routers[n % len(routers)]
        lines = files.setdefault(router, [
            "from fastapi import APIRouter, Depends, Request",
            "from fastapi_limiter.depends import RateLimiter",
            "",
            "from limiting import limiter",
            "",
            f'router = APIRouter(prefix="/{router}")',
        ])
        base, name = rng.choice(PATHS[kind])
        path = f"{base}/v{n}" if (router, base) in used else base
        used.add((router, base))
        handler = f"{name}_{n}"
        method = "post" if kind != "plain" and rng.random() > 0.15 else "get"
        style = rng.choice(STYLES)
        lines += ["", ""]
        limits: list[tuple[object, str]] = []
        deps = ""
        if style == "dependency":
            text, value = rng.choice(DEPENDENCIES[kind])
            deps = f", dependencies=[Depends(RateLimiter({text}))]"
            limits.append((list(value), "route dependency RateLimiter"))
        if style == "above":
            text, _ = rng.choice(STRINGS[kind])
            lines.append(f'@limiter.limit("{text}")')  # above the route decorator: slowapi ignores it
        lines.append(f'@router.{method}("{path}"{deps})')
        line = len(lines)
        if style == "decorator":
            text, _ = rng.choice(STRINGS[kind])
            lines.append(f'@limiter.limit("{text}")')
            limits.append((text, "decorator @limiter.limit"))
        elif style == "exempt":
            lines.append("@limiter.exempt")
        elif style == "commented":
            text, _ = rng.choice(STRINGS[kind])
            lines.append(f'# @limiter.limit("{text}")')
        if style not in ("decorator", "exempt"):
            limits.append((DEFAULT, "limiter default_limits"))
        lines += [f"async def {handler}(request: Request) -> dict:", "    return {}"]
        sensitive = kind != "plain" and method == "post"
        finding = sensitive and (not limits or min(_rate(v) for v, _ in limits) > GUIDE[kind] + 1e-12)
        truth.append(Truth(method.upper(), f"/api/v1/{router}{path}", handler, f"routers/{router}.py", line, tuple(limits), finding))
    write(root / "limiting.py", "from slowapi import Limiter\nfrom slowapi.util import get_remote_address\n\n"
                                f'limiter = Limiter(key_func=get_remote_address, default_limits=["{DEFAULT}"])\n')
    write(root / "routers" / "__init__.py", "")
    for router, lines in files.items():
        write(root / "routers" / f"{router}.py", "\n".join(lines) + "\n")
    write(root / "main.py", "\n".join([
        "from fastapi import FastAPI",
        "from slowapi.middleware import SlowAPIMiddleware",
        "",
        "from limiting import limiter",
        f"from routers import {', '.join(routers)}",
        "",
        "app = FastAPI()",
        "app.state.limiter = limiter",
        "app.add_middleware(SlowAPIMiddleware)",
        *(f'app.include_router({r}.router, prefix="/api/v1")' for r in routers),
    ]) + "\n")
    write(root / "Procfile", "web: uvicorn main:app --host 0.0.0.0 --port $PORT\n")
    return truth


def _table(data: dict[str, Any]) -> set[tuple[object, ...]]:
    return {(r["method"], r["path"], r["handler"], r["loc"]["path"], r["loc"]["line"],
             tuple(sorted((json.dumps(lim["value"]), lim["source"]) for lim in r["limits"]))) for r in data["routes"]}


def test_generated_40_routes_match_the_generators_truth(tmp_path: Path) -> None:
    truth = generate(tmp_path)
    assert len(truth) == 40 and len({(t.method, t.path) for t in truth}) == 40
    styles = {t.limits[0][1] if t.limits else "none" for t in truth}
    assert {"decorator @limiter.limit", "route dependency RateLimiter", "limiter default_limits", "none"} <= styles
    assert any(t.finding and not t.limits for t in truth) and any(t.finding and t.limits for t in truth)
    assert any(not t.finding and t.method == "POST" and t.path.split("/")[4] in ("auth", "generations") for t in truth)

    res = cli(["app", ".", "--format", "json"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["entry"] == "main:app" and data["complete"] is True
    want = {(t.method, t.path, t.handler, t.file, t.line, tuple(sorted((json.dumps(v), s) for v, s in t.limits))) for t in truth}
    got = _table(data)
    assert sorted(got - want) == [] and sorted(want - got) == []
    above = sum(1 for n in data["notes"] if "is above the route decorator" in n)
    assert above == sum(1 for f in (tmp_path / "routers").glob("*.py")
                        for a, b in zip(f.read_text().splitlines(), f.read_text().splitlines()[1:])
                        if a.startswith("@limiter.limit") and b.startswith("@router."))

    res = cli(["check", ".", "--only", "velro/route-rate-limit", "-f", "json", "--no-cache"], cwd=tmp_path)
    findings = json.loads(res.stdout)["findings"]
    got_findings = sorted((f["path"], f["line"]) for f in findings)
    want_findings = sorted((t.file, t.line) for t in truth if t.finding)
    assert got_findings == want_findings
    assert all(f["severity"] == "high" for f in findings)
    assert res.returncode == (1 if want_findings else 0)
