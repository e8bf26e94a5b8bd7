"""Hostile inputs, family "secret leakage" (issue 18, item 3): a planted secret never
reaches any output (stdout, stderr, every format's file, ``fix --dry-run``).

Each test runs the real command line in a process with a 10 s bound and asserts the
exit code and that no 8-character piece of a planted secret appears anywhere.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _harness import assert_no_leak, pieces, write

FORMATS = ("text", "json", "sarif", "junit", "github")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI, as ``tests/conftest.py``'s ``velro()``, bounded to 10 s."""
    return subprocess.run([sys.executable, "-m", "velro_policy", *args], cwd=str(cwd), env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=10)




def lint_every_format(tmp_path: Path, target: str, secrets: list[str], *extra: str) -> list[subprocess.CompletedProcess[str]]:
    """``lint`` with every format to a file and text on stdout; asserts no leak anywhere."""
    out_dir = tmp_path.parent / (tmp_path.name + "-out")
    out_dir.mkdir(exist_ok=True)
    args = ["lint", *extra, target, *[a for f in FORMATS[1:] for a in ("-f", f"{f}={out_dir / f}")], "-f", "text"]
    res = run(args, tmp_path)
    files = [(out_dir / f).read_text(encoding="utf-8") for f in FORMATS[1:]]
    assert all(files), "every format wrote its file"
    assert_no_leak(secrets, res.stdout, res.stderr, *files)
    gh = run(["lint", *extra, target, "-f", "github"], tmp_path)
    assert_no_leak(secrets, gh.stdout, gh.stderr)
    return [res, gh]


URL_PASSWORD = "S3cretPassw0rdXyz"
DB_PASSWORD = "S3cretDbPassw0rdQq"
BROKER_PASSWORD = "Br0kerPa55wordVv"


def test_url_userinfo_is_masked_in_every_format_and_in_fix(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", (
        "ENVIRONMENT=production\nDEBUG=false\n"
        f"CORS_ORIGINS=http://admin:{URL_PASSWORD}@app.example.com,http://localhost:3000,*\n"
        f"DATABASE_URL=postgresql://u:{DB_PASSWORD}@db/app\n"
        f"BROKER=amqp://guest:{BROKER_PASSWORD}@rabbit:5672/\n"
        "JWT_SECRET=changeme\n"
    ))
    secrets = [URL_PASSWORD, DB_PASSWORD, BROKER_PASSWORD]
    for res in lint_every_format(tmp_path, ".env.production", secrets):
        assert res.returncode == 1, res.stderr
        assert "velro/cors-https-only" in res.stdout
    assert "http://admin:***@app.example.com" in run(["lint", ".env.production"], tmp_path).stdout
    fix = run(["fix", "--dry-run", ".env.production"], tmp_path)
    assert fix.returncode in (0, 1), fix.stderr
    assert "JWT_SECRET" in fix.stdout
    assert_no_leak(secrets, fix.stdout, fix.stderr)


def test_url_userinfo_in_a_settings_list_is_masked(tmp_path: Path) -> None:
    write(tmp_path / "app" / "config.py", (
        "from pydantic_settings import BaseSettings\n\n"
        "class Settings(BaseSettings):\n"
        '    environment: str = "production"\n'
        f'    cors_origins: list[str] = ["http://admin:{URL_PASSWORD}@app.example.com"]\n'
    ))
    for res in lint_every_format(tmp_path, ".", [URL_PASSWORD], "--target", "settings"):
        assert res.returncode == 1, res.stderr


LIVE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ"


def test_a_cannot_verify_reason_does_not_quote_a_secret_literal(tmp_path: Path) -> None:
    write(tmp_path / "app" / "config.py", (
        "from pydantic_settings import BaseSettings\n\n"
        "class Settings(BaseSettings):\n"
        '    environment: str = "production"\n'
        f"    jwt_secret: str = load_secret(name='{LIVE_KEY}')\n"
    ))
    results = lint_every_format(tmp_path, ".", [LIVE_KEY], "--target", "settings", "--fail-on", "info")
    assert results[0].returncode == 1, results[0].stderr
    assert "cannot verify JWT_SECRET" in results[0].stdout
    assert "load_secret(name=" in results[0].stdout  # the reason still says what the code does


PASS_VALUES = {"SMTP_PASS": "hunter2hunter2zz", "GPG_PASSPHRASE": "correct horse battery staple zebra",
               "DB_PWD": "Tr0ub4dor3xyzq", "MAIL_PASSCODE": "letm3inPlz0000"}


def test_pass_passphrase_pwd_keys_are_secret(tmp_path: Path) -> None:
    from velro_policy.values.masking import is_secret_key, show

    for key, value in PASS_VALUES.items():
        assert is_secret_key(key), key
        assert not set(pieces(value)) & set(pieces(show(key, value))), key
    for key in ("PASSENGER_COUNT", "BYPASS_CACHE", "COMPASS_URL"):
        assert not is_secret_key(key), key
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n"
          + "".join(f"{k}={v!r}\n" if " " in v else f"{k}={v}\n" for k, v in PASS_VALUES.items()))
    results = lint_every_format(tmp_path, ".env.production", list(PASS_VALUES.values()))
    assert results[0].returncode == 1
    fix = run(["fix", "--dry-run", ".env.production"], tmp_path)
    assert "DEBUG" in fix.stdout, fix.stdout + fix.stderr
    assert_no_leak(list(PASS_VALUES.values()), fix.stdout, fix.stderr)


PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"


def test_fix_dry_run_context_lines_show_no_values(tmp_path: Path) -> None:
    """Context lines of the diff: keys whose names do not look secret, a multi-line PEM key."""
    write(tmp_path / ".env.production", (
        "ENVIRONMENT=production\n"
        "NOTES=correct horse battery staple zebra\n"
        "ADMIN=hunter2hunter\n"
        f'SIGNING_PEM="-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----"\n'
        "DEBUG=true\n"
        "LOG_LEVEL=info\n"
    ))
    fix = run(["fix", "--dry-run", ".env.production"], tmp_path)
    assert fix.returncode in (0, 1), fix.stderr
    assert "-DEBUG=" in fix.stdout and "+DEBUG=" in fix.stdout, fix.stdout
    assert_no_leak(["correct horse battery staple zebra", "hunter2hunter", PEM_BODY], fix.stdout, fix.stderr)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.mark.parametrize("value", [
    "postgresql://u:${POSTGRES_PASSWORD}@db:5432/appdatabase",
    "redis://:${REDIS_PASSWORD}@redis.internal:6379/0",
])
def test_a_variable_reference_as_url_password_is_not_a_committed_secret(tmp_path: Path, value: str) -> None:
    write(tmp_path / ".env.production", f"ENVIRONMENT=production\nDEBUG=false\nPOSTGRES_PASSWORD=\nREDIS_PASSWORD=\nDATABASE_URL={value}\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".env.production")
    _git(tmp_path, "commit", "-qm", "env")
    res = run(["lint", "--only", "velro/env-secret-committed", ".env.production"], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    # the same URL with a real password is still caught, and masked
    write(tmp_path / ".env.production", f"ENVIRONMENT=production\nDATABASE_URL=postgresql://u:{DB_PASSWORD}@db/app\n")
    _git(tmp_path, "add", ".env.production")
    res = run(["lint", "--only", "velro/env-secret-committed", ".env.production"], tmp_path)
    assert res.returncode == 1 and "velro/env-secret-committed" in res.stdout, res.stdout + res.stderr
    assert_no_leak([DB_PASSWORD], res.stdout, res.stderr)


def test_masking_scrub_keeps_names() -> None:
    from velro_policy.model import Unknown
    from velro_policy.values.masking import mask_url_userinfo, show

    assert show("X", Unknown("os.environ.get('DATABASE_URL') is read at run time")) == \
        "<unknown: os.environ.get('DATABASE_URL') is read at run time>"
    assert mask_url_userinfo("https://a.example, http://u:p@ss@h.example/x") == "https://a.example, http://u:***@h.example/x"
    assert mask_url_userinfo("https://ghp_abcdefghijklmnop1234@github.com/o/r") == "https://***@github.com/o/r"
    assert mask_url_userinfo("https://user@host.example") == "https://user@host.example"


REPORT_JWT = "Qw8Zt3VnR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Zb7Ck0Dm2"
TEMPLATE_JWT = "Hp8Jr1Zq8Vt3NmR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Cc"
DEFAULT_JWT = "dflt-9Kq2Lm7Np4Rs8Tv3Wx6Yz1Ab5Cd0Ef"
CSP_TOKEN = "sk_live_7fG39HqLyjWDarjtT1zdp7dcQ"
HEADER_TOKEN = "ghp_R4nd0mT0k3nV4lu3Xq8Zt3VnR6wXy1Lp4K"


def test_the_posture_report_shows_no_secret_in_html_or_markdown(tmp_path: Path) -> None:
    """``report`` prints values (the matrix, headers, origins), not only findings: every planted
    secret stays masked in the HTML page and in the markdown (stdout), with a probe recording."""
    write(tmp_path / ".env.production", (
        "ENVIRONMENT=production\nDEBUG=true\n"
        f"JWT_SECRET={REPORT_JWT}\n"
        f"DATABASE_URL=postgresql://u:{DB_PASSWORD}@db/app\n"
        f'ALLOWED_ORIGINS=["https://admin:{URL_PASSWORD}@app.example.com","*"]\n'
        f"SMTP_PASS={PASS_VALUES['SMTP_PASS']}\n"
        f"CSP=default-src 'self'; report-uri https://r.example/?t={CSP_TOKEN}\n"
    ))
    write(tmp_path / ".env.example", f"ENVIRONMENT=development\nJWT_SECRET={TEMPLATE_JWT}\n")
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "config.py", (
        "from pydantic_settings import BaseSettings\n\n"
        "class Settings(BaseSettings):\n"
        '    environment: str = "production"\n'
        f'    jwt_secret: str = "{DEFAULT_JWT}"\n'
        f'    broker_url: str = "amqp://guest:{BROKER_PASSWORD}@rabbit:5672/"\n\n'
        "SECURITY_HEADERS = {\n"
        f'    "Content-Security-Policy": "default-src \'self\'; report-uri /r?k={CSP_TOKEN}",\n'
        '    "X-Frame-Options": "DENY",\n'
        "}\n"
    ))
    import json

    write(tmp_path / "live.probe.json", json.dumps({"velro_probe": 1, "base_url": "https://api.example.test", "exchanges": [
        {"probe": "page", "method": "GET", "url": "https://api.example.test/", "status": 200,
         "headers": [["Content-Security-Policy", f"default-src 'self'; report-uri /r?k={HEADER_TOKEN}"],
                     ["Set-Cookie", f"session={HEADER_TOKEN}"]]}]}))
    out = tmp_path.parent / (tmp_path.name + "-report")
    out.mkdir()
    res = subprocess.run([sys.executable, "-m", "velro_policy", "report", ".", "--html", str(out / "r.html"), "--format", "markdown",
                          "--probe-recording", "live.probe.json"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    page = (out / "r.html").read_text(encoding="utf-8")
    assert "JWT_SECRET" in page and "chars, masked" in page and "| JWT\\_SECRET" in res.stdout  # the values are there, masked
    assert_no_leak([REPORT_JWT, TEMPLATE_JWT, DEFAULT_JWT, CSP_TOKEN, HEADER_TOKEN, DB_PASSWORD, URL_PASSWORD, BROKER_PASSWORD,
                    PASS_VALUES["SMTP_PASS"]], page, res.stdout, res.stderr)


@pytest.mark.parametrize("config", [
    ("velro-policy.yaml", 'fail_on: "{s}"\n'),
    ("velro-policy.yaml", 'exclude: "{s}"\n'),
    ("velro-policy.yaml", 'severity: {{velro/debug-disabled: "{s}"}}\n'),
    ("pyproject.toml", '[tool.velro-policy]\nunknown_severity = "{s}"\n'),
], ids=["fail_on", "exclude", "severity", "pyproject"])
def test_a_config_error_does_not_echo_the_bad_value(tmp_path: Path, config: tuple[str, str]) -> None:
    """A secret pasted into the wrong place of the config came back in the error (exit 2, one line)."""
    secret = "q8Zr1Xv9Lm2Kp7Tn4Wb6Yc3Hd5Jf0Gs8Ae1Ru"
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=false\n")
    write(tmp_path / config[0], config[1].format(s=secret))
    res = run(["lint", ".env.production"], tmp_path)
    assert res.returncode == 2 and "(37 chars, masked)" in res.stderr, res.stderr
    assert_no_leak([secret], res.stdout, res.stderr)
