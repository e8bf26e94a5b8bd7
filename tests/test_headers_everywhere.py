"""The guide's six headers wherever they are set: settings modules, env files, code and the
application model are judged with one set of checks, so a value cannot pass in one place and
fail in another."""
from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from conftest import REPO

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
