"""Inline ignores, config exceptions and their governance (suppressible: false,
--no-inline-ignores), through the real CLI."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import cli, write

PROD = "ENVIRONMENT=production\n"


def findings(root: Path, *args: str) -> tuple[int, dict, list[dict]]:
    res = cli(["check", ".", "-f", "json", *args], cwd=root)
    assert res.returncode in (0, 1, 2), res.stderr
    doc = json.loads(res.stdout)
    return res.returncode, doc, doc["findings"]


def by_rule(items: list[dict]) -> dict[str, dict]:
    return {f["rule_id"]: f for f in items}


def test_inline_ignore_on_the_line_and_on_the_line_above(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD
          + "ENABLE_DEBUG_ENDPOINTS=true # velro-policy: ignore[velro/debug-endpoints-disabled] admin VPN only\n"
          + "# velro-policy: ignore[velro/verbose-errors-disabled]: errors go to an internal console\n"
          + "VERBOSE_ERROR_MESSAGES=true\n")
    rc, _, items = findings(tmp_path)
    assert rc == 0
    got = by_rule(items)
    assert got["velro/debug-endpoints-disabled"]["suppressed"] == "inline ignore: admin VPN only"
    assert got["velro/verbose-errors-disabled"]["suppressed"] == "inline ignore: errors go to an internal console"


def test_an_ignore_covers_only_its_line_or_the_next(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD
          + "# velro-policy: ignore[velro/verbose-errors-disabled] reviewed\n\nVERBOSE_ERROR_MESSAGES=true\n")
    rc, _, items = findings(tmp_path)
    got = by_rule(items)
    assert rc == 1 and got["velro/verbose-errors-disabled"]["suppressed"] == ""
    assert got["velro/unused-ignore"]["line"] == 2 and got["velro/unused-ignore"]["severity"] == "info"


def test_ignore_without_reason_or_with_unknown_rule_is_a_finding_and_suppresses_nothing(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD
          + "VERBOSE_ERROR_MESSAGES=true # velro-policy: ignore[velro/verbose-errors-disabled]\n"
          + "ENABLE_DEBUG_ENDPOINTS=true # velro-policy: ignore[velro/no-such-rule] typo in the id\n")
    rc, _, items = findings(tmp_path)
    assert rc == 1
    invalid = sorted((f["line"], f["message"]) for f in items if f["rule_id"] == "velro/invalid-ignore")
    assert invalid == [
        (2, "inline ignore of velro/verbose-errors-disabled has no reason; it suppresses nothing"),
        (3, "inline ignore names unknown rule velro/no-such-rule; it suppresses nothing"),
    ]
    assert all(not f["suppressed"] for f in items)


def test_non_suppressible_rules_cannot_be_ignored_and_the_output_says_so(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD + "DEBUG=true # velro-policy: ignore[velro/debug-disabled] we need tracebacks\n")
    res = cli(["check", "."], cwd=tmp_path)
    assert res.returncode == 1
    assert "(suppressed" not in res.stdout
    assert ".env.production:2: inline ignore of velro/debug-disabled disregarded: the rule is not suppressible" in res.stdout


def test_no_inline_ignores_disregards_them(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD
          + "ENABLE_DEBUG_ENDPOINTS=true # velro-policy: ignore[velro/debug-endpoints-disabled] admin VPN only\n")
    assert findings(tmp_path)[0] == 0
    rc, doc, items = findings(tmp_path, "--no-inline-ignores")
    assert rc == 1 and by_rule(items)["velro/debug-endpoints-disabled"]["suppressed"] == ""
    assert any("inline ignores disregarded (--no-inline-ignores or inline_ignores: false" in n for n in doc["notes"])


def test_inline_ignore_in_a_python_settings_module(tmp_path: Path) -> None:
    write(tmp_path / "policy.yaml", """apiVersion: velro-policy/v1
kind: Policy
metadata: {name: custom/settings, title: Settings}
target: settings
rules:
  - id: custom/debug-off
    title: DEBUG off
    severity: high
    select: DEBUG
    check: {boolean: false}
    remediation: Set DEBUG = False.
""")
    write(tmp_path / "app" / "settings.py", "# velro-policy: ignore[custom/debug-off] only the local dev server imports this\nDEBUG = True\n")
    write(tmp_path / "app" / "prod_settings.py", "DEBUG = True\n")
    rc, _, items = findings(tmp_path, "--policy", "policy.yaml", "--target", "settings")
    assert rc == 1
    got = {(f["path"], f["rule_id"]): f["suppressed"] for f in items if f["rule_id"].startswith("custom/")}
    assert got == {("app/settings.py", "custom/debug-off"): "inline ignore: only the local dev server imports this",
                   ("app/prod_settings.py", "custom/debug-off"): ""}


def config(tmp_path: Path, exceptions: str) -> None:
    write(tmp_path / "velro-policy.yaml", "exceptions:\n" + exceptions)


def test_config_exception_with_reason_and_expiry(tmp_path: Path) -> None:
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    write(tmp_path / "deploy" / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")
    write(tmp_path / "other" / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")
    config(tmp_path, f"  - rule: velro/verbose-errors-disabled\n    path: deploy/*\n    reason: QA needs stack traces until the release\n    expires: {future}\n")
    rc, _, items = findings(tmp_path)
    got = {f["path"]: f["suppressed"] for f in items if f["rule_id"] == "velro/verbose-errors-disabled"}
    assert got == {"deploy/.env.staging": "config exception: QA needs stack traces until the release", "other/.env.staging": ""}
    assert rc == 1


def test_expired_exception_is_a_finding_and_stops_working(tmp_path: Path) -> None:
    write(tmp_path / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")
    config(tmp_path, "  - rule: velro/cors-no-wildcard\n    reason: unused one\n    expires: 2999-01-01\n"
                     "  - rule: velro/verbose-errors-disabled\n    reason: QA needs stack traces\n    expires: 2020-01-31\n")
    rc, doc, items = findings(tmp_path)
    assert rc == 1
    expired = [f for f in items if f["rule_id"] == "velro/expired-exception"]
    assert len(expired) == 1 and expired[0]["path"] == "velro-policy.yaml" and expired[0]["line"] == 5
    assert "expired on 2020-01-31" in expired[0]["message"]
    assert by_rule(items)["velro/verbose-errors-disabled"]["suppressed"] == ""
    assert any("velro-policy.yaml:2: exception for velro/cors-no-wildcard on ** matched no finding" in n for n in doc["notes"])


def test_exception_for_a_non_suppressible_rule_is_disregarded(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD + "DEBUG=true\n")
    config(tmp_path, "  - rule: velro/debug-disabled\n    reason: please\n    expires: 2999-01-01\n")
    rc, doc, items = findings(tmp_path)
    assert rc == 1 and by_rule(items)["velro/debug-disabled"]["suppressed"] == ""
    assert any("exception for velro/debug-disabled disregarded: the rule is not suppressible" in n for n in doc["notes"])


def test_exception_needs_reason_and_expiry(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", PROD)
    config(tmp_path, "  - rule: velro/debug-endpoints-disabled\n    expires: 2999-01-01\n")
    res = cli(["check", "."], cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("velro-policy: error: velro-policy.yaml:2:")
    assert "'reason' is a required property" in res.stderr
    config(tmp_path, "  - rule: velro/debug-endpoints-disabled\n    reason: soon\n    expires: next week\n")
    res = cli(["check", "."], cwd=tmp_path)
    assert res.returncode == 2 and "velro-policy.yaml:4:" in res.stderr


def test_exceptions_in_pyproject_accept_toml_dates(tmp_path: Path) -> None:
    write(tmp_path / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")
    write(tmp_path / "pyproject.toml", '[tool.velro-policy]\nexceptions = [\n'
          '  {rule = "velro/verbose-errors-disabled", reason = "QA console", expires = 2999-01-01},\n'
          '  {rule = "velro/debug-disabled", reason = "old", expires = 2001-01-01},\n]\n')
    rc, _, items = findings(tmp_path)
    got = by_rule(items)
    assert got["velro/verbose-errors-disabled"]["suppressed"] == "config exception: QA console"
    assert got["velro/expired-exception"]["path"] == "pyproject.toml" and rc == 1
