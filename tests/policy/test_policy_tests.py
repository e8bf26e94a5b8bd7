"""`velro-policy test` on the shipped pack (with coverage) and its failure modes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, cli, write


def semgrep_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Semgrep scans this process starts from now on (subprocess.Popen, counted and passed through)."""
    import subprocess

    started: list[str] = []
    real_popen = subprocess.Popen

    def counting_popen(cmd: list[str], *args: object, **kwargs: object) -> object:
        if "scan" in cmd[:2]:
            started.append(cmd[0])
        return real_popen(cmd, *args, **kwargs)  # type: ignore[call-overload]  # pass-through

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    return started


def test_shipped_pack_passes_with_required_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case of the shipped pack passes and every rule has a failing and a passing case.  And
    `velro-policy test` scans every case's Python files in one Semgrep start: each case takes its
    files' slice, and the verdicts are those of a per-case scan (the pack's expected lines are the
    proof of equality).  One run for both claims: the pack's run is the suite's longest Semgrep scan."""
    started = semgrep_starts(monkeypatch)
    res = cli(["test", str(REPO / "policies"), "--require-coverage"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0 failed" in res.stdout
    assert "MISS" not in res.stdout
    code_cases = [line for line in res.stdout.splitlines() if line.startswith("ok   ") and "/velro/code" in line]
    assert len(code_cases) >= 10, res.stdout
    assert len(started) == 1, started


def _drop_failing_cases(pack: Path, rule_id: str) -> None:
    """Remove every expectation that ``rule_id`` fails, as a careless edit would."""
    from ruamel.yaml import YAML

    yaml = YAML()
    for test_file in pack.glob("*.test.yaml"):
        data = yaml.load(test_file.read_text())
        for case in list(data["cases"]):
            exp = case["expect"].get(rule_id)
            if exp is not None and (exp == "fail" or isinstance(exp, dict)):
                del case["expect"][rule_id]
                if not case["expect"]:
                    data["cases"].remove(case)
        with test_file.open("w") as fh:
            yaml.dump(data, fh)


def _env_matrix_pack(tmp_path: Path) -> Path:
    """The env-matrix policy and its tests alone (fast: no Semgrep)."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("env-matrix.yaml", "env-matrix.test.yaml"):
        shutil.copyfile(REPO / "policies" / "velro" / name, pack / name)
    return pack


def test_losing_a_failing_case_breaks_required_coverage(tmp_path: Path) -> None:
    pack = _env_matrix_pack(tmp_path)
    assert cli(["test", str(pack), "--require-coverage"]).returncode == 0
    _drop_failing_cases(pack, "velro/debug-disabled")
    res = cli(["test", str(pack), "--require-coverage"])
    assert res.returncode == 1, res.stdout + res.stderr
    assert "MISS velro/debug-disabled: fail=no pass=yes" in res.stdout
    assert "lack a failing or passing case: velro/debug-disabled" in res.stdout


def test_mismatch_is_reported_and_fails(tmp_path: Path) -> None:
    pack = _env_matrix_pack(tmp_path)
    write(pack / "wrong.test.yaml", """\
apiVersion: velro-policy/v1
kind: PolicyTest
cases:
  - name: claims DEBUG=true passes
    environment: production
    env: "DEBUG=true\\n"
    expect:
      velro/debug-disabled: pass
""")
    res = cli(["test", str(pack)])
    assert res.returncode == 1
    assert "FAIL" in res.stdout and "expected pass, got fail at lines [1]" in res.stdout


def test_bad_test_file_is_exit_2_with_location(tmp_path: Path) -> None:
    pack = _env_matrix_pack(tmp_path)
    write(pack / "bad.test.yaml", "apiVersion: velro-policy/v1\nkind: PolicyTest\ncases:\n  - name: x\n    env: 'A=1'\n    expect: {velro/debug-disabled: maybe}\n")
    res = cli(["test", str(pack)])
    assert res.returncode == 2
    assert "bad.test.yaml:6" in res.stderr and "Traceback" not in res.stderr
