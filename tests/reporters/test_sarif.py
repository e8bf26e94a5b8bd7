"""SARIF 2.1.0 output: valid against the official schema, rules and results complete,
paths relative to the scanned root, stable fingerprints, byte-deterministic."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO, cli, write

SCHEMA = json.loads((REPO / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SECRET = "Zq8vK2mP9xR4tY7wB3nL6cF1hJ5gD0sA8eU2iO4pQ"


def validate(doc: dict) -> None:
    cls = jsonschema.validators.validator_for(SCHEMA)
    errors = sorted(cls(SCHEMA).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    write(root / "deploy" / ".env.production",
          "ENVIRONMENT=production\nDEBUG=true\n"
          "# velro-policy: ignore[velro/debug-endpoints-disabled] only reachable from the admin VPN\n"
          f"ENABLE_DEBUG_ENDPOINTS=true\nJWT_SECRET={SECRET}\n")
    write(root / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true # velro-policy: ignore[velro/verbose-errors-disabled]\n")
    write(root / ".env.broken", "ENVIRONMENT=production\nDEBUG='unterminated\n")
    return root


def sarif(project: Path, tmp_path: Path) -> tuple[dict, str]:
    out = tmp_path / "out.sarif"
    res = cli(["check", str(project), "--format", "text", "--format", f"sarif={out}"], cwd=tmp_path)
    assert res.returncode in (1, 2), res.stderr
    assert "velro/debug-disabled" in res.stdout  # the text format went to the terminal at the same time
    text = out.read_text(encoding="utf-8")
    return json.loads(text), text


def test_sarif_is_valid_against_the_official_schema(project: Path, tmp_path: Path) -> None:
    doc, _ = sarif(project, tmp_path)
    validate(doc)
    assert doc["version"] == "2.1.0"


def test_rules_carry_descriptions_help_and_security_severity(project: Path, tmp_path: Path) -> None:
    doc, _ = sarif(project, tmp_path)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    debug = rules["velro/debug-disabled"]
    assert debug["name"] == "VelroDebugDisabled"
    assert debug["shortDescription"]["text"] == "DEBUG is false outside development"
    assert debug["fullDescription"]["text"]
    assert "DEBUG=false" in debug["help"]["text"]
    assert debug["properties"]["security-severity"] == "9.5"
    assert "security" in debug["properties"]["tags"]
    assert rules["velro/debug-endpoints-disabled"]["properties"]["security-severity"] == "8.0"
    # velro-policy's own checks that produced a result are described too
    assert "velro/invalid-ignore" in rules and "velro/parse-error" in rules
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_results_locations_levels_fingerprints_and_suppressions(project: Path, tmp_path: Path) -> None:
    doc, text = sarif(project, tmp_path)
    run = doc["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    debug = by_rule["velro/debug-disabled"]
    loc = debug["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "deploy/.env.production", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 2
    assert debug["level"] == "error"
    assert len(debug["partialFingerprints"]["velroPolicy/v1"]) == 32
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert by_rule["velro/invalid-ignore"]["level"] == "warning"
    ignored = by_rule["velro/debug-endpoints-disabled"]
    assert ignored["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                        "justification": "inline ignore: only reachable from the admin VPN"}]
    assert "suppressions" not in debug
    assert run["invocations"][0]["executionSuccessful"] is False  # .env.broken could not be checked
    assert SECRET not in text and SECRET[4:-4] not in text


def test_fingerprints_do_not_move_with_lines_and_output_is_byte_deterministic(project: Path, tmp_path: Path) -> None:
    _, first = sarif(project, tmp_path)
    _, again = sarif(project, tmp_path)
    assert first == again
    env = project / "deploy" / ".env.production"
    env.write_text("# a new comment line\nAPP_NAME=velro\n" + env.read_text(encoding="utf-8"), encoding="utf-8")
    doc_before = json.loads(first)
    doc_after, _ = sarif(project, tmp_path)

    def prints(doc: dict) -> dict:
        return {(r["ruleId"], r["partialFingerprints"]["velroPolicy/v1"]): r["locations"][0]["physicalLocation"]["region"]["startLine"]
                for r in doc["runs"][0]["results"] if r["ruleId"] == "velro/debug-disabled"}

    before, after = prints(doc_before), prints(doc_after)
    assert before.keys() == after.keys()
    assert list(before.values()) == [2] and list(after.values()) == [4]


def test_clean_run_is_valid_sarif_with_no_results(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=false\n")
    res = cli(["lint", str(tmp_path / ".env.production"), "-f", "sarif"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    validate(doc)
    assert doc["runs"][0]["results"] == []
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) > 5
