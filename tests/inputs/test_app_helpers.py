"""The application model through project helpers: routers included by a function the app is
passed to (``setup(app)``, ``add_versioned_routers(app, api_router)``), and rate-limiting middleware
whose rules are not read (a real 600-route backend: 437 of its routes were invisible, and its
sensitive routes were "no rate limit" under a path-regex rate-limiting middleware)."""
from __future__ import annotations

from pathlib import Path

from conftest import cli, files
from velro_policy.inputs.app import build
from velro_policy.model import Unknown

BASE = {
    "Procfile": "web: uvicorn main:app\n",
    "api/__init__.py": "",
    "api/items.py": 'from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get("/")\ndef items():\n    return []\n',
    "api/v1.py": 'from fastapi import APIRouter\n\nrouter = APIRouter(prefix="/v1")\n\n\n@router.post("/login")\ndef login():\n    return {}\n',
    "api/setup.py": ("from api import items\n\n\ndef setup(app):\n    app.include_router(items.router, prefix=\"/items\")\n\n\n"
                     "def add_versioned(app, api_router, *, admin=None):\n    app.include_router(api_router)\n"
                     "    if admin is not None:\n        app.mount(\"/admin\", admin)\n"),
}


def routes_of(root: Path) -> list[tuple[str, str, str]]:
    return [(r.method, r.path, r.gate) for r in build(str(root), {}).routes]


def test_routers_included_by_a_helper_the_app_is_passed_to(tmp_path: Path) -> None:
    files(tmp_path, {**BASE, "main.py": (
        "import os\nfrom fastapi import FastAPI\nfrom api.setup import setup, add_versioned\nfrom api.v1 import router\n\n"
        "app = FastAPI()\nsetup(app)\nif os.getenv('API'):\n    add_versioned(app, api_router=router)\n")})
    assert routes_of(tmp_path) == [("GET", "/items/", ""), ("POST", "/v1/login", "os.getenv('API')")]


def test_a_helper_called_from_an_app_factory(tmp_path: Path) -> None:
    files(tmp_path, {**BASE, "Procfile": "web: uvicorn main:create_app --factory\n", "main.py": (
        "from fastapi import FastAPI\nfrom api import setup as s\nfrom api.v1 import router\n\n\n"
        "def create_app():\n    app = FastAPI()\n    s.setup(app)\n    s.add_versioned(app, router)\n    return app\n")})
    assert sorted(routes_of(tmp_path)) == [("GET", "/items/", ""), ("POST", "/v1/login", "")]


def test_a_helper_nobody_calls_adds_nothing(tmp_path: Path) -> None:
    files(tmp_path, {**BASE, "main.py": "from fastapi import FastAPI\nimport api.setup\n\napp = FastAPI()\n"})
    assert routes_of(tmp_path) == []


LIMITED = {**BASE, "main.py": (
    "from fastapi import FastAPI\nfrom api import v1, rate_limit\n\napp = FastAPI()\napp.include_router(v1.router)\n"
    "app.add_middleware(rate_limit.get_middleware, redis=None)\n"),
    "api/rate_limit.py": ("from ratelimit import RateLimitMiddleware, Rule\n\n\n"
                          "def get_middleware(app, redis):\n    return RateLimitMiddleware(app, None, None, {r'^/v1/login': [Rule(minute=6)]})\n")}


def test_a_rate_limiting_middleware_makes_a_sensitive_route_cannot_verify(tmp_path: Path) -> None:
    """Its rules are not read: the login route is neither "no rate limit" (false) nor passed (unknown)."""
    files(tmp_path, LIMITED)
    (route,) = build(str(tmp_path), {}).routes
    assert [(type(lim.value), lim.source) for lim in route.limits] == [(Unknown, "middleware rate_limit.get_middleware")]
    res = cli(["check", ".", "--target", "app", "--only", "velro/route-rate-limit"], tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'low velro/route-rate-limit: routes["POST /v1/login"] is a login route; cannot verify its rate limit' in res.stdout
    assert "rate_limit.get_middleware may limit it" in res.stdout and "no rate limit" not in res.stdout


def test_without_the_middleware_the_route_has_no_rate_limit(tmp_path: Path) -> None:
    files(tmp_path, {**LIMITED, "main.py": LIMITED["main.py"].replace("app.add_middleware(rate_limit.get_middleware, redis=None)\n", "")})
    res = cli(["check", ".", "--target", "app", "--only", "velro/route-rate-limit"], tmp_path)
    assert 'high velro/route-rate-limit: routes["POST /v1/login"] is a login route with no rate limit' in res.stdout, res.stdout
