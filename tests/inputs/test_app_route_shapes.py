"""Route shapes seen on real backends (bench/realworld.md, "Route-by-route recall"): routers made by
factory functions, and limiters a handler calls in its own body.  Made-up projects, asserted exactly."""
from __future__ import annotations

from pathlib import Path

from conftest import write
from velro_policy.inputs.app import build
from velro_policy.model import Location, RouteLimit, Unknown


def test_routers_made_by_factory_functions(tmp_path: Path) -> None:
    write(tmp_path / "main.py",
          "from fastapi import FastAPI\n\nimport shop\nfrom accounts import account_routes as make_accounts\n\n"
          "app = FastAPI()\ntry:\n    accounts = make_accounts(db=None)\n    app.include_router(accounts, prefix='/v2')\n"
          "except ImportError:\n    pass\npublic, staff = shop.routers()\napp.include_router(staff)\n"
          "app.include_router(shop.image_router())\napp.include_router(unknown_factory())\n")
    write(tmp_path / "accounts.py",
          "from fastapi import APIRouter\n\n\ndef account_routes(db):\n    routes = APIRouter(prefix='/account')\n\n"
          "    @routes.post('/sign-in')\n    async def sign_in():\n        return {'db': db}\n\n"
          "    def helper():\n        return None\n\n    return routes\n")
    write(tmp_path / "shop.py",
          "from fastapi import APIRouter\n\n\ndef routers():\n    front = APIRouter(prefix='/front')\n"
          "    back = APIRouter(prefix='/staff')\n\n    @back.post('/register')\n    async def register():\n        return {}\n\n"
          "    @front.get('/items')\n    async def items():\n        return []\n\n    return front, back\n\n\n"
          "def image_router():\n    images = APIRouter(prefix='/images')\n\n    @images.post('/generate')\n"
          "    async def generate():\n        return {}\n\n    return images\n")
    model = build(str(tmp_path), {})
    assert [(r.method, r.path, r.handler, r.loc) for r in model.routes] == [
        ("POST", "/v2/account/sign-in", "sign_in", Location("accounts.py", 7, 6)),
        ("POST", "/staff/register", "register", Location("shop.py", 8, 6)),
        ("POST", "/images/generate", "generate", Location("shop.py", 22, 6)),
    ]
    assert [n for n in model.notes if "include_router" in n] == [
        "main.py:15: include_router(unknown_factory()) names a router that cannot be followed statically; its routes are not listed"]


def test_routers_of_controller_classes(tmp_path: Path) -> None:
    """A controller class keeps its router on self and declares its routes in a method (a real
    backend's shape): `c = AuthController()` then `include_router(c.router)`, or `Other().router`;
    two controllers of one module keep their own routers; a controller nobody includes adds nothing."""
    write(tmp_path / "main.py",
          "from fastapi import FastAPI\n\nfrom controllers import AuthController, MediaController\n\n"
          "app = FastAPI()\nauth = AuthController()\napp.include_router(auth.router)\n"
          "app.include_router(MediaController().router, prefix='/v1')\n")
    write(tmp_path / "controllers.py",
          "from fastapi import APIRouter\n\n\nclass AuthController:\n    def __init__(self):\n"
          "        self.router = APIRouter(prefix='/auth')\n        self._routes()\n\n"
          "    def _routes(self):\n        @self.router.post('/signup')\n        async def signup():\n            return {}\n\n"
          "        @self.router.post('/login')\n        async def login():\n            return {}\n\n\n"
          "class MediaController:\n    def __init__(self):\n        self.router = APIRouter(prefix='/media')\n"
          "        self.router.add_api_route('/upload', self.upload, methods=['POST'])\n\n"
          "    async def upload(self):\n        return {}\n\n\n"
          "class UnusedController:\n    def __init__(self):\n        self.router = APIRouter(prefix='/unused')\n\n"
          "        @self.router.post('/register')\n        async def register():\n            return {}\n")
    model = build(str(tmp_path), {})
    assert [(r.method, r.path, r.handler, r.loc.line) for r in model.routes] == [
        ("POST", "/auth/signup", "signup", 10),
        ("POST", "/auth/login", "login", 14),
        ("POST", "/v1/media/upload", "self.upload", 22),
    ]
    assert not [n for n in model.notes if "include_router" in n]


def test_limiter_called_in_the_handler_body(tmp_path: Path) -> None:
    write(tmp_path / "table.py", "BUDGET = {'login': (5, 60), 'reset': [3, 3600]}\n")
    write(tmp_path / "main.py",
          "from fastapi import FastAPI, Request\n\nfrom table import BUDGET\nfrom guard import check_rate_limit, reset_rate_limit\n\n"
          "app = FastAPI()\n\n\n"
          "def rate_limit(key, max_requests, window_seconds):\n    return True\n\n\n"
          "@app.post('/login')\nasync def login(request: Request):\n    n, window = BUDGET['login']\n"
          "    if not rate_limit(f'login:{request.client}', n, window):\n        return {}\n    return {}\n\n\n"
          "@app.post('/forgot-password')\nasync def forgot(request: Request):\n    rate_limit('x', *BUDGET['reset'])\n    return {}\n\n\n"
          "@app.post('/register')\nasync def register(request: Request):\n    await check_rate_limit(request, 'register')\n"
          "    reset_rate_limit(request)\n    return {}\n\n\n"
          "@app.post('/generate')\nasync def generate(request: Request):\n    check_rate_limit(request.client, limit=10, window_minutes=60)\n"
          "    def inner():\n        rate_limit('inner', 1, 1)\n    return {}\n")
    model = build(str(tmp_path), {})
    by_path = {r.path: r.limits for r in model.routes}
    assert by_path["/login"] == (RouteLimit((5, 60), "handler call rate_limit()", Location("main.py", 16, 12)),)
    (forgot,) = by_path["/forgot-password"]  # a starred argument: the count and window are not told apart
    assert isinstance(forgot.value, Unknown) and "cannot be folded" in forgot.value.why
    (register,) = by_path["/register"]  # a key only; reset_rate_limit is not a limiter
    assert isinstance(register.value, Unknown) and register.source == "handler call check_rate_limit()"
    # named arguments; the limiter of a function the handler defines is not the handler's
    assert by_path["/generate"] == (RouteLimit((10, 3600), "handler call check_rate_limit()", Location("main.py", 36, 5)),)


def test_limiter_called_in_a_helper_the_handler_calls(tmp_path: Path) -> None:
    write(tmp_path / "guard.py",
          "def check_rate_limit(key, limit, window_minutes):\n    return True\n\n\n"
          "def enforce_rate_limit(request):\n    return check_rate_limit(request, 1, 1)\n")
    write(tmp_path / "replies.py",
          "from guard import check_rate_limit\n\n\n"
          "async def answer(user, text):\n    if not check_rate_limit(user, limit=10, window_minutes=60):\n        return ''\n    return text\n\n\n"
          "class Bot:\n    def __init__(self, limiter):\n        self.limiter = limiter\n\n"
          "    async def reply(self, user, text):\n        return await self._guarded(user, text)\n\n"
          "    async def _guarded(self, user, text):\n        if not self.limiter.rate_limit_ok(user):\n            return ''\n        return text\n\n"
          "    async def _deeper(self, user):\n        return self._deepest(user)\n\n"
          "    def _deepest(self, user):\n        return later(user)\n\n\n"
          "def later(user):\n    check_rate_limit(user, 1, 1)\n\n\n"
          "def with_inner(user):\n    def inner():\n        check_rate_limit(user, 1, 1)\n    return inner\n")
    write(tmp_path / "main.py",
          "from fastapi import BackgroundTasks, FastAPI\n\nfrom guard import enforce_rate_limit\n"
          "from replies import Bot, answer, later, with_inner\n\napp = FastAPI()\n\n\n"
          "@app.post('/assistant/ask')\nasync def ask(user: str, text: str):\n    return await answer(user, text)\n\n\n"
          "@app.post('/assistant/bot')\nasync def bot(user: str, text: str):\n    return await Bot(None).reply(user, text)\n\n\n"
          "@app.post('/assistant/deep')\nasync def deep(user: str):\n    return await Bot(None)._deeper(user)\n\n\n"
          "@app.post('/auth/login')\nasync def login(request: dict):\n    enforce_rate_limit(request)\n    return {}\n\n\n"
          "@app.post('/assistant/later')\nasync def queue(user: str, tasks: BackgroundTasks):\n    tasks.add_task(later, user)\n"
          "    return with_inner(user)\n\n\n"
          "@app.post('/assistant/stored')\nasync def stored(user: str, store):\n    return store.answer_later(user)\n")
    model = build(str(tmp_path), {})
    by_path = {r.path: r.limits for r in model.routes}
    # one call down, the count and the window from the arguments named for them
    assert by_path["/assistant/ask"] == (
        RouteLimit((10, 3600), "call check_rate_limit() in helper answer()", Location("replies.py", 5, 12)),)
    # two calls down through self; a limiter object's method: its numbers cannot be folded ("cannot verify")
    (bot,) = by_path["/assistant/bot"]
    assert bot.source == "call self.limiter.rate_limit_ok() in helper Bot.reply() -> Bot._guarded()"
    assert isinstance(bot.value, Unknown) and "cannot be folded" in bot.value.why and bot.loc == Location("replies.py", 18, 16)
    assert by_path["/assistant/deep"] == ()  # three calls down: beyond the two levels
    # the limiter the handler calls is counted once, not again for what it calls inside
    (login,) = by_path["/auth/login"]
    assert login.source == "handler call enforce_rate_limit()" and isinstance(login.value, Unknown)
    # a background task's limiter, one inside a nested function, a method found only by its name: none
    assert by_path["/assistant/later"] == ()
    assert by_path["/assistant/stored"] == ()


def test_prefixes_built_from_settings_attributes(tmp_path: Path) -> None:
    """A settings field's literal default stands in for the attribute in an f-string or a `+`
    concatenation of a prefix or a path (`f"{settings.API_V1_STR}/auth"`, a real backend's shape),
    also a default that is an f-string of the fields above it (`f"/api/{API_VERSION}"`), and an
    imported module constant likewise; what cannot be folded stays its source text."""
    write(tmp_path / "main.py",
          "from fastapi import FastAPI\n\nfrom config import settings, VERSION\nfrom routes import auth, items, misc\n\n"
          "app = FastAPI()\napp.include_router(auth.router, prefix=f'{settings.API_V1_STR}/auth')\n"
          "app.include_router(items.router, prefix=settings.API_V1_STR + '/items')\n"
          "app.include_router(misc.router, prefix=f'/{VERSION}{settings.MISC}')\n")
    write(tmp_path / "config.py",
          "from pydantic_settings import BaseSettings\n\nVERSION = 'v2'\n\n\nclass Settings(BaseSettings):\n"
          "    API_VERSION: str = 'v1'\n    API_V1_STR: str = f'/api/{API_VERSION}'\n    MISC: str = '/misc'\n\n\n"
          "settings = Settings()\n")
    write(tmp_path / "routes/__init__.py", "")
    write(tmp_path / "routes/auth.py",
          "from fastapi import APIRouter\n\nfrom config import settings\n\nrouter = APIRouter()\n\n\n"
          "@router.post(f'{settings.API_V1_STR}/login')\nasync def login():\n    return {}\n\n\n"
          "@router.post(f'{settings.NOT_A_FIELD}/register')\nasync def register():\n    return {}\n\n\n"
          "@router.post(f'{settings.API_V1_STR!r}/odd')\nasync def odd():\n    return {}\n")
    write(tmp_path / "routes/items.py",
          "from fastapi import APIRouter\n\nrouter = APIRouter(prefix='/x')\n\n\n@router.get('/{item_id}')\n"
          "async def item(item_id: int):\n    return {}\n")
    write(tmp_path / "routes/misc.py",
          "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/ping')\nasync def ping():\n    return {}\n")
    model = build(str(tmp_path), {})
    assert [(r.method, r.path) for r in model.routes] == [
        ("POST", "/api/v1/auth/api/v1/login"),
        ("POST", "/api/v1/auth{f'{settings.NOT_A_FIELD}/register'}"),
        ("POST", "/api/v1/auth{f'{settings.API_V1_STR!r}/odd'}"),
        ("GET", "/api/v1/items/x/{item_id}"),
        ("GET", "/v2/misc/ping"),
    ]


def test_a_login_limiter_is_no_logging_call(tmp_path: Path) -> None:
    """`check_login_rate_limit(ip, email)` in the service a handler calls through its module
    (`from app.services import auth` then `auth.login_user(...)`) is a limiter: "log" inside
    "login" is no logging call (a real backend's shape; its numbers are settings read inside it,
    so the limit is Unknown, never "none").  `log_rate_limit_hit()` and `logger` calls still are not."""
    write(tmp_path / "app/__init__.py", "")
    write(tmp_path / "app/services/__init__.py", "")
    write(tmp_path / "app/main.py", "from fastapi import FastAPI\n\nfrom app.services import auth\n\napp = FastAPI()\n\n\n"
                                    "@app.post('/login')\nasync def login(ip: str, email: str):\n"
                                    "    return await auth.login_user(ip=ip, email=email)\n\n\n"
                                    "@app.post('/register')\nasync def register(ip: str):\n    auth.log_rate_limit_hit(ip)\n"
                                    "    rate_limit_logger.info(ip)\n    return {}\n")
    write(tmp_path / "app/services/auth.py", "def check_login_rate_limit(ip, email):\n    pass\n\n\n"
                                             "def log_rate_limit_hit(ip):\n    pass\n\n\n"
                                             "async def login_user(ip, email):\n    check_login_rate_limit(ip, email)\n    return {}\n")
    model = build(str(tmp_path), {})
    limits = {r.path: r.limits for r in model.routes}
    assert limits["/register"] == ()
    (only,) = limits["/login"]
    assert isinstance(only.value, Unknown) and only.source == "call check_login_rate_limit() in helper login_user()"
    assert only.loc == Location("app/services/auth.py", 10, 5)
