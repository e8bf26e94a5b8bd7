"""`velro-policy init`: creates the config, hooks and workflow; merges into an
existing .pre-commit-config.yaml keeping its comments; refuses to overwrite."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import REPO, cli, write

EXISTING = """\
# See https://pre-commit.com for more information
# keep this comment: the team's hooks
repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.5.0  # pinned on purpose
    hooks:
    -   id: trailing-whitespace
    # -   id: check-yaml   (disabled until the docs are fixed)
    -   id: end-of-file-fixer
"""


def pre_commit_validate(path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "pre-commit"
    return subprocess.run([str(exe), "validate-config", str(path)], capture_output=True, text=True, timeout=120)


def velro_repos(path: Path) -> list[dict[str, object]]:
    data = YAML(typ="safe").load(path.read_text())
    return [r for r in data["repos"] if any(str(h["id"]).startswith("velro-policy") for h in r["hooks"])]


def test_init_creates_config_hooks_and_workflow(tmp_path: Path) -> None:
    res = cli(["init"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    config = tmp_path / "velro-policy.yaml"
    workflow = tmp_path / ".github" / "workflows" / "velro-policy.yml"
    hooks = tmp_path / ".pre-commit-config.yaml"
    assert config.is_file() and workflow.is_file() and hooks.is_file()

    # the config is commented and valid: the tool runs with it (a bad key would be exit 2)
    text = config.read_text()
    assert text.count("\n#") >= 10 and "fix:" in text and "parity_keys" in text
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    run = cli(["check", ".", "-f", "json"], cwd=tmp_path)
    assert run.returncode == 1 and '"velro/debug-disabled"' in run.stdout, run.stderr

    # the hooks file is what pre-commit itself accepts
    assert pre_commit_validate(hooks).returncode == 0
    (entry,) = velro_repos(hooks)
    # the fast hooks on commit, the Semgrep scan on push
    assert entry["hooks"] == [{"id": "velro-policy-env"}, {"id": "velro-policy-settings"},
                              {"id": "velro-policy-code", "stages": ["pre-push"]}]
    # velro-policy runs from this checkout: the hooks point at its commit, and init says so
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    assert entry["rev"] == head and "at its commit " + head[:12] in res.stdout
    assert "--hook-type pre-push" in res.stdout

    # the workflow is a pull-request gate that uploads SARIF
    wf = YAML(typ="safe").load(workflow.read_text())
    assert "pull_request" in wf.get("on", wf.get(True, {}))  # YAML 1.1 readers turn `on` into True
    steps = wf["jobs"]["velro-policy"]["steps"]
    runs = " ".join(str(s.get("run", "")) for s in steps)
    assert "velro-policy check" in runs and "--changed-since" in runs and "sarif=velro-policy.sarif" in runs
    assert any("upload-sarif" in str(s.get("uses", "")) for s in steps)
    assert "${{ github.base_ref }}" in workflow.read_text()
    # hardened: pinned actions, no persisted token, context values through env, never pasted into run:
    uses = [str(s["uses"]) for s in steps if "uses" in s]
    assert all("@" in u and len(u.split("@")[1]) == 40 for u in uses), uses
    assert steps[0]["with"]["persist-credentials"] is False
    assert "${{" not in runs


def test_init_merges_into_existing_pre_commit_config_keeping_comments(tmp_path: Path) -> None:
    hooks = write(tmp_path / ".pre-commit-config.yaml", EXISTING)
    res = cli(["init", "--hook", "velro-policy-env", "--hook", "velro-policy-settings", "--no-workflow"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    merged = hooks.read_text()
    assert merged.startswith(EXISTING)  # every comment, the indentation and the order untouched
    assert merged[len(EXISTING):].startswith("-   repo: ")  # the file's own `-   ` style
    assert pre_commit_validate(hooks).returncode == 0
    (entry,) = velro_repos(hooks)
    assert entry["hooks"] == [{"id": "velro-policy-env"}, {"id": "velro-policy-settings"}]
    assert not (tmp_path / ".github").exists()

    # run again: the hooks are already there, nothing is duplicated or changed
    (tmp_path / "velro-policy.yaml").unlink()
    res = cli(["init", "--no-workflow"], cwd=tmp_path)
    assert res.returncode == 0 and "already configured" in res.stdout
    assert hooks.read_text() == merged


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert cli(["init"], cwd=tmp_path).returncode == 0
    config = tmp_path / "velro-policy.yaml"
    config.write_text("fail_on: high\n")
    hooks = tmp_path / ".pre-commit-config.yaml"
    before = hooks.read_text()
    workflow = tmp_path / ".github" / "workflows" / "velro-policy.yml"
    workflow.write_text("# mine\n")

    res = cli(["init"], cwd=tmp_path)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "--force" in res.stderr and "Traceback" not in res.stderr
    assert config.read_text() == "fail_on: high\n" and workflow.read_text() == "# mine\n" and hooks.read_text() == before

    res = cli(["init", "--force", "--hook", "velro-policy-code"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert config.read_text() != "fail_on: high\n" and "velro-policy check" in workflow.read_text()
    (entry,) = velro_repos(hooks)  # updated in place, not appended twice
    assert entry["hooks"] == [{"id": "velro-policy-code"}]


def test_init_rejects_a_broken_pre_commit_config_and_writes_nothing(tmp_path: Path) -> None:
    hooks = write(tmp_path / ".pre-commit-config.yaml", "repos:\n  - repo: x\n    hooks: [unclosed\n")
    res = cli(["init"], cwd=tmp_path)
    assert res.returncode == 2
    assert ".pre-commit-config.yaml" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "velro-policy.yaml").exists() and not (tmp_path / ".github").exists()
    assert hooks.read_text() == "repos:\n  - repo: x\n    hooks: [unclosed\n"


def test_hook_source_for_a_release_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    from velro_policy import __version__
    from velro_policy.commands import init as init_mod

    monkeypatch.setattr(init_mod, "_checkout_of_this_package", lambda: None)  # as from a wheel
    release = init_mod.hook_source()
    assert (release.repo, release.rev) == (init_mod.REPO_URL, f"v{__version__}")
    assert release.pip_spec == f"velro-policy[code]=={__version__}" and "installed release" in release.why
    pinned = init_mod.hook_source(rev="v9.9.9", repo="https://git.example.com/sec/velro-policy")
    assert (pinned.repo, pinned.rev) == ("https://git.example.com/sec/velro-policy", "v9.9.9")
    assert pinned.pip_spec == "velro-policy[code] @ git+https://git.example.com/sec/velro-policy@v9.9.9"
    monkeypatch.setattr(init_mod, "_checkout_of_this_package",
                        lambda: ("/src/velro-policy", "a" * 40, "https://github.com/acme/velro-policy", False))
    fork = init_mod.hook_source()
    assert (fork.repo, fork.rev) == ("https://github.com/acme/velro-policy", "a" * 40)
    assert fork.pip_spec == f"velro-policy[code] @ git+https://github.com/acme/velro-policy@{'a' * 40}"
