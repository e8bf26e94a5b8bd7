"""The application model (issue 14): synthetic projects, each asserted exactly."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import REPO, semgrep_once, write
from velro_policy.inputs.app import build
from velro_policy.main import cli
from velro_policy.model import Location, RouteLimit, Unknown


def routes(model) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in model.routes]


def test_single_main(tmp_path: Path) -> None:
    write(tmp_path / "main.py", 'import os\nfrom fastapi import FastAPI\n\nDEBUG = os.getenv("DEBUG", "false") == "true"\n'
                                'app = FastAPI(debug=DEBUG)\n\n\n@app.get("/health")\ndef health():\n    return {}\n')
    write(tmp_path / "scratch.py", "x = 1\n")
    model = build(str(tmp_path), {})
    assert model.entry == "main.py:app"
    assert "the one module creating an app: main.py line 5" in model.entry_reason
    assert model.complete and model.deployed == frozenset({"main.py"})
    assert routes(model) == [("GET", "/health")]
    assert model.routes[0].handler == "health" and model.routes[0].loc == Location("main.py", 8, 2)
    assert [(s.env, s.default, s.role) for s in model.settings] == [("DEBUG", "false", "debug-flag")]
    assert model.is_deployed("main.py") and not model.is_deployed("scratch.py")


def app_package(root: Path) -> None:
    write(root / "app/__init__.py", "")
    write(root / "app/main.py", "from fastapi import FastAPI\nfrom app.api.main import api_router\nfrom app.core.config import settings\n\n"
                                "app = FastAPI()\napp.include_router(api_router, prefix=settings.API_V1_STR)\n"
                                "if settings.DEBUG:\n    from app.api.routes import debug\n    app.include_router(debug.router)\n")
    write(root / "app/api/__init__.py", "")
    write(root / "app/api/main.py", "from fastapi import APIRouter\nfrom app.api.routes import items, login\n\n"
                                    "api_router = APIRouter()\napi_router.include_router(login.router)\napi_router.include_router(items.router)\n")
    write(root / "app/api/routes/__init__.py", "")
    write(root / "app/api/routes/items.py", "from typing import Annotated\nfrom fastapi import APIRouter, Depends\n"
                                            "from app.api.deps import get_current_user\n\n"
                                            "CurrentUser = Annotated[dict, Depends(get_current_user)]\n"
                                            'router = APIRouter(prefix="/items", tags=["items"])\n\n\n'
                                            '@router.get("/")\ndef list_items(user: CurrentUser):\n    return []\n\n\n'
                                            '@router.delete("/{id}")\ndef delete_item(id: int, user: CurrentUser):\n    return None\n')
    write(root / "app/api/routes/login.py", "from fastapi import APIRouter\nfrom fastapi_limiter.depends import RateLimiter\nfrom fastapi import Depends\n\n"
                                            'router = APIRouter(prefix="/login")\n\n\n'
                                            '@router.post("/access-token", dependencies=[Depends(RateLimiter(times=3, hours=1))])\n'
                                            "def login():\n    return {}\n")
    write(root / "app/api/routes/debug.py", 'from fastapi import APIRouter\n\nrouter = APIRouter(prefix="/debug")\n\n\n'
                                            '@router.get("/env")\ndef env():\n    return {}\n')
    write(root / "app/api/routes/unused.py", "from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\n\n"
                                             '@router.get("/boom")\ndef boom():\n    try:\n        do_work()\n    except Exception as e:\n'
                                             "        raise HTTPException(status_code=500, detail=str(e))\n")
    write(root / "app/api/deps.py", "import jwt\nfrom app.core.config import settings\n\n\ndef get_current_user(token: str = ''):\n"
                                    '    return jwt.decode(token, settings.AUTH_SIGNING_KEY, algorithms=["HS256"])\n')
    write(root / "app/core/__init__.py", "")
    write(root / "app/core/config.py", "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass Settings(BaseSettings):\n"
                                       '    model_config = SettingsConfigDict(env_prefix="APP_")\n'
                                       '    API_V1_STR: str = "/api/v1"\n    DEBUG: bool = False\n    AUTH_SIGNING_KEY: str = "changethis"\n\n\n'
                                       "settings = Settings()\n")
    write(root / "Procfile", "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n")


def test_app_package_with_routers_prefixes_gate_and_limits(tmp_path: Path) -> None:
    app_package(tmp_path)
    model = build(str(tmp_path), {})
    assert model.entry == "app.main:app"
    assert model.entry_reason == "Procfile line 1: web: uvicorn app.main:app --host 0.0.0.0 --port $PORT"
    assert model.complete
    assert model.deployed == frozenset({
        "app/__init__.py", "app/main.py", "app/api/__init__.py", "app/api/main.py", "app/api/routes/__init__.py",
        "app/api/routes/items.py", "app/api/routes/login.py", "app/api/routes/debug.py", "app/api/deps.py",
        "app/core/__init__.py", "app/core/config.py"})
    assert routes(model) == [("POST", "/api/v1/login/access-token"), ("GET", "/api/v1/items/"), ("DELETE", "/api/v1/items/{id}"),
                             ("GET", "/debug/env")]
    login, items, _, debug = model.routes
    assert login.limits == (RouteLimit((3, 3600), "route dependency RateLimiter", Location("app/api/routes/login.py", 8, 53)),)
    assert items.dependencies == ("Depends(get_current_user)",) and items.limits == ()
    assert debug.gate == "settings.DEBUG" and items.gate == ""
    assert [(s.env, s.default, s.role) for s in model.settings] == [
        ("APP_API_V1_STR", "/api/v1", ""), ("APP_AUTH_SIGNING_KEY", "changethis", "jwt-signing-key"), ("APP_DEBUG", False, "")]


def test_config_package_shadows_config_module(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "from fastapi import FastAPI\nfrom config import SECRET\n\napp = FastAPI()\n")
    write(tmp_path / "config.py", 'import os\nSECRET = os.getenv("OLD_SECRET", "x")\n')
    write(tmp_path / "config/__init__.py", "from config.base import SECRET\n")
    write(tmp_path / "config/base.py", 'import os\nSECRET = os.getenv("NEW_SECRET")\n')
    model = build(str(tmp_path), {})
    assert model.deployed == frozenset({"main.py", "config/__init__.py", "config/base.py"})
    assert [s.env for s in model.settings] == ["NEW_SECRET"]


def test_config_names_the_entry_point(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    write(tmp_path / "b.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    both = build(str(tmp_path), {})
    assert both.entry == "a.py:app, b.py:app" and "2 modules create one" in both.entry_reason
    assert not both.complete  # which one runs is a guess: nothing counts as undeployed
    model = build(str(tmp_path), {"app": "b:app"})
    assert model.entry == "b:app" and model.entry_reason == "config app: 'b:app'" and model.deployed == frozenset({"b.py"})


def test_procfile_only(tmp_path: Path) -> None:
    write(tmp_path / "Procfile", "release: alembic upgrade head\nweb: gunicorn -k uvicorn.workers.UvicornWorker service.api:application\n")
    write(tmp_path / "service/__init__.py", "")
    write(tmp_path / "service/api.py", "from starlette.applications import Starlette\napplication = Starlette()\n")
    write(tmp_path / "tools/other.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    model = build(str(tmp_path), {})
    assert model.entry == "service.api:application" and model.entry_reason.startswith("Procfile line 2: web: gunicorn")
    assert model.deployed == frozenset({"service/__init__.py", "service/api.py"})


@pytest.mark.parametrize("cmd", ['CMD ["sh", "-c", "alembic upgrade head && uvicorn src.server:app --port $PORT"]',
                                 'CMD ["uvicorn", "src.server:app", "--host", "0.0.0.0"]',
                                 "CMD uvicorn src.server:app --host 0.0.0.0 \\\n    --port 8000"])
def test_dockerfile_only(tmp_path: Path, cmd: str) -> None:
    write(tmp_path / "Dockerfile", f"FROM python:3.11\nWORKDIR /app\nCOPY . .\n{cmd}\n")
    write(tmp_path / "src/server.py", "from fastapi import FastAPI\nfrom src import routes\napp = FastAPI()\n")
    write(tmp_path / "src/routes.py", "")
    write(tmp_path / "old_main.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    model = build(str(tmp_path), {})
    assert model.entry == "src.server:app" and model.entry_reason.startswith("Dockerfile line 4: CMD ")
    assert model.deployed == frozenset({"src/server.py", "src/routes.py"})


@pytest.mark.parametrize("cmd", ["CMD python run.py", 'CMD ["python", "-m", "server"]'])
def test_a_script_that_starts_uvicorn_with_the_app_as_a_string(tmp_path: Path, cmd: str) -> None:
    """`python run.py` where run.py calls `uvicorn.run("app.main:app", reload=...)` (the string form
    reload needs): the app is app.main, which run.py never imports; run.py runs too."""
    write(tmp_path / "Dockerfile", f"FROM python:3.11\nWORKDIR /app\nCOPY . .\n{cmd}\n")
    script = "import os\nimport uvicorn\n\nif __name__ == '__main__':\n    uvicorn.run(\n        'app.main:app', reload=os.getenv('RELOAD') == 'true')\n"
    write(tmp_path / "run.py", script)
    write(tmp_path / "server/__init__.py", "")
    write(tmp_path / "server/__main__.py", script)
    write(tmp_path / "app/__init__.py", "")
    write(tmp_path / "app/main.py", "from fastapi import FastAPI\nfrom app.api import router\napp = FastAPI()\napp.include_router(router)\n")
    write(tmp_path / "app/api.py", "from fastapi import APIRouter\nrouter = APIRouter()\n\n\n@router.post('/login')\ndef login():\n    pass\n")
    write(tmp_path / "app/unused.py", "")
    model = build(str(tmp_path), {})
    runner = "run.py" if "run.py" in cmd else "server/__main__.py"
    assert model.entry == "app.main:app" and model.entry_reason.endswith(f"-> {runner} line 5: uvicorn.run('app.main:app')")
    assert model.deployed == frozenset({runner, "app/__init__.py", "app/main.py", "app/api.py"} | ({"server/__init__.py"} if "server" in runner else set()))
    assert [r.path for r in model.routes] == ["/login"]


def test_slowapi_decorator_order_and_defaults(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "from fastapi import FastAPI\nfrom slowapi import Limiter\nfrom slowapi.middleware import SlowAPIMiddleware\n"
                                "from slowapi.util import get_remote_address\n\nLOGIN_LIMIT = '3/hour'\n"
                                "limiter = Limiter(key_func=get_remote_address, default_limits=['100/minute'])\napp = FastAPI()\n"
                                "app.state.limiter = limiter\napp.add_middleware(SlowAPIMiddleware)\n\n\n"
                                "@app.post('/login')\n@limiter.limit(LOGIN_LIMIT)\ndef login(request):\n    pass\n\n\n"
                                "@limiter.limit('1/second')\n@app.post('/register')\ndef register(request):\n    pass\n\n\n"
                                "@app.get('/health')\n@limiter.exempt\ndef health(request):\n    pass\n\n\n"
                                "@app.get('/dyn')\n@limiter.limit(lambda: '5/minute')\ndef dyn(request):\n    pass\n")
    model = build(str(tmp_path), {})
    by_path = {r.path: r.limits for r in model.routes}
    assert by_path["/login"] == (RouteLimit("3/hour", "decorator @limiter.limit", Location("main.py", 14, 2)),)
    assert by_path["/register"] == (RouteLimit("100/minute", "limiter default_limits", Location("main.py", 7, 11)),)
    assert by_path["/health"] == ()
    assert isinstance(by_path["/dyn"][0].value, Unknown) and "function" in by_path["/dyn"][0].value.why
    assert [n for n in model.notes if "above the route decorator" in n] == [
        "main.py:19: @limiter.limit(...) is above the route decorator of register; slowapi applies a limit only when it is below "
        "the route decorator, so it is not counted"]
    assert [m.name for m in model.middleware] == ["SlowAPIMiddleware"]


def test_dynamic_import_makes_the_model_incomplete(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "import importlib\nfrom fastapi import FastAPI\napp = FastAPI()\n"
                                "for name in ['a']:\n    importlib.import_module('plugins.' + name)\n")
    write(tmp_path / "plugins/a.py", "")
    model = build(str(tmp_path), {})
    assert not model.complete and model.is_deployed("plugins/a.py")
    assert any("computed" in n for n in model.notes)


def test_no_entry_point_counts_everything(tmp_path: Path) -> None:
    write(tmp_path / "lib.py", "x = 1\n")
    model = build(str(tmp_path), {})
    assert not model.complete and model.entry == "" and model.is_deployed("lib.py")


# -- the command line ------------------------------------------------------------
def test_app_command_text_json_and_schema(tmp_path: Path) -> None:
    app_package(tmp_path)
    res = CliRunner().invoke(cli, ["app", str(tmp_path)])
    assert res.exit_code == 0
    assert "Entry point: app.main:app" in res.output
    assert "POST    /api/v1/login/access-token" in res.output and "3 per 3600s [route dependency RateLimiter]" in res.output
    assert "changethis" not in res.output  # a secret default is masked
    res = CliRunner().invoke(cli, ["app", str(tmp_path), "--format", "json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    jsonschema.validate(data, json.loads((REPO / "schemas/app.schema.json").read_text()))
    assert "changethis" not in res.output
    assert [r["path"] for r in data["routes"]][:1] == ["/api/v1/login/access-token"]
    assert data["routes"][1]["auth"] == "Depends(get_current_user)"


def test_app_command_missing_dir(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["app", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "directory not found" in res.output


# -- check: undeployed code, unparseable modules -----------------------------------
def check(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str, targets: tuple[str, ...] = ("code", "settings")) -> tuple[int, str]:
    monkeypatch.chdir(root)
    # These apps set no security header: the app rules' finding (velro/app-headers-missing) is not what is tested here.
    chosen = [a for t in targets for a in ("--target", t)]
    res = CliRunner().invoke(cli, ["check", ".", *chosen, "--skip", "velro/app-headers-missing", *args])
    return res.exit_code, res.output


def clean_app(root: Path) -> None:
    write(root / "main.py", "import os\nfrom fastapi import FastAPI\nfrom routes import items\n\n"
                            'TOKEN = os.getenv("X_ENABLED", "no")\napp = FastAPI()\napp.include_router(items.router)\n')
    write(root / "routes/__init__.py", "")
    write(root / "routes/items.py", 'from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get("/items")\ndef items():\n    return []\n')
    write(root / "Procfile", "web: uvicorn main:app\n")


def test_broken_archive_module_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_app(tmp_path)
    write(tmp_path / "archive/old.py", 'import os\nX = os.getenv("A")\ndef broken(:\n    pass\n')
    code, out = check(tmp_path, monkeypatch)
    assert code == 0, out
    assert "archive/old.py" in out and "cannot be parsed (by Python or Semgrep) and were skipped" in out


def test_broken_deployed_module_is_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_app(tmp_path)
    write(tmp_path / "routes/items.py", 'import os\nX = os.getenv("A")\ndef broken(:\n    pass\n')
    code, out = check(tmp_path, monkeypatch)
    assert code == 1, out
    assert "high velro/unparseable-module" in out and "routes/items.py" in out and "invalid syntax" in out


@pytest.mark.parametrize("declaration", [(".python-version", "3.99\n"), ("pyproject.toml", '[project]\nrequires-python = ">=3.99,<4"\n')])
def test_a_module_in_a_newer_python_than_the_running_one_is_cannot_verify(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declaration: tuple[str, str]) -> None:
    """A project that declares a newer Python (full-stack-fastapi-template: 3.14's `except A, B:`)
    is not told to fix a syntax error its Python accepts: low, "cannot verify", run it with that Python."""
    clean_app(tmp_path)
    write(tmp_path / declaration[0], declaration[1])
    write(tmp_path / "routes/items.py", 'import os\nX = os.getenv("A")\ndef broken(:\n    pass\n')
    code, out = check(tmp_path, monkeypatch, targets=("settings",))  # no Semgrep: the model and the settings reader say it
    assert code == 1, out
    assert "low velro/unparseable-module" in out and "the project declares Python 3.99" in out and declaration[0] in out
    assert "Run velro-policy with Python 3.99" in out


def test_an_older_declared_python_keeps_the_syntax_error_high(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_app(tmp_path)
    write(tmp_path / ".python-version", "3.9.18\n")
    write(tmp_path / "routes/items.py", 'import os\nX = os.getenv("A")\ndef broken(:\n    pass\n')
    code, out = check(tmp_path, monkeypatch, targets=("settings",))
    assert code == 1 and "high velro/unparseable-module" in out, out


def test_unmounted_router_leaking_exceptions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_app(tmp_path)
    write(tmp_path / "routes/unused.py", "from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\n\n"
                                         '@router.get("/boom")\ndef boom():\n    try:\n        do_work()\n    except Exception as e:\n'
                                         "        raise HTTPException(status_code=500, detail=str(e))\n")
    scans = semgrep_once(monkeypatch)  # both runs hand Semgrep the same files: one real scan
    code, out = check(tmp_path, monkeypatch)
    assert code == 0, out
    assert "routes/unused.py" in out and "--include-undeployed shows them" in out
    code, out = check(tmp_path, monkeypatch, "--include-undeployed")
    assert len(scans) == 1, scans
    assert code == 0, out
    assert "routes/unused.py:11" in out and "info velro/" in out


def test_routes_document_for_app_rules(tmp_path: Path) -> None:
    from velro_policy.commands.app import AppStep

    app_package(tmp_path)
    step = AppStep.build(str(tmp_path), {}, lambda p: str(Path(p).relative_to(tmp_path)) if p != str(tmp_path) else ".")
    doc = step.document
    assert (doc.path, doc.target, doc.mentions_ignore) == (".", "app", False)
    assert [e.key for e in doc.entries] == ['routes["POST /api/v1/login/access-token"]', 'routes["GET /api/v1/items/"]',
                                            'routes["DELETE /api/v1/items/{id}"]', 'routes["GET /debug/env"]', 'app']
    first = doc.entries[0]
    assert first.parts == ("routes", "POST /api/v1/login/access-token") and first.value == step.model.routes[0]
    assert first.loc == step.model.routes[0].loc


def test_incomplete_model_drops_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_app(tmp_path)
    write(tmp_path / "main.py", (tmp_path / "main.py").read_text() + "import importlib\nimportlib.import_module(PLUGIN)\n")
    write(tmp_path / "routes/unused.py", "from fastapi import HTTPException\n\n\ndef boom():\n    try:\n        do_work()\n"
                                         "    except Exception as e:\n        raise HTTPException(status_code=500, detail=str(e))\n")
    code, out = check(tmp_path, monkeypatch)
    assert code == 1 and "routes/unused.py:8" in out and "no finding is dropped as undeployed" in out


def test_secret_defaults_never_printed(tmp_path: Path) -> None:
    secret = "sk_live_9fK2mQ7xL4pR8tV1wZ6yB3nC5hJ0dE"
    write(tmp_path / "main.py", f'import os\nfrom fastapi import FastAPI\nSTRIPE = os.getenv("STRIPE_THING", "{secret}")\n'
                                f'JWT = os.getenv("APP_JWT_KEY", "short-one")\napp = FastAPI()\n')
    for fmt in ("text", "json"):
        res = CliRunner().invoke(cli, ["app", str(tmp_path), "--format", fmt])
        assert res.exit_code == 0 and secret not in res.output and "short-one" not in res.output


def test_middleware_in_order_with_gate_and_options(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "import os\nfrom fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n"
                                "from starlette.middleware.gzip import GZipMiddleware\n\n"
                                'ORIGINS = os.getenv("ALLOWED_ORIGINS", "https://a.example").split(",")\napp = FastAPI()\n'
                                "app.add_middleware(CORSMiddleware, allow_origins=ORIGINS, allow_methods=['GET'])\n"
                                'if os.getenv("COMPRESS"):\n    app.add_middleware(GZipMiddleware, minimum_size=500)\n\n\n'
                                '@app.middleware("http")\nasync def add_request_id(request, call_next):\n    return await call_next(request)\n')
    model = build(str(tmp_path), {})
    assert [(m.name, m.loc.line, m.gate, m.options) for m in model.middleware] == [
        ("CORSMiddleware", 8, "", (("allow_origins", ["https://a.example"]), ("allow_methods", ["GET"]))),
        ("GZipMiddleware", 10, "os.getenv('COMPRESS')", (("minimum_size", 500),)),
        ("add_request_id", 13, "", ())]
    assert [(s.env, s.default, s.role) for s in model.settings] == [
        ("ALLOWED_ORIGINS", "https://a.example", "cors-origins"), ("COMPRESS", None, "")]


def test_procfile_worker_processes_are_deployed(tmp_path: Path) -> None:
    write(tmp_path / "Procfile", "web: uvicorn app.main:app\nworker: celery -A app.tasks worker -l info\nclock: python -m jobs\n")
    write(tmp_path / "app/__init__.py", "")
    write(tmp_path / "app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    write(tmp_path / "app/tasks.py", "from app import mail\n")
    write(tmp_path / "app/mail.py", "")
    write(tmp_path / "jobs/__init__.py", "")
    write(tmp_path / "jobs/__main__.py", "")
    write(tmp_path / "scripts/seed.py", "")
    model = build(str(tmp_path), {})
    assert model.entry == "app.main:app" and model.complete
    assert model.deployed == frozenset({"app/__init__.py", "app/main.py", "app/tasks.py", "app/mail.py", "jobs/__init__.py", "jobs/__main__.py"})


def test_jwt_role_follows_the_binding_not_the_name(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "from fastapi import FastAPI\nimport auth, csrf\napp = FastAPI()\n")
    write(tmp_path / "auth.py", "import jwt\nfrom keys import SECRET_KEY\n\n\ndef sign(p):\n    return jwt.encode(p, SECRET_KEY)\n")
    write(tmp_path / "keys.py", 'import os\nSECRET_KEY = os.getenv("AUTH_SIGNING_KEY")\n')
    write(tmp_path / "csrf.py", 'import os\nSECRET_KEY = os.getenv("CSRF_KEY", "dev")\n')
    model = build(str(tmp_path), {})
    assert [(s.env, s.role) for s in model.settings] == [("AUTH_SIGNING_KEY", "jwt-signing-key"), ("CSRF_KEY", "")]
