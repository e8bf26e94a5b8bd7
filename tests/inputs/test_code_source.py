"""The code source around Semgrep: one process per run, fail-closed errors,
user policies (inline and semgrep_file), scope, fingerprints.  Real semgrep
throughout; a counting wrapper (VELRO_POLICY_SEMGREP) only logs each start
and execs the real binary."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli, velro, write
from velro_policy.errors import ScanError
from velro_policy.inputs import code
from velro_policy.rules import Rule

REAL_SEMGREP = str(Path(sys.executable).parent / "semgrep")

APP = '''\
from fastapi import FastAPI

app = FastAPI(debug=True)


def handler(data):
    return eval(data)


def other(data):
    return compile(data, "x", "exec")
'''

USER_INLINE = '''\
apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/no-eval, title: No eval}
target: code
rules:
  - id: acme/no-eval
    title: No eval on input
    severity: high
    message: eval() runs $ARG as code
    remediation: Parse the input instead.
    semgrep:
      pattern: eval($ARG)
'''

USER_FILE = '''\
apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/no-compile, title: No compile}
target: code
rules:
  - id: acme/no-compile
    title: No compile() of input
    severity: medium
    remediation: Do not compile input.
    semgrep_file: rules/compile.semgrep.yaml
'''

SEMGREP_FILE = '''\
rules:
  - id: compile-call
    message: ignored (velro uses the rule's title)
    severity: ERROR
    languages: [python]
    pattern: compile(...)
'''


def counting_shim(folder: Path, target: str = REAL_SEMGREP, extra: str = "") -> tuple[Path, Path]:
    """A wrapper that appends one line per start to a log, then runs the real semgrep."""
    log = folder / "semgrep-starts.log"
    shim = folder / "semgrep-shim"
    shim.write_text(f'#!/bin/sh\necho start >> "{log}"\nexec "{target}" {extra} "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return shim, log


def starts(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(root / "app" / "main.py", APP)
    write(root / "tests" / "test_main.py", "from app.main import app\napp2 = FastAPI(debug=True)\n")
    write(root / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    write(root / "policies" / "no-eval.yaml", USER_INLINE)
    write(root / "policies" / "no-compile.yaml", USER_FILE)
    write(root / "policies" / "rules" / "compile.semgrep.yaml", SEMGREP_FILE)
    write(root / "velro-policy.yaml", "policies: [policies]\ncode_exclude: []\n")
    write(root / "app" / "generated.py", APP)  # ignored by git: not part of the project
    write(root / ".gitignore", "app/generated.py\n")
    subprocess.run(["git", "init", "-q", "."], cwd=root, check=True)
    return root


def test_one_semgrep_process_per_run_whatever_the_number_of_code_policies(project: Path, tmp_path: Path) -> None:
    shim, log = counting_shim(tmp_path)
    env = {"VELRO_POLICY_SEMGREP": str(shim)}
    res = cli(["check", ".", "--format", "json"], cwd=project, env=env)
    assert res.returncode == 1, res.stderr
    assert starts(log) == 1  # 7 built-in code policies + 2 user policies, env and code together
    data = json.loads(res.stdout)
    got = {(f["path"], f["line"], f["rule_id"]) for f in data["findings"]}
    assert ("app/main.py", 3, "velro/code-fastapi-debug") in got
    assert ("app/main.py", 7, "acme/no-eval") in got  # inline user rule
    assert ("app/main.py", 11, "acme/no-compile") in got  # rule from a semgrep_file
    assert ("tests/test_main.py", 2, "velro/code-fastapi-debug") in got  # code_exclude: [] scans tests
    assert any(f["path"] == ".env.production" for f in data["findings"])  # env rules in the same report
    # .gitignore is respected by the code scan (the app model may still name an app object it creates)
    assert not any(f["path"] == "app/generated.py" and not f["rule_id"].startswith("velro/app-") for f in data["findings"])
    msg = {f["rule_id"]: f["message"] for f in data["findings"]}
    assert msg["acme/no-eval"] == "eval() runs `data` as code"
    assert msg["acme/no-compile"] == "No compile() of input"

    # Semgrep is not started when no Python file or no code rule is in scope.
    assert cli(["lint", ".env.production"], cwd=project, env=env).returncode == 1
    assert cli(["check", ".", "--target", "env"], cwd=project, env=env).returncode == 1
    assert cli(["check", ".", "--only", "velro/debug*"], cwd=project, env=env).returncode in (0, 1)
    assert starts(log) == 1

    # --target code: only code findings.
    only_code = cli(["check", ".", "--target", "code", "--format", "json"], cwd=project, env=env)
    assert starts(log) == 2
    code_findings = json.loads(only_code.stdout)["findings"]
    assert code_findings and all(f["path"].endswith(".py") for f in code_findings)
    before = {f["rule_id"]: (f["fingerprint"], f["line"]) for f in code_findings if f["path"] == "app/main.py"}

    # Fingerprints do not depend on line numbers.
    main = project / "app" / "main.py"
    main.write_text("\n\n\n" + main.read_text())
    moved = cli(["check", ".", "--target", "code", "--format", "json"], cwd=project, env=env)
    after = {f["rule_id"]: (f["fingerprint"], f["line"]) for f in json.loads(moved.stdout)["findings"] if f["path"] == "app/main.py"}
    assert set(after) == set(before)
    for rid, (fp, line) in before.items():
        assert after[rid] == (fp, line + 3)

    # A file git ignores is still scanned when it is named on the command line.
    named = cli(["lint", "app/generated.py", "--format", "json"], cwd=project, env=env)
    assert any(f["path"] == "app/generated.py" for f in json.loads(named.stdout)["findings"])


def test_semgrep_missing_is_exit_2_with_one_line(project: Path, tmp_path: Path) -> None:
    """A Python whose folder has no semgrep, and a PATH without one."""
    import site as site_mod

    if sys.prefix == sys.base_prefix:
        pytest.skip("needs the test run to happen in a virtualenv (as .ci/run does)")
    venv = tmp_path / "bare"
    (venv / "bin").mkdir(parents=True)
    real = os.path.realpath(sys.executable)
    (venv / "pyvenv.cfg").write_text(f"home = {os.path.dirname(real)}\ninclude-system-site-packages = false\n")
    (venv / "bin" / "python").symlink_to(real)
    site = Path(site_mod.getsitepackages()[0])  # holds velro-policy's (editable) install and its dependencies
    lib = venv / "lib" / site.parent.name
    lib.mkdir(parents=True)
    (lib / "site-packages").symlink_to(site)
    env = {k: v for k, v in os.environ.items() if k != "VELRO_POLICY_SEMGREP"}
    env["PATH"] = "/usr/bin:/bin"
    assert shutil.which("semgrep", path=env["PATH"]) is None
    run = lambda *args: subprocess.run([str(venv / "bin" / "python"), "-m", "velro_policy", *args],  # noqa: E731
                                       cwd=project, env=env, capture_output=True, text=True, timeout=120)
    res = run("check", ".", "--target", "code")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "semgrep" in lines[0] and "PATH" in lines[0] and "pip install" in lines[0]
    # Env files never need semgrep.
    assert run("lint", ".env.production").returncode == 1


def test_semgrep_override_that_is_not_executable_is_exit_2(project: Path, tmp_path: Path) -> None:
    res = cli(["check", ".", "--target", "code"], cwd=project, env={"VELRO_POLICY_SEMGREP": str(tmp_path / "nope")})
    assert res.returncode == 2
    assert "VELRO_POLICY_SEMGREP" in res.stderr and "Traceback" not in res.stderr


BROKEN = '''\
apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/broken, title: Broken}
target: code
rules:
  - id: acme/fine
    title: Fine
    severity: low
    remediation: x
    semgrep:
      pattern: print(...)
  - id: acme/broken
    title: Broken
    severity: low
    remediation: x
    semgrep:
      %s
'''


@pytest.mark.parametrize("body,why", [
    ('pattern: "foo("', "pattern that does not parse"),
    ("patterns: not-a-list", "body that breaks Semgrep's rule schema"),
])
def test_broken_semgrep_rule_in_a_user_policy_names_the_policy_file(project: Path, body: str, why: str) -> None:
    write(project / "policies" / "broken.yaml", BROKEN % body)
    res = cli(["check", ".", "--target", "code"], cwd=project)
    assert res.returncode == 2, why
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "policies/broken.yaml:12" in lines[0] and "acme/broken" in lines[0] and "semgrep" in lines[0]


@pytest.mark.parametrize("rule,expected", [
    ("    select: DEBUG\n    check: {equals: x}\n    semgrep: {pattern: x}\n", "names Semgrep metavariables"),
    ("    semgrep_file: missing.semgrep.yaml\n", "does not exist"),
    ("    semgrep: {pattern: x}\n    semgrep_file: x.semgrep.yaml\n", "broken.yaml:"),
    ("    semgrep: {languages: [python]}\n", "needs a pattern"),
])
def test_invalid_code_rules_are_policy_errors_before_semgrep_runs(project: Path, tmp_path: Path, rule: str, expected: str) -> None:
    shim, log = counting_shim(tmp_path)
    write(project / "policies" / "broken.yaml",
          "apiVersion: velro-policy/v1\nkind: Policy\nmetadata: {name: acme/b, title: B}\ntarget: code\nrules:\n"
          "  - id: acme/b\n    title: B\n    severity: low\n    remediation: x\n" + rule)
    res = cli(["check", ".", "--target", "code"], cwd=project, env={"VELRO_POLICY_SEMGREP": str(shim)})
    assert res.returncode == 2
    assert "broken.yaml" in res.stderr and expected in res.stderr and "Traceback" not in res.stderr
    assert starts(log) == 0


def test_file_semgrep_cannot_parse_is_exit_2_naming_it(project: Path) -> None:
    write(project / "app" / "broken.py", "def f(:\n    return 1\n\nx = = 2\n")
    res = cli(["check", ".", "--target", "code", "--format", "json"], cwd=project)
    assert res.returncode == 2
    problems = json.loads(res.stdout)["problems"]
    assert [p["path"] for p in problems] == ["app/broken.py"]
    assert "semgrep" in problems[0]["message"] and "exclude" in problems[0]["message"]


def test_semgrep_failing_without_a_report_is_exit_2(project: Path, tmp_path: Path) -> None:
    shim, _ = counting_shim(tmp_path, extra="--no-such-option")  # the real binary, refusing its arguments
    res = cli(["check", ".", "--target", "code"], cwd=project, env={"VELRO_POLICY_SEMGREP": str(shim)})
    assert res.returncode == 2
    assert "semgrep failed" in res.stderr and "Traceback" not in res.stderr


def test_timeout_stops_semgrep_and_exits_2(project: Path, tmp_path: Path) -> None:
    write(project / "velro-policy.yaml", "policies: [policies]\nsemgrep_timeout: 1\n")
    slow = tmp_path / "slow-semgrep"
    slow.write_text(f'#!/bin/sh\nsleep 20\nexec "{REAL_SEMGREP}" "$@"\n')
    slow.chmod(0o755)
    import time

    began = time.monotonic()
    res = velro(["check", ".", "--target", "code"], cwd=project, env={"VELRO_POLICY_SEMGREP": str(slow)})
    assert time.monotonic() - began < 15  # the whole process group was stopped, not waited for
    assert res.returncode == 2
    assert "did not finish within 1 s" in res.stderr and "semgrep_timeout" in res.stderr


def test_semgrep_version_range() -> None:
    code._check_version("1.185.0")
    code._check_version("1.80.0")
    for bad in ("1.79.9", "2.0.0", "0.120.1", "unknown"):
        with pytest.raises(ScanError):
            code._check_version(bad)


def test_semgrep_next_to_python_is_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VELRO_POLICY_SEMGREP", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert code.find_semgrep() == REAL_SEMGREP


def test_claims_python_files_minus_test_files() -> None:
    cfg: dict[str, object] = {}
    assert code.claims("app/main.py", False, cfg)
    assert not code.claims("app/main.pyi", False, cfg)
    assert not code.claims(".env", True, cfg)
    for test_file in ("tests/test_api.py", "app/tests/helpers.py", "app/test_api.py", "app/api_test.py", "conftest.py"):
        assert not code.claims(test_file, True, cfg), test_file
    assert code.claims("tests/test_api.py", False, {"code_exclude": []})
    assert code.claims("app/contest.py", False, cfg)


def test_file_list_is_one_batch_unless_it_overflows_a_command_line() -> None:
    few = [f"app/m{i}.py" for i in range(2000)]
    assert code._batches(few) == [few]
    many = [f"app/{'x' * 200}/{i}.py" for i in range(10000)]  # ~2 MB of arguments
    batches = code._batches(many)
    assert len(batches) == 3 and sum(batches, []) == many
    assert all(sum(len(p) + 1 for p in b) <= code.ARG_BYTES for b in batches)


def test_build_config_ids_follow_rule_ids_and_map_back() -> None:
    rules = [
        Rule(id="velro/code-x", title="x", severity="high", target="code", semgrep={"pattern": "x()"}, message="bad $A and $B",
             select=("$LIMIT",)),
        Rule(id="acme/y.z", title="y", severity="high", target="code",
             semgrep={"pattern": "y()", "id": "ignored", "message": "ignored", "severity": "INFO"}),
    ]
    config, by_id = code.build_config(rules)
    assert [c["id"] for c in config] == ["velro.code-x", "acme.y.z"]
    assert config[0]["message"] == "m\x1e$A\x1e$B\x1e$LIMIT" and config[0]["languages"] == ["python"]
    assert config[1]["severity"] == "WARNING" and config[1]["message"] == "m"
    assert code._rule_of("tmp.velro-semgrep-abc.velro.code-x", by_id) is rules[0]
    assert code._rule_of("acme.y.z", by_id) is rules[1]
    assert code._rule_of("tmp.other.rule", by_id) is None


def test_code_scan_needs_no_network(tmp_path: Path) -> None:
    """In a network namespace with no interface up, the scan still runs (metrics and version check off)."""
    unshare = shutil.which("unshare")
    if not unshare or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare -n (root or user namespaces)")
    write(tmp_path / "app" / "main.py", APP)
    res = subprocess.run([unshare, "-n", sys.executable, "-m", "velro_policy", "check", ".", "--target", "code", "--format", "json"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    assert {f["rule_id"] for f in json.loads(res.stdout)["findings"]} == {"velro/code-fastapi-debug"}
