"""The compiled policy pack cache: used when its key matches, rebuilt when any input
changes, never trusted without the key, and it keeps the heavy validators
(ruamel.yaml, jsonschema, pydantic) off the path of ``lint .env``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import write

HEAVY = ("ruamel.yaml", "jsonschema", "pydantic", "semgrep", "subprocess")
PROBE = (
    "import sys\n"
    "from velro_policy.main import main\n"
    "rc = main(sys.argv[1:])\n"
    f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules], 'RC', rc)\n"
    "raise SystemExit(rc)\n"
)
POLICY = """apiVersion: velro-policy/v1
kind: Policy
metadata: {{name: team/flags, title: Team flags}}
target: env
rules:
  - id: team/feature-x-off
    title: FEATURE_X is off
    severity: {severity}
    select: FEATURE_X
    check: {{boolean: false}}
    remediation: Set FEATURE_X=false.
"""


def lint(args: list[str], cwd: Path) -> tuple[str, int, list[str]]:
    """Run lint in a fresh interpreter; (stdout, exit code, heavy modules it imported)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, "lint", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    marker = proc.stdout.rsplit("HEAVY ", 1)
    heavy = eval(marker[1].split(" RC ")[0]) if len(marker) == 2 else ["?"]  # noqa: S307 - our own repr of a list
    return marker[0], proc.returncode, heavy


def packs(cache: Path) -> list[Path]:
    return sorted(cache.glob("pack-*.json"))


def test_second_run_uses_the_cache_and_imports_nothing_heavy(tmp_path: Path, _isolated_cache: Path) -> None:
    env_file = write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    first, rc1, heavy1 = lint([str(env_file)], tmp_path)
    assert packs(_isolated_cache), "the first run compiles and caches the pack"
    assert "pydantic" in heavy1 or "jsonschema" in heavy1  # it validated
    second, rc2, heavy2 = lint([str(env_file)], tmp_path)
    assert (second, rc2) == (first, rc1) and rc1 == 1
    assert "velro/debug-disabled" in second
    assert heavy2 == [], f"lint .env imported {heavy2} with a warm cache"


def test_a_changed_policy_file_rebuilds_the_pack(tmp_path: Path, _isolated_cache: Path) -> None:
    env_file = write(tmp_path / ".env.production", "ENVIRONMENT=production\nFEATURE_X=true\n")
    policy = write(tmp_path / "policies" / "flags.yaml", POLICY.format(severity="low"))
    out, _, _ = lint([str(env_file), "--policy", str(policy.parent)], tmp_path)
    assert "low team/feature-x-off" in out
    write(policy, POLICY.format(severity="critical"))
    out, _, heavy = lint([str(env_file), "--policy", str(policy.parent)], tmp_path)
    assert "critical team/feature-x-off" in out
    assert "jsonschema" in heavy or "pydantic" in heavy  # revalidated, not served stale
    assert len(packs(_isolated_cache)) == 2


def test_a_changed_config_rebuilds_the_pack(tmp_path: Path, _isolated_cache: Path) -> None:
    env_file = write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    (tmp_path / ".git").mkdir()
    write(tmp_path / "velro-policy.yaml", "fail_on: low\n")
    out, _, _ = lint([str(env_file)], tmp_path)
    assert "velro/debug-disabled" in out
    write(tmp_path / "velro-policy.yaml", "fail_on: low\ndisable: [velro/debug-disabled]\n")
    out, _, _ = lint([str(env_file)], tmp_path)
    assert "critical velro/debug-disabled" not in out
    assert "note: velro-policy.yaml: disable: velro/debug-disabled switches off a non-suppressible rule" in out


def test_an_entry_without_the_right_key_is_not_trusted(tmp_path: Path, _isolated_cache: Path) -> None:
    env_file = write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    lint([str(env_file)], tmp_path)
    (entry,) = packs(_isolated_cache)
    data = json.loads(entry.read_text())
    forged = {**data, "key": "0" * 64, "rules": []}  # same file name, wrong key, no rules
    entry.write_text(json.dumps(forged))
    out, rc, _ = lint([str(env_file)], tmp_path)
    assert rc == 1 and "velro/debug-disabled" in out
    assert json.loads(entry.read_text())["key"] == data["key"]  # rebuilt in place
    entry.write_text("{not json")
    out, rc, _ = lint([str(env_file)], tmp_path)
    assert rc == 1 and "velro/debug-disabled" in out


def test_no_cache_flag_revalidates(tmp_path: Path, _isolated_cache: Path) -> None:
    env_file = write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=false\n")
    lint([str(env_file)], tmp_path)
    _, rc, heavy = lint([str(env_file), "--no-cache"], tmp_path)
    assert rc == 0
    assert "jsonschema" in heavy or "pydantic" in heavy
