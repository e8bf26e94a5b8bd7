"""Hostile policies and config, governance (issue 18, item 5): the repository's own
config, which any pull request can change, cannot turn a CI gate run with
``--locked-policy`` green; without the flag, a config that weakens a
non-suppressible rule is obeyed and says so.

Each case runs the real command line (10 s bound, exit code, no traceback).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from _harness import check, cli, write

BAD = "ENVIRONMENT=production\nDEBUG=true\n"
DEBUG_FINDING = ".env.production:2:1: critical velro/debug-disabled"

# (config, what the unlocked note says): each of these alone turns the gate green without the flag.
WEAKENINGS = {
    "builtin-off": ("builtin: false\npolicies: [policies]\n", "builtin: false switches the built-in pack off"),
    "disable": ("disable: [velro/debug-disabled]\n", "disable: velro/debug-disabled switches off a non-suppressible rule"),
    "disable-glob": ("disable: ['velro/debug-*']\n", "disable: velro/debug-disabled switches off a non-suppressible rule"),
    "downgrade": ("severity: {velro/debug-disabled: info}\nfail_on: low\n",
                  "severity: velro/debug-disabled: info lowers a non-suppressible rule from critical"),
    "re-alias": ("environment_aliases: {production: development}\n",
                 "environment_aliases: production: development judges production files by development rules"),
    "fail-on": ("fail_on: critical\nseverity: {velro/debug-disabled: high}\n", None),
}


OWN_POLICY = """apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/own, title: Our own rules}
target: env
rules:
  - id: acme/no-feature-x
    title: FEATURE_X is off
    severity: critical
    suppressible: false
    select: [FEATURE_X]
    check: {boolean: false}
    remediation: Set FEATURE_X=false.
"""


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, (config, _) in WEAKENINGS.items():
        top = tmp_path_factory.mktemp(f"gov-{name}")
        write(top / ".env.production", BAD)
        write(top / "velro-policy.yaml", config)
        write(top / "policies" / "own.yaml", OWN_POLICY)
        out[name] = top
    return out


@pytest.mark.parametrize("name", list(WEAKENINGS))
def test_a_locked_run_disregards_the_weakening(repos: dict[str, Path], name: str) -> None:
    res = check(cli(["lint", "--locked-policy", ".env.production"], repos[name]), 1)
    assert DEBUG_FINDING in res.stdout
    assert "note: --locked-policy: velro-policy.yaml: " in res.stdout
    assert "disregarded" in res.stdout


@pytest.mark.parametrize("name", [n for n, (_, note) in WEAKENINGS.items() if note])
def test_an_unlocked_run_obeys_and_says_so(repos: dict[str, Path], name: str) -> None:
    res = check(cli(["lint", ".env.production"], repos[name]), 0)
    assert DEBUG_FINDING not in res.stdout
    assert f"note: velro-policy.yaml: {WEAKENINGS[name][1]}" in res.stdout
    assert "(CI gates: run with --locked-policy)" in res.stdout


def test_check_and_report_take_the_flag_too(repos: dict[str, Path]) -> None:
    top = repos["disable"]
    check(cli(["check", "--locked-policy", "--target", "env", "."], top), 1)
    res = check(cli(["report", "--locked-policy", "--format", "markdown", "."], top), 0)
    assert "--locked-policy: velro-policy.yaml: disable: velro/debug-disabled disregarded" in res.stdout




def test_what_the_lock_leaves_to_the_config(tmp_path: Path) -> None:
    """Raising a severity, disabling a suppressible rule, new environment names and the config's
    own policies' rules are the repository's to choose, locked or not."""
    write(tmp_path / ".env.production", BAD + "CORS_ORIGINS=*\nFEATURE_X=true\n")
    write(tmp_path / ".env.qa", "DEBUG=true\n")
    write(tmp_path / "policies" / "own.yaml", OWN_POLICY)
    write(tmp_path / "velro-policy.yaml", "disable: [velro/cors-no-wildcard]\nenvironment_aliases: {qa: development}\n"
          "severity: {velro/jwt-secret-strength-dev: high, acme/no-feature-x: info}\npolicies: [policies]\n")
    for flag in ([], ["--locked-policy"]):
        res = check(cli(["lint", *flag, "."], tmp_path), 1)
        assert "velro/cors-no-wildcard" not in res.stdout
        assert ".env.qa:" not in res.stdout  # development: DEBUG may be true
        assert "info acme/no-feature-x" in res.stdout
        assert "note: velro-policy.yaml" not in res.stdout and "note: --locked-policy" not in res.stdout, res.stdout


def test_the_config_cannot_name_the_lock(tmp_path: Path) -> None:
    """The flag is read from the command line only: a config key of that name is a config error."""
    write(tmp_path / ".env.production", BAD)
    write(tmp_path / "velro-policy.yaml", "locked_policy: false\n")
    res = check(cli(["lint", ".env.production"], tmp_path), 2)
    assert "locked_policy" in res.stderr


def test_unknown_severity_and_fail_on_are_locked(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=false\n")
    write(tmp_path / "velro-policy.yaml", "unknown_severity: info\nfail_on: high\n")
    res = check(cli(["lint", "--locked-policy", ".env.production"], tmp_path), 0)
    assert "unknown_severity: info disregarded" in res.stdout
    assert "fail_on: high disregarded" in res.stdout
    check(cli(["lint", "--locked-policy", "--fail-on", "high", ".env.production"], tmp_path), 0)


def test_ci_examples_and_init_use_the_lock(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    for example in ("github-actions.yml", "gitlab-ci.yml"):
        text = (root / "hooks" / "examples" / example).read_text(encoding="utf-8")
        assert "velro-policy check --locked-policy" in text, example
    check(cli(["init", "--no-pre-commit", "."], tmp_path), 0)
    workflow = (tmp_path / ".github" / "workflows" / "velro-policy.yml").read_text(encoding="utf-8")
    assert "velro-policy check --locked-policy" in workflow
