"""The built-in code rules on real FastAPI snippets, with the real semgrep binary.

Every fixture under tests/fixtures/code/ marks the lines where a finding must
be reported with ``# expect: <rule id>[, <rule id>]``; every other line of
every fixture must stay quiet (near-misses: comments, strings, docstrings,
``# nosemgrep``, ``uvicorn.run(reload=True)`` under ``if __name__ ==
"__main__":``, settings-driven values, safe variants).  All fixtures are
checked in ONE ``velro-policy check`` run (one Semgrep process), shared by the
tests of this module.
"""
from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest

from conftest import REPO, cli, semgrep_once

FIXTURES = REPO / "tests" / "fixtures" / "code"
EXPECT = re.compile(r"#\s*expect:\s*(.+)$")
SECRET_LITERALS = ("my-super-secret-jwt-key", "literal-key-in-code")


def expected_findings() -> set[tuple[str, int, str]]:
    out = set()
    for path in sorted(FIXTURES.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = EXPECT.search(line)
            if m:
                out.update((f"app/{path.name}", number, rid.strip()) for rid in m.group(1).split(",") if rid.strip())
    return out


def shipped_code_rules() -> dict[str, dict[str, Any]]:
    from ruamel.yaml import YAML

    rules = {}
    for policy in sorted((REPO / "policies" / "velro").glob("code-*.yaml")):
        if policy.name.endswith((".test.yaml", ".semgrep.yaml")):
            continue
        data = YAML(typ="safe").load(policy.read_text(encoding="utf-8"))
        assert data["target"] == "code", policy
        for rule in data["rules"]:
            rules[rule["id"]] = rule
    return rules


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One check of a project holding every fixture (app/) plus a test file (excluded by default)."""
    project = tmp_path_factory.mktemp("code-project")
    shutil.copytree(FIXTURES, project / "app")
    (project / "tests").mkdir()
    (project / "tests" / "test_auth.py").write_text(
        'def test_mock():\n    assert "mock_token_1".startswith("mock_token_")\n', encoding="utf-8")
    cache = tmp_path_factory.mktemp("cache")
    env = {"VELRO_POLICY_CACHE_DIR": str(cache)}
    monkeypatch = pytest.MonkeyPatch()
    scans = semgrep_once(monkeypatch)  # the two runs differ in the output format only: one real Semgrep scan
    try:
        res_json = cli(["check", ".", "--target", "code", "--format", "json"], cwd=project, env=env)
        text = cli(["check", ".", "--target", "code", "--format", "text", "--no-color"], cwd=project, env=env)
    finally:
        monkeypatch.undo()
    assert len(scans) == 1, scans
    return {"json": res_json, "data": json.loads(res_json.stdout), "text": text, "project": project}


def test_every_rule_fires_exactly_on_its_annotated_lines(scan: dict[str, Any]) -> None:
    got = {(f["path"], f["line"], f["rule_id"]) for f in scan["data"]["findings"]}
    want = expected_findings()
    assert sorted(want - got) == [], "expected findings that were not reported"
    assert sorted(got - want) == [], "findings on lines that must stay quiet"
    assert scan["json"].returncode == 1, scan["json"].stderr
    assert scan["data"]["problems"] == []


def test_every_shipped_code_rule_has_a_positive_fixture() -> None:
    annotated = {rid for _, _, rid in expected_findings()}
    assert sorted(set(shipped_code_rules()) - annotated) == []
    assert sorted(annotated - set(shipped_code_rules())) == []


def test_near_miss_file_is_quiet_and_nosemgrep_is_honoured(scan: dict[str, Any]) -> None:
    near = FIXTURES / "near_misses.py"
    assert "# nosemgrep" in near.read_text(encoding="utf-8")
    assert [f for f in scan["data"]["findings"] if f["path"] == "app/near_misses.py"] == []
    checked = {f["path"] for f in scan["data"]["files"] if f["target"] == "code"}
    assert "app/near_misses.py" in checked  # quiet because it was judged, not because it was skipped


def test_test_files_are_not_scanned_by_default(scan: dict[str, Any]) -> None:
    checked = {f["path"] for f in scan["data"]["files"]}
    assert "tests/test_auth.py" not in checked
    assert all(not f["path"].startswith("tests/") for f in scan["data"]["findings"])


def test_findings_carry_policy_data_and_guide_severities(scan: dict[str, Any]) -> None:
    rules = shipped_code_rules()
    for f in scan["data"]["findings"]:
        rule = rules[f["rule_id"]]
        assert f["title"] == rule["title"]
        assert f["remediation"] == rule["remediation"].strip()
        assert f["col"] >= 1 and f["fingerprint"]
        if f["rule_id"] == "velro/code-rate-limit-login" and f["line"] == 77:
            assert f["severity"] == "low" and "cannot verify" in f["message"]  # a setting, not a literal
        else:
            assert f["severity"] == rule["severity"], f
    sev = {f["rule_id"]: f["severity"] for f in scan["data"]["findings"]}
    assert sev["velro/code-cors-wildcard"] == "critical"
    assert sev["velro/code-auth-mock-token"] == "critical"
    assert sev["velro/code-jwt-verify-disabled"] == "critical"
    assert sev["velro/code-fastapi-debug"] == "critical"
    assert sev["velro/code-rate-limit-api"] == "high"
    assert sev["velro/code-error-detail-leak"] == "medium"


def test_messages_read_as_code_findings(scan: dict[str, Any]) -> None:
    by = {(f["rule_id"], f["line"]): f["message"] for f in scan["data"]["findings"]}
    assert by[("velro/code-rate-limit-login", 11)] == (
        "the login route '/auth/login' (`login`) is limited to '10/minute'; the guide allows at most 3/hour")
    assert by[("velro/code-header-frame-options", 7)] == "X-Frame-Options is set to 'SAMEORIGIN'; the guide requires DENY"
    assert "`settings.DEVELOPMENT_MODE`" in by[("velro/code-auth-dev-bypass", 15)]
    assert all("forbidden" not in m and "$" not in m for m in by.values())
    assert "app/limits_app.py:11:1: high velro/code-rate-limit-login:" in scan["text"].stdout


def test_secret_literals_never_appear_in_output(scan: dict[str, Any]) -> None:
    for out in (scan["json"].stdout, scan["text"].stdout, scan["json"].stderr, scan["text"].stderr):
        for literal in SECRET_LITERALS:
            assert literal not in out
    assert any(f["rule_id"] == "velro/code-jwt-hardcoded-key" for f in scan["data"]["findings"])


def test_identical_matches_in_one_file_get_distinct_fingerprints(scan: dict[str, Any]) -> None:
    same = [f for f in scan["data"]["findings"] if f["path"] == "app/cors.py" and f["line"] in (7, 24)]
    assert len(same) == 2 and same[0]["message"] == same[1]["message"]  # the same code twice
    prints = [f["fingerprint"] for f in scan["data"]["findings"]]
    assert len(prints) == len(set(prints))
