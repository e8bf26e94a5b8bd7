"""A deterministic synthetic monorepo for the benchmark.

``generate(root, kind, count, seed)`` writes ``count`` files of one kind
under ``root`` (a tree of services) and returns their paths, sorted:

- ``env``: env files across services and environments (``.env.production``,
  ``.env.staging``, ``.env.development``, ``.env.example``...), about 70
  lines each, with comments, blank lines, quoted values, ``export``,
  ``${VAR}`` interpolation, the odd multi-line value, CRLF line endings in
  some files and security violations in roughly one file in five;
- ``settings``: pydantic-settings modules (``class Settings(BaseSettings)``)
  plus module-level constants, some with violations;
- ``code``: FastAPI route modules, some with violations (``eval``, a
  wildcard CORS middleware, ``debug=True``, SQL built with f-strings...).

Every file is derived from ``random.Random(f"{seed}:{kind}:{index}")``
only, so the same seed gives the same bytes whatever the count, order or
machine (a smoke test checks this).  Values are synthetic: no real secret.
"""
from __future__ import annotations

import os
import random
import string
import sys
from collections.abc import Callable

KINDS = ("env", "settings", "code")
ENVIRONMENTS = ("production", "staging", "development", "test", "example")
_TOKEN_CHARS = string.ascii_letters + string.digits + "-_"

_FILLER_KEYS = (
    "SERVICE_NAME", "PORT", "WORKERS", "LOG_LEVEL", "LOG_FORMAT", "REQUEST_TIMEOUT_SECONDS", "MAX_UPLOAD_MB",
    "FEATURE_GENERATION_V2", "FEATURE_BILLING", "FEATURE_TEAMS", "CACHE_TTL_SECONDS", "SENTRY_TRACES_SAMPLE_RATE",
    "STORAGE_BUCKET", "STORAGE_REGION", "QUEUE_NAME", "QUEUE_CONCURRENCY", "HTTP_RETRIES", "HTTP_BACKOFF_MS",
    "DEFAULT_LOCALE", "TIMEZONE", "PAGINATION_LIMIT", "IMAGE_MAX_WIDTH", "IMAGE_MAX_HEIGHT", "THUMBNAIL_SIZE",
    "EMAIL_FROM", "EMAIL_PROVIDER", "SMTP_HOST", "SMTP_PORT", "WEBHOOK_TIMEOUT", "METRICS_ENABLED",
    "TRACING_ENABLED", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_ENDPOINT", "DB_POOL_SIZE", "DB_POOL_TIMEOUT",
    "DB_STATEMENT_TIMEOUT_MS", "REDIS_DB", "SESSION_TTL_MINUTES", "TOKEN_TTL_MINUTES", "REFRESH_TTL_DAYS",
    "UPLOAD_PREFIX", "CDN_BASE_URL", "PUBLIC_APP_URL", "API_BASE_PATH", "HEALTHCHECK_PATH", "GZIP_MIN_SIZE",
)


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_TOKEN_CHARS) for _ in range(n))


def _service(index: int) -> str:
    return f"svc-{index // 5:05d}"


# ---------------------------------------------------------------- env files


def env_file(seed: int, index: int, *, bad_share: float = 0.2, flip: float = 0.3) -> tuple[str, bytes]:  # noqa: C901  (one generator of every line kind, read top to bottom)
    """(relative path, bytes) of env file number ``index``; ``bad_share`` of the files
    break rules, each of their security switches flipped with probability ``flip``."""
    rng = random.Random(f"{seed}:env:{index}")
    env = ENVIRONMENTS[index % len(ENVIRONMENTS)]
    service = _service(index)
    name = ".env.example" if env == "example" else rng.choice((f".env.{env}", f".env.{env}", f"{env}.env"))
    bad = rng.random() < bad_share
    real = env if env != "example" else "production"
    lines: list[str] = [
        f"# {service}: {env} settings",
        "# Synthetic file written by bench/corpus.py; no value here is a real secret.",
        "",
        f"ENVIRONMENT={real}",
        f"SERVICE_NAME={service}",
    ]
    prod_like = real in ("production", "staging")

    def flag(key: str, safe: str) -> str:
        value = safe
        if bad and rng.random() < flip:
            value = "true" if safe == "false" else "false"
        style = rng.random()
        if style < 0.1:
            return f'{key}="{value}"'
        if style < 0.15:
            return f"export {key}={value}"
        return f"{key}={value}"

    lines.append("")
    lines.append("# Security switches (guide: Critical Environment Variables)")
    lines.append(flag("DEBUG", "false" if prod_like else "true"))
    lines.append(flag("DEVELOPMENT_MODE", "false" if prod_like else "true"))
    lines.append(flag("EMERGENCY_AUTH_MODE", "false"))
    lines.append(flag("ENABLE_MOCK_AUTHENTICATION", "false"))
    lines.append(flag("ENABLE_DEBUG_ENDPOINTS", "false" if prod_like else "true"))
    lines.append(flag("VERBOSE_ERROR_MESSAGES", "false" if prod_like else "true"))
    lines.append(flag("JWT_BLACKLIST_ENABLED", "true"))
    lines.append("")
    lines.append("# Secrets")
    if env == "example":
        secret = "REPLACE_WITH_PRODUCTION_SECRET" if not bad else _token(rng, 64)
    elif bad and rng.random() < 0.5:
        secret = rng.choice(("changeme", "dev-secret", "supersecretkey", "secret" * 4))
    else:
        secret = _token(rng, 128 if prod_like else 64)
    quote = rng.choice(("", "", "'", '"'))
    lines.append(f"JWT_SECRET_KEY={quote}{secret}{quote}")
    lines.append(f"SUPABASE_URL=https://{_token(rng, 20).lower().replace('-', 'a').replace('_', 'b')}.supabase.co")
    lines.append(f"SUPABASE_ANON_KEY=eyJ{_token(rng, 60)}")
    lines.append(f"SUPABASE_SERVICE_ROLE_KEY={'REPLACE_WITH_SERVICE_ROLE_KEY' if env == 'example' else 'eyJ' + _token(rng, 80)}")
    db_password = "REPLACE_ME" if env == "example" else _token(rng, 24)
    lines.append(f"DB_PASSWORD={db_password}")
    lines.append("DB_HOST=db.internal")
    lines.append(f"DATABASE_URL=postgresql://app:${{DB_PASSWORD}}@${{DB_HOST}}:5432/{service.replace('-', '_')}")
    lines.append(f"REDIS_URL=redis://cache.internal:6379/{index % 16}")
    lines.append("")
    lines.append("# CORS and rate limits")
    if bad and rng.random() < 0.4:
        origins = rng.choice(('["*"]', "http://localhost:3000,https://app.velro.ai", '["http://app.velro.ai"]'))
    elif prod_like:
        origins = '["https://app.velro.ai","https://www.velro.ai"]'
    else:
        origins = "http://localhost:3000,http://127.0.0.1:5173"
    lines.append(f"CORS_ORIGINS='{origins}'" if origins.startswith("[") else f"CORS_ORIGINS={origins}")
    lines.append(f"RATE_LIMIT_LOGIN={'3/hour' if not (bad and rng.random() < 0.4) else '100/minute'}")
    lines.append("RATE_LIMIT_REGISTER=2/hour")
    lines.append("RATE_LIMIT_GENERATION=10/hour")
    lines.append("RATE_LIMIT_API=100/minute")
    lines.append("RATE_LIMIT_PASSWORD_RESET=3/hour")
    lines.append("")
    lines.append("# Application")
    # The files of one service set the same keys (as its template does), in the same order.
    svc_rng = random.Random(f"{seed}:service:{service}")
    fillers = list(_FILLER_KEYS)
    svc_rng.shuffle(fillers)
    for i, key in enumerate(fillers[: 26 + svc_rng.randrange(10)]):
        if i % 9 == 0:
            lines.append(f"# {key.lower().replace('_', ' ')}")
        value = rng.choice((str(rng.randrange(1, 5000)), "true", "false", _token(rng, 12), f"https://{service}.internal/{_token(rng, 6)}"))
        r = rng.random()
        if r < 0.06:
            lines.append(f'{key}="{value} with spaces"')
        elif r < 0.09:
            lines.append(f"export {key}={value}")
        elif r < 0.11:
            lines.append(f"{key}={value}  # trailing comment")
        elif r < 0.12:
            lines.append(f"{key}=${{SERVICE_NAME}}-{value}")
        else:
            lines.append(f"{key}={value}")
        if rng.random() < 0.05:
            lines.append("")
    if svc_rng.random() < 0.05:
        lines.append('TLS_CERT_PEM="-----BEGIN CERTIFICATE-----')
        lines.append(_token(rng, 60))
        lines.append('-----END CERTIFICATE-----"')
    lines.append("")
    newline = "\r\n" if rng.random() < 0.1 else "\n"
    return f"{service}/{name}", newline.join(lines).encode("utf-8")


# ---------------------------------------------------------- settings modules


def settings_module(seed: int, index: int) -> tuple[str, bytes]:
    """A pydantic-settings module as the Velro backend writes them."""
    rng = random.Random(f"{seed}:settings:{index}")
    bad = rng.random() < 0.2
    service = _service(index)
    debug = "True" if bad and rng.random() < 0.5 else "False"
    origins = '["*"]' if bad and rng.random() < 0.5 else '["https://app.velro.ai", "https://www.velro.ai"]'
    fields = []
    for key in rng.sample(_FILLER_KEYS, 12):
        kind = rng.choice(("int", "str", "bool"))
        default = {"int": str(rng.randrange(1, 1000)), "str": repr(_token(rng, 10)), "bool": rng.choice(("True", "False"))}[kind]
        fields.append(f"    {key.lower()}: {kind} = {default}")
    text = f'''"""Settings of {service} (synthetic, written by bench/corpus.py)."""
from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SECURITY_HEADERS = {{
    "X-Frame-Options": "{'DENY' if not bad else 'ALLOWALL'}",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age={31536000 if not bad else 300}; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'",
}}

RATE_LIMITS = {{
    "login": "{'3/hour' if not bad else '60/minute'}",
    "register": "2/hour",
    "generation": "10/hour",
}}


class Settings(BaseSettings):
    """Application settings for {service}."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: str = "production"
    debug: bool = {debug}
    development_mode: bool = False
    emergency_auth_mode: bool = False
    enable_mock_authentication: bool = False
    jwt_secret_key: str = Field(default_factory=lambda: os.environ["JWT_SECRET_KEY"])
    jwt_algorithm: str = "{'HS256' if not bad else 'none'}"
    access_token_expire_minutes: int = {30 if not bad else 100000}
    allowed_origins: list[str] = {origins}
{chr(10).join(fields)}


settings = Settings()
'''
    return f"{service}/app/settings_{index:05d}.py", text.encode("utf-8")


# ------------------------------------------------------------ FastAPI code

_ROUTE_OK = '''
@router.get("/items/{{item_id}}")
async def read_item_{n}(item_id: int, user=Depends(current_user)):
    row = await db.fetch_one("SELECT * FROM items WHERE id = :id AND owner = :owner", {{"id": item_id, "owner": user.id}})
    if row is None:
        raise HTTPException(status_code=404, detail="not found")
    return row
'''

_ROUTE_BAD = (
    '''
@router.post("/eval/{n}")
async def run_expression_{n}(payload: dict):
    return {{"result": eval(payload["expr"])}}
''',
    '''
@router.get("/search/{n}")
async def search_{n}(q: str):
    return await db.fetch_all(f"SELECT * FROM items WHERE name LIKE '%{{q}}%'")
''',
    '''
@router.get("/debug/{n}")
async def debug_{n}(request: Request):
    return {{"headers": dict(request.headers), "env": dict(os.environ)}}
''',
    '''
@router.post("/login/{n}")
async def login_{n}(form: dict):
    token = jwt.encode({{"sub": form["user"]}}, "secret", algorithm="HS256")
    return {{"token": token}}
''',
)


def code_module(seed: int, index: int) -> tuple[str, bytes]:
    """A FastAPI module: an app (with middleware) or a router of endpoints."""
    rng = random.Random(f"{seed}:code:{index}")
    bad = rng.random() < 0.25
    service = _service(index)
    parts = [
        f'"""Routes of {service} (synthetic, written by bench/corpus.py)."""',
        "from __future__ import annotations",
        "",
        "import os",
        "",
        "import jwt",
        "from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request",
        "from fastapi.middleware.cors import CORSMiddleware",
        "",
        "from .db import db",
        "from .auth import current_user",
        "",
    ]
    if index % 10 == 0:
        origins = '["*"]' if bad else '["https://app.velro.ai"]'
        debug = "True" if bad and rng.random() < 0.5 else "False"
        parts += [
            f"app = FastAPI(title={service!r}, debug={debug})",
            f"app.add_middleware(CORSMiddleware, allow_origins={origins}, allow_credentials=True, allow_methods=['GET', 'POST'])",
            "",
        ]
    parts.append("router = APIRouter()")
    for n in range(6 + rng.randrange(6)):
        if bad and rng.random() < 0.3:
            parts.append(rng.choice(_ROUTE_BAD).format(n=n))
        else:
            parts.append(_ROUTE_OK.format(n=n))
    return f"{service}/app/routes_{index:05d}.py", ("\n".join(parts) + "\n").encode("utf-8")


def app_file(seed: int, index: int) -> tuple[str, bytes]:
    """Scenario F: one file of a realistic application tree (600 modules and 20 env files):
    routers and services under app/, settings modules, tests, an archive folder."""
    if index < 20:
        rel, data = env_file(seed, index)
        return f"deploy/{rel}", data
    slot = index % 20
    if slot < 14:
        rel, data = code_module(seed, index)
        return f"app/{rel}", data
    if slot < 16:
        rel, data = settings_module(seed, index)
        return f"app/{rel}", data
    if slot < 18:
        rel, data = code_module(seed, index)
        return f"archive/{rel}", data
    return f"tests/test_{index:05d}.py", (f"def test_{index}():\n    assert {index} == {index}\n").encode()


MAKERS: dict[str, Callable[[int, int], tuple[str, bytes]]] = {
    "env": env_file,
    # B2: most files break several rules (the cost per finding and of holding every finding)
    "app": app_file,
    "env-bad": lambda seed, index: env_file(seed, index, bad_share=0.9, flip=0.7),
    "settings": settings_module,
    "code": code_module,
}


GITIGNORE = "# env files hold secrets: never committed (templates are)\n.env\n.env.*\n*.env\n!.env.example\n"


def _git_commit(root: str) -> None:
    """Make ``root`` a git work tree with everything but the real env files committed,
    as a monorepo is (discovery and the committed-secrets check ask git)."""
    import subprocess

    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
    with open(os.path.join(root, ".gitignore"), "w", encoding="utf-8") as fh:
        fh.write(GITIGNORE + ".complete\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "synthetic corpus"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)


def generate(root: str, kind: str, count: int, seed: int = 0, *, git: bool = False) -> list[str]:
    """Write ``count`` files of ``kind`` under ``root``; their paths, sorted.

    ``git``: make ``root`` a git work tree (env files ignored, the rest
    committed).  A tree that already holds exactly these files (a
    ``.complete`` marker with the same parameters) is reused.
    """
    marker = os.path.join(root, ".complete")
    stamp = f"{kind} {count} {seed} git={git}\n"
    make = MAKERS[kind]
    rels = []
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as fh:
            if fh.read() == stamp:
                return sorted(os.path.join(root, make(seed, i)[0]) for i in range(count))
    if os.path.exists(root) and os.listdir(root):
        if not os.path.exists(marker):  # never delete a directory this module did not write
            raise SystemExit(f"{root} exists and is not a corpus written by bench/corpus.py; choose another directory")
        import shutil

        shutil.rmtree(root)
    for i in range(count):
        rel, data = make(seed, i)
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        rels.append(path)
    if git:
        _git_commit(root)
    with open(marker, "w", encoding="utf-8") as fh:
        fh.write(stamp)
    return sorted(rels)


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Write a synthetic monorepo for the benchmark.")
    ap.add_argument("root")
    ap.add_argument("--kind", choices=KINDS, default="env")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--git", action="store_true", help="make the tree a git work tree (env files ignored)")
    args = ap.parse_args(argv)
    paths = generate(args.root, args.kind, args.count, args.seed, git=args.git)
    print(f"{len(paths)} {args.kind} files under {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
