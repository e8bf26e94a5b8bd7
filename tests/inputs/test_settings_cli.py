"""The settings target through the real command line, on fixtures written
for it (tests/fixtures/settings/): each violation at its exact line, the
compliant twin clean, modules never imported, effective configuration."""
from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path

import pytest

from conftest import NO_CODE, REPO, cli, write

FIXTURES = REPO / "tests" / "fixtures" / "settings"
EXPECT = re.compile(r"#\s*expect:\s*(\S+)")


def copy(name: str, tmp_path: Path) -> Path:
    """A copy outside the repository's tests/ folder (tests folders are excluded by default)."""
    dest = tmp_path / name
    src = FIXTURES / name
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        shutil.copy(src, dest)
    return dest


def expected(root: Path) -> set[tuple[str, int, str]]:
    out = set()
    for path in sorted(root.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                out.add((path.relative_to(root).as_posix(), n, m.group(1)))
    return out


def run_json(args: list[str], cwd: Path) -> tuple[int, dict, str]:
    res = cli([*args, "-f", "json"], cwd=cwd)
    assert "Traceback" not in res.stderr
    data = json.loads(res.stdout) if res.stdout.strip() else {}
    return res.returncode, data, res.stderr


def found(data: dict) -> set[tuple[str, int, str]]:
    return {(f["path"], f["line"], f["rule_id"]) for f in data["findings"]}


def test_weak_project_reports_each_violation_at_its_line(tmp_path: Path) -> None:
    root = copy("weak", tmp_path)
    want = expected(root)
    assert len(want) == 5  # DEBUG default, login rate default, CSP 'unsafe-inline', X-Frame-Options, loose generation limit
    rc, data, _ = run_json(["check", ".", "--target", "settings"], root)
    assert rc == 1
    assert found(data) == want


def test_compliant_twin_passes(tmp_path: Path) -> None:
    root = copy("compliant", tmp_path)
    assert expected(root) == set()
    rc, data, _ = run_json(["check", ".", "--target", "settings"], root)
    assert (rc, data["findings"]) == (0, [])
    checked = {f["path"] for f in data["files"]}
    assert {"app/core/config.py", "app/middleware/security_enhanced.py", "app/middleware/rate_limiting_enhanced.py"} <= checked


def test_fixture_settings_module_has_forty_plus_fields() -> None:
    from velro_policy.inputs.pyread import read_module

    read = read_module((FIXTURES / "weak" / "app" / "core" / "config.py").read_text(encoding="utf-8"), "config.py")
    assert len(read.fields) >= 40
    by_name = {f.name: f for f in read.fields}
    assert by_name["url"].env == ("SUPABASE_URL",) and by_name["url"].required
    assert by_name["jwt_secret"].env == ("JWT_SECRET", "JWT_SECRET_KEY") and by_name["jwt_secret"].required
    assert by_name["sentry_dsn"].default is not None and by_name["sentry_dsn"].default.value is None
    assert by_name["hsts_max_age"].default.value == 31536000  # type: ignore[union-attr]


def test_lint_reads_a_module_without_importing_it(tmp_path: Path) -> None:
    module = copy("side_effect_settings.py", tmp_path)  # a settings module by name (*_settings.py)
    rc, data, _ = run_json(["lint", *NO_CODE, module.name], tmp_path)
    assert not (tmp_path / "IMPORTED.marker").exists()
    assert not (tmp_path / "SUBPROCESS.marker").exists()
    assert rc == 1
    assert found(data) == {(p, n, r) for p, n, r in expected(tmp_path)}


def test_lint_of_a_single_settings_file_text_output(tmp_path: Path) -> None:
    root = copy("weak", tmp_path)
    res = cli(["lint", *NO_CODE, "app/core/config.py"], cwd=root)
    assert res.returncode == 1
    assert "app/core/config.py:38:33: critical velro/settings-debug-default: DEBUG is True; must be false" in res.stdout
    assert "app/core/config.py:76:34: high velro/rate-table-login: AUTH_RATE_LIMIT_LOGIN allows 5/hour; must be at most 3/hour" in res.stdout


# -- defaults in code (issue 14 item 6) ------------------------------------------
# A default is what runs wherever the platform does not set the variable: it is judged whatever
# the committed env files say, once (tests/judge/test_defaults.py has the env rules on defaults and
# the same answer at every scope).

def _env(root: Path, name: str, *lines: str) -> None:
    write(root / name, "\n".join(["ENVIRONMENT=" + name.split(".")[-1], "JWT_SECRET=" + secrets.token_urlsafe(96), *lines]) + "\n")


@pytest.mark.parametrize("env_files", [
    (),
    ((".env.production",),),
    ((".env.production", "DEBUG=false"),),  # a committed file that sets it does not hide the default
    ((".env.development",),),
    ((".env.production", "DEBUG=false"), (".env.staging",)),
])
def test_a_debug_default_is_one_finding_whatever_the_env_files(tmp_path: Path, env_files: tuple[tuple[str, ...], ...]) -> None:
    root = copy("effective", tmp_path)
    for name, *lines in env_files:
        _env(root, name, *lines)
    rc, data, _ = run_json(["check", ".", "--target", "env", "--target", "settings", "--skip", "velro/project-*"], root)
    assert rc == 1
    assert found(data) == {("app/config.py", 10, "velro/settings-debug-default")}


def test_env_files_of_another_project_change_nothing(tmp_path: Path) -> None:
    root = copy("effective", tmp_path)
    write(tmp_path / "frontend" / "package.json", "{}\n")
    _env(tmp_path / "frontend", ".env.production")
    rc, data, _ = run_json(["check", ".", "--target", "env", "--target", "settings"], tmp_path)
    assert found(data) == {("effective/app/config.py", 10, "velro/settings-debug-default")}
    assert root.exists()


# -- failing closed, masking, unknowns ------------------------------------------

def test_python2_settings_module_is_a_high_finding_with_file_and_line(tmp_path: Path) -> None:
    # No entry point: every module counts as deployed, and a deployed module that does not
    # parse is a finding (velro/unparseable-module, exit 1), never a silent pass (issue 14).
    write(tmp_path / "settings.py", 'DEBUG = False\nprint "deploying"\n')
    res = cli(["check", ".", "--target", "settings"], cwd=tmp_path)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "settings.py:2" in res.stdout and "velro/unparseable-module" in res.stdout and "not valid Python 3" in res.stdout


def test_deeply_nested_literal_is_exit_2(tmp_path: Path) -> None:
    write(tmp_path / "config.py", "X = " + "[" * 150 + "]" * 150 + "\n")
    res = cli(["lint", *NO_CODE, "config.py"], cwd=tmp_path)
    assert res.returncode == 2 and "config.py:1" in res.stderr and "Traceback" not in res.stderr


def test_literal_jwt_secret_default_is_critical_and_masked(tmp_path: Path) -> None:
    secret = "velro-dev-secret-key-change-me-" + secrets.token_hex(8)
    write(tmp_path / "config.py", f'from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    jwt_secret: str = "{secret}"\n')
    res = cli(["lint", *NO_CODE, "config.py", "-f", "json", "-f", "text=report.txt"], cwd=tmp_path)  # one run, both formats
    assert res.returncode == 1
    for text in (res.stdout, res.stderr, (tmp_path / "report.txt").read_text(encoding="utf-8")):
        assert secret not in text and secret[5:-5] not in text
    assert "velro/settings-jwt-secret-literal" in (tmp_path / "report.txt").read_text(encoding="utf-8")
    data = json.loads(res.stdout)
    assert [(f["line"], f["rule_id"], f["severity"]) for f in data["findings"]] == [(4, "velro/settings-jwt-secret-literal", "critical")]


def test_short_literal_secret_is_still_critical_and_required_field_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "config.py", 'import os\nJWT_SECRET = os.getenv("JWT_SECRET", "x1")\nJWT_SIGNING_KEY = os.environ["JWT_SIGNING_KEY"]\n')
    rc, data, _ = run_json(["lint", *NO_CODE, "config.py"], tmp_path)
    assert [(f["line"], f["rule_id"]) for f in data["findings"]] == [(2, "velro/settings-jwt-secret-literal")]


def test_unknown_value_is_cannot_verify_at_low_severity(tmp_path: Path) -> None:
    write(tmp_path / "settings.py", "from .flags import compute\n\nDEBUG = compute('debug')\nLEVEL = compute('level')\n")
    rc, data, _ = run_json(["lint", *NO_CODE, "settings.py"], tmp_path)
    assert [(f["line"], f["rule_id"], f["severity"]) for f in data["findings"]] == [(3, "velro/settings-debug-default", "low")]
    assert "cannot verify DEBUG" in data["findings"][0]["message"]
    assert rc == 1  # never counted as a pass (fail_on low)


def test_tests_are_skipped_unless_configured(tmp_path: Path) -> None:
    weak = '{"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"}'
    write(tmp_path / "tests" / "unit" / "headers_fixture.py", f"HEADERS = {weak}\n")
    write(tmp_path / "test_headers.py", f"HEADERS = {weak}\n")
    write(tmp_path / "app" / "headers.py", f"HEADERS = {weak}\n")
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert {f["path"] for f in data["findings"]} == {"app/headers.py"}
    rc, data, _ = run_json(["lint", "test_headers.py"], tmp_path)  # pre-commit names every staged file
    assert data["findings"] == []
    write(tmp_path / "velro-policy.yaml", "python_exclude: []\n")
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert {f["path"] for f in data["findings"]} == {"app/headers.py", "test_headers.py", "tests/unit/headers_fixture.py"}


def test_other_modules_contribute_structures_and_env_reads_only(tmp_path: Path) -> None:
    write(tmp_path / "app" / "routes.py", "DEBUG = True\nTIMEOUT = 5\n")
    write(tmp_path / "app" / "main.py", 'import os\nDEBUG = os.getenv("DEBUG", "true").lower() == "true"\n')
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert found(data) == {("app/main.py", 2, "velro/settings-debug-default")}


def test_per_tier_tables_and_missing_entries(tmp_path: Path) -> None:
    write(tmp_path / "app" / "limits.py", '''\
TIER_RATE_LIMITS = {
    "free": {
        "auth_login": "3/hour",
        "auth_register": "2/hour",
        "generation_create": (10, 3600),
        "api_standard": {"requests": 100, "window": 60},
        "password_reset": "3 per hour",
    },
    "pro": {
        "auth_login": "10/hour",
        "auth_register": "2/hour",
        "generation_create": {"limit": 10, "period": "hour"},
        "api_standard": "100/minute",
    },
}
LOGIN_LIMITS = {"auth_login": {"free": "3/hour", "enterprise": "30/hour"}, "signup": "2/hour"}
''')
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert sorted((f["line"], f["rule_id"]) for f in data["findings"]) == [
        (9, "velro/rate-table-complete"),  # pro has no password_reset entry
        (10, "velro/rate-table-login"),  # pro login 10/hour
        (16, "velro/rate-table-complete"),  # LOGIN_LIMITS lacks generation, api, reset
        (16, "velro/rate-table-login"),  # the enterprise tier
    ]


def test_single_header_dicts_in_unrelated_code_are_not_header_sets(tmp_path: Path) -> None:
    write(tmp_path / "app" / "errors.py", '''\
from fastapi.responses import JSONResponse

RETRY = {"Retry-After": "60", "Cache-Control": "no-store"}
FRAME_OK = {"X-Frame-Options": "DENY"}
FLAGS = {"X-Frame-Options": True, "Strict-Transport-Security": False}

def too_many():
    return JSONResponse({"detail": "Too many requests"}, status_code=429, headers={"Retry-After": "60"})
''')
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert (rc, data["findings"]) == (0, [])


def test_quota_tables_named_limits_are_not_rate_limits(tmp_path: Path) -> None:
    write(tmp_path / "app" / "plans.py", '''\
PLAN_LIMITS = {
    "free": {"generations_per_month": 10, "max_resolution": 1024, "generation_quality": "standard"},
    "pro": {"generations_per_month": 500, "generation_rate": "20/hour"},
}
''')
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert [(f["line"], f["rule_id"]) for f in data["findings"]] == [(3, "velro/rate-table-generation")]


def test_user_policy_selects_class_fields_and_members(tmp_path: Path) -> None:
    write(tmp_path / "config.py", '''\
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VELRO_")
    log_level: str = "DEBUG"
    security_headers: dict[str, str] = Field(default_factory=lambda: {
        "X-Frame-Options": "SAMEORIGIN",
    })
''')
    write(tmp_path / "acme.yaml", '''\
apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/settings, title: Acme}
target: settings
rules:
  - id: acme/log-level
    title: log level
    severity: medium
    select: Settings.log_level
    check: {one_of: [INFO, WARNING]}
    remediation: use INFO
  - id: acme/env-name
    title: same value by its env variable
    severity: low
    select: VELRO_LOG_LEVEL
    check: {one_of: [INFO, WARNING]}
    remediation: use INFO
  - id: acme/frame
    title: member of a field
    severity: medium
    select: 'Settings.security_headers["x-frame-options"]'
    check: {header_one_of: [DENY]}
    remediation: DENY
''')
    rc, data, _ = run_json(["lint", "config.py", "--policy", "acme.yaml", "--only", "acme/*"], tmp_path)
    assert sorted((f["line"], f["rule_id"], f["key"]) for f in data["findings"]) == [
        (7, "acme/env-name", "VELRO_LOG_LEVEL"), (7, "acme/log-level", "VELRO_LOG_LEVEL"),
        (9, "acme/frame", 'VELRO_SECURITY_HEADERS["X-Frame-Options"]')]


def test_settings_module_globs_are_configurable(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "base.py", "DEBUG = True\n")
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert data["findings"] == []  # not a settings module by name: scalars are not settings
    write(tmp_path / "velro-policy.yaml", 'settings_modules: ["conf/*.py"]\n')
    rc, data, _ = run_json(["check", ".", "--target", "settings"], tmp_path)
    assert found(data) == {("conf/base.py", 1, "velro/settings-debug-default")}
