"""`velro-policy init`: creates the config, hooks and workflow; merges into an
existing .pre-commit-config.yaml keeping its comments; refuses to overwrite."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from conftest import velro, write

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
    return [r for r in data["repos"] if str(r["repo"]).endswith("/velro-policy")]


def test_init_creates_config_hooks_and_workflow(tmp_path: Path) -> None:
    res = velro(["init"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    config = tmp_path / "velro-policy.yaml"
    workflow = tmp_path / ".github" / "workflows" / "velro-policy.yml"
    hooks = tmp_path / ".pre-commit-config.yaml"
    assert config.is_file() and workflow.is_file() and hooks.is_file()

    # the config is commented and valid: the tool runs with it (a bad key would be exit 2)
    text = config.read_text()
    assert text.count("\n#") >= 10 and "fix:" in text and "parity_keys" in text
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    run = velro(["check", ".", "-f", "json"], cwd=tmp_path)
    assert run.returncode == 1 and '"velro/debug-disabled"' in run.stdout, run.stderr

    # the hooks file is what pre-commit itself accepts
    assert pre_commit_validate(hooks).returncode == 0
    (entry,) = velro_repos(hooks)
    assert entry["hooks"] == [{"id": "velro-policy"}] and str(entry["rev"]).startswith("v")

    # the workflow is a pull-request gate that uploads SARIF
    wf = YAML(typ="safe").load(workflow.read_text())
    assert "pull_request" in wf.get("on", wf.get(True, {}))  # YAML 1.1 readers turn `on` into True
    steps = wf["jobs"]["velro-policy"]["steps"]
    runs = " ".join(str(s.get("run", "")) for s in steps)
    assert "velro-policy check" in runs and "--changed-since" in runs and "sarif=velro-policy.sarif" in runs
    assert any("upload-sarif" in str(s.get("uses", "")) for s in steps)
    assert "${{ github.base_ref }}" in workflow.read_text()


def test_init_merges_into_existing_pre_commit_config_keeping_comments(tmp_path: Path) -> None:
    hooks = write(tmp_path / ".pre-commit-config.yaml", EXISTING)
    res = velro(["init", "--hook", "velro-policy-env", "--hook", "velro-policy-settings", "--no-workflow"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    merged = hooks.read_text()
    assert merged.startswith(EXISTING)  # every comment, the indentation and the order untouched
    assert "-   repo: https://github.com/velro/velro-policy" in merged  # the file's own `-   ` style
    assert pre_commit_validate(hooks).returncode == 0
    (entry,) = velro_repos(hooks)
    assert entry["hooks"] == [{"id": "velro-policy-env"}, {"id": "velro-policy-settings"}]
    assert not (tmp_path / ".github").exists()

    # run again: the hooks are already there, nothing is duplicated or changed
    (tmp_path / "velro-policy.yaml").unlink()
    res = velro(["init", "--no-workflow"], cwd=tmp_path)
    assert res.returncode == 0 and "already configured" in res.stdout
    assert hooks.read_text() == merged


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert velro(["init"], cwd=tmp_path).returncode == 0
    config = tmp_path / "velro-policy.yaml"
    config.write_text("fail_on: high\n")
    hooks = tmp_path / ".pre-commit-config.yaml"
    before = hooks.read_text()
    workflow = tmp_path / ".github" / "workflows" / "velro-policy.yml"
    workflow.write_text("# mine\n")

    res = velro(["init"], cwd=tmp_path)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "--force" in res.stderr and "Traceback" not in res.stderr
    assert config.read_text() == "fail_on: high\n" and workflow.read_text() == "# mine\n" and hooks.read_text() == before

    res = velro(["init", "--force", "--hook", "velro-policy-code"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert config.read_text() != "fail_on: high\n" and "velro-policy check" in workflow.read_text()
    (entry,) = velro_repos(hooks)  # updated in place, not appended twice
    assert entry["hooks"] == [{"id": "velro-policy-code"}]


def test_init_rejects_a_broken_pre_commit_config_and_writes_nothing(tmp_path: Path) -> None:
    hooks = write(tmp_path / ".pre-commit-config.yaml", "repos:\n  - repo: x\n    hooks: [unclosed\n")
    res = velro(["init"], cwd=tmp_path)
    assert res.returncode == 2
    assert ".pre-commit-config.yaml" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "velro-policy.yaml").exists() and not (tmp_path / ".github").exists()
    assert hooks.read_text() == "repos:\n  - repo: x\n    hooks: [unclosed\n"
