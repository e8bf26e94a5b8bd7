"""The guide's six headers wherever they are set: settings modules, env files, code and the
application model are judged with one set of checks, so a value cannot pass in one place and
fail in another."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from conftest import REPO, cli

POLICIES = REPO / "policies" / "velro"


def _rules(name: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in YAML(typ="safe").load((POLICIES / name).read_text(encoding="utf-8"))["rules"]}


def test_env_header_checks_are_the_settings_header_checks() -> None:
    settings, env = _rules("settings-headers.yaml"), _rules("headers-env.yaml")
    twins = [rid for rid in env if rid.startswith("velro/env-header-")]
    assert len(twins) == 8
    for rid in twins:
        twin = settings[rid.replace("velro/env-header-", "velro/header-")]
        assert env[rid]["check"] == twin["check"], rid
        assert env[rid]["severity"] == twin["severity"], rid
        names = {s for s in twin["select"] if not s.startswith("*[") and "[" not in s}
        assert names <= set(env[rid]["select"]), rid  # every env-style name of the settings rule is an env rule's too


def test_code_header_checks_are_the_settings_header_checks() -> None:
    settings, code = _rules("settings-headers.yaml"), _rules("code-headers.yaml")
    assert len(code) == 6
    for rid, rule in code.items():
        assert rule["check"] == settings[rid.replace("velro/code-header-", "velro/header-")]["check"], rid


# -- the application model's header coverage ----------------------------------------------------
def _coverage(tmp_path: Path, files: dict[str, str]) -> Any:
    from velro_policy.inputs.app import build

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return build(str(tmp_path)).headers


def test_coverage_reads_code_dicts_and_raw_asgi_pairs(tmp_path: Path) -> None:
    cover = _coverage(tmp_path, {"main.py": """
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse

        HEADERS = {"X-XSS-Protection": "1; mode=block", "Referrer-Policy": "no-referrer"}
        app = FastAPI()

        @app.middleware("http")
        async def mw(request: Request, call_next):
            response = await call_next(request)
            response.headers["Cache-Control"] = "no-store"
            for name, value in HEADERS.items():
                response.headers[name] = value
            return response

        class Raw:
            def __init__(self, app):
                self.app = app
            async def __call__(self, scope, receive, send):
                async def wrapped(message):
                    message["headers"].append((b"x-frame-options", b"DENY"))
                    await send(message)
                await self.app(scope, receive, wrapped)

        app.add_middleware(Raw)

        @app.get("/x")
        def x():
            return JSONResponse({}, headers={"X-Content-Type-Options": "nosniff"})
        """})
    assert cover.app.line == 6
    assert {s.header for s in cover.sets} == {"X-XSS-Protection", "Referrer-Policy", "X-Frame-Options", "X-Content-Type-Options"}
    assert cover.unsure == () and cover.unused == ()


def test_coverage_unused_code_and_computed_names_without_a_dict(tmp_path: Path) -> None:
    cover = _coverage(tmp_path, {"main.py": """
        from fastapi import FastAPI
        from starlette.middleware.base import BaseHTTPMiddleware

        from settings import settings

        app = FastAPI()

        class SecurityHeaders(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                response = await call_next(request)
                response.headers["X-Frame-Options"] = "DENY"
                return response

        def add_headers(response):
            for name, value in settings.extra_headers.items():
                response.headers[name] = value

        @app.middleware("http")
        async def mw(request, call_next):
            response = await call_next(request)
            add_headers(response)
            return response
        """, "settings.py": "settings = object()\n"})
    assert cover.sets == ()
    assert cover.unused == ("SecurityHeaders (main.py:9)",)
    assert [u.split(": ", 1)[0] for u in cover.unsure] == ["main.py:17"]


def test_coverage_secure_versions_and_package_middleware(tmp_path: Path) -> None:
    unknown = _coverage(tmp_path / "a", {"main.py": """
        from fastapi import FastAPI
        from secure import ContentSecurityPolicy, Secure

        secure_headers = Secure(csp=ContentSecurityPolicy().default_src("'self'"))
        app = FastAPI(middleware=[secure_headers])
        """})
    assert [s.header for s in unknown.sets] == ["Content-Security-Policy"]
    assert "installed version is not known" in unknown.unsure[0]
    package = _coverage(tmp_path / "b", {"main.py": """
        from fastapi import FastAPI
        from starlette_securityheaders import SecurityHeadersMiddleware

        app = FastAPI()
        app.add_middleware(SecurityHeadersMiddleware, frame_options="DENY")
        """})
    assert [(s.header, s.value, s.judged) for s in package.sets] == [("X-Frame-Options", "DENY", True)]
    assert "comes from a package" in package.unsure[0]


def test_missing_headers_are_one_finding_at_the_app_and_unsure_is_low(tmp_path: Path) -> None:
    (tmp_path / "sure").mkdir()
    (tmp_path / "sure" / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n", encoding="utf-8")
    (tmp_path / "unsure").mkdir()
    (tmp_path / "unsure" / "main.py").write_text(
        "from fastapi import FastAPI\nfrom helmet import Helmet\n\napp = FastAPI()\napp.add_middleware(Helmet)\n", encoding="utf-8")
    for name, line, severity, words in (("sure", 3, "high", "does not set"), ("unsure", 4, "low", "cannot verify")):
        res = cli(["check", ".", "--only", "velro/app-headers-missing", "-f", "json"], cwd=tmp_path / name)
        found = json.loads(res.stdout)["findings"]
        assert [(f["line"], f["severity"]) for f in found] == [(line, severity)], res.stdout
        assert words in found[0]["message"] and "X-XSS-Protection" in found[0]["message"]
