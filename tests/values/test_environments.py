"""How a file's environment is decided: flag, key, name, template, unknown, conflicts."""
from __future__ import annotations

from pathlib import Path

from conftest import cli, write
from velro_policy.values.environments import decide


def test_by_name() -> None:
    for name, env in [(".env.production", "production"), (".env.production.hardened", "production"),
                      (".env.staging.secure", "staging"), (".env.prod", "production"), ("production.env", "production"),
                      (".env.development.secure", "development"), (".env.local", "development"), (".env.test", "test"),
                      (".env.stg", "staging")]:
        assert decide(name, {}).environment == env, name


def test_by_key_beats_name_only_when_not_weaker() -> None:
    assert decide(".env", {"ENVIRONMENT": "staging"}) .environment == "staging"
    assert decide(".env", {"RAILWAY_ENVIRONMENT": "production"}).environment == "production"
    assert decide(".env", {"APP_ENV": "dev"}).environment == "development"
    conflict = decide(".env.production", {"ENVIRONMENT": "development"})
    assert conflict.environment == "production" and conflict.conflict


def test_flag_wins() -> None:
    assert decide(".env.production", {"ENVIRONMENT": "production"}, flag="staging").environment == "staging"


def test_templates() -> None:
    for name in (".env.example", ".env.sample", ".env.template", ".env.production.example", ".env.dist"):
        d = decide(name, {"ENVIRONMENT": "production"})
        assert d.is_template and d.environment == "template", name


def test_unknown_is_held_to_production_and_said() -> None:
    d = decide(".env", {})
    assert d.environment == "production" and d.source.startswith("unknown")
    assert decide(".env", {"ENVIRONMENT": "qa"}).environment == "production"


def test_cli_says_unknown_environment(tmp_path: Path) -> None:
    write(tmp_path / ".env", "DEBUG=true\n")
    res = cli(["lint", str(tmp_path / ".env")])
    assert res.returncode == 1
    assert "held to production rules" in res.stdout
    assert "velro/debug-disabled" in res.stdout


def test_cli_environment_flag_and_mismatch(tmp_path: Path) -> None:
    f = write(tmp_path / ".env.production", "ENVIRONMENT=development\nDEBUG=true\n")
    res = cli(["lint", str(f), "--format", "json"])
    import json

    data = json.loads(res.stdout)
    ids = sorted(x["rule_id"] for x in data["findings"])
    assert ids == ["velro/debug-disabled", "velro/environment-name"]
    dev = cli(["lint", str(f), "--environment", "development"])
    assert dev.returncode == 0, dev.stdout
