"""Output formats: text, json (schema-valid, deterministic), and no secret in any format."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, cli, velro, write
from velro_policy.reporters import REPORTERS

SECRET = "Zq7Kx2Vm9Lp4Rt8Wn3Bc6Hd1Fg5Jk0Ys"  # 32 chars: too short for production
TEMPLATE_SECRET = "q8Zt3VnR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Zb7Ck0Dm2Fn5Hp8Jr1"
ORIGIN_SECRET = "https://s3cr3t-internal-host.example"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    write(tmp_path / ".env.production",
          f"ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET={SECRET}\nALLOWED_ORIGINS=[\"*\"]\nDATABASE_URL=postgres://app:{SECRET}@db:5432/app\n")
    write(tmp_path / ".env.example", f"JWT_SECRET={TEMPLATE_SECRET}\n")
    write(tmp_path / ".env.staging", f"JWT_SECRET={SECRET[:8]}\nAUTH_RATE_LIMIT_LOGIN={SECRET}\n")
    return tmp_path


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_no_secret_value_in_any_format(project: Path, fmt: str, tmp_path: Path) -> None:
    out_file = tmp_path / f"out.{fmt}"
    res = cli(["lint", str(project), "--format", fmt, "--format", f"{fmt}={out_file}"])
    assert res.returncode == 1, res.stderr
    blob = res.stdout + res.stderr + out_file.read_text()
    for secret in (SECRET, TEMPLATE_SECRET, SECRET[:8]):
        assert secret not in blob, f"{fmt} leaked a secret"
    assert "JWT_SECRET" in blob  # the key is named


def test_no_secret_in_explain_or_verbose_errors(project: Path) -> None:
    res = cli(["explain", "velro/jwt-secret-strength"])
    assert res.returncode == 0 and SECRET not in res.stdout
    (project / "broken.env").write_text(f'JWT_SECRET="{SECRET}\n')
    res = cli(["lint", str(project / "broken.env")])
    assert res.returncode == 2
    assert SECRET not in res.stdout + res.stderr


def test_text_format(project: Path) -> None:
    res = cli(["lint", str(project / ".env.production"), "--skip", "velro/project-*"], env={"NO_COLOR": "1"})
    lines = res.stdout.splitlines()
    assert lines[0].endswith(".env.production  [production: key ENVIRONMENT]")
    assert any(":2:1: critical velro/debug-disabled: DEBUG is 'true'" in line for line in lines)
    assert any(":3:1: critical velro/jwt-secret-strength: JWT_SECRET is 32 characters long" in line for line in lines)
    assert "\033[" not in res.stdout
    assert lines[-1] == "3 findings (3 critical) in 1 of 1 file checked"


def test_text_colour_only_when_forced_or_tty(project: Path) -> None:
    res = velro(["lint", str(project / ".env.production"), "--color"])
    assert "\033[" in res.stdout
    res = velro(["lint", str(project / ".env.production")])  # a pipe, not a TTY
    assert "\033[" not in res.stdout


def test_json_validates_and_is_deterministic(project: Path) -> None:
    import jsonschema

    schema = json.loads((REPO / "schemas" / "findings.schema.json").read_text())
    first = cli(["lint", str(project), "--format", "json"])
    second = cli(["lint", str(project), "--format", "json"])
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    jsonschema.validate(data, schema)
    assert data["summary"]["findings"] == len(data["findings"]) > 0
    debug = next(f for f in data["findings"] if f["rule_id"] == "velro/debug-disabled")
    assert (debug["line"], debug["col"], debug["key"], debug["environment"]) == (2, 1, "DEBUG", "production")
    assert debug["remediation"] and debug["fingerprint"]


def test_fingerprint_ignores_unrelated_line_moves(project: Path) -> None:
    args = ["lint", str(project / ".env.production"), "-f", "json", "--skip", "velro/project-*"]
    before = json.loads(cli(args).stdout)
    text = (project / ".env.production").read_text()
    (project / ".env.production").write_text("# a new comment\nLOG_LEVEL=info\n" + text)
    after = json.loads(cli(args).stdout)
    assert {f["fingerprint"] for f in before["findings"]} == {f["fingerprint"] for f in after["findings"]}
    assert [f["line"] for f in after["findings"]] == [f["line"] + 2 for f in before["findings"]]


def test_gitlab_code_quality_format(project: Path) -> None:
    """GitLab Code Quality: an array of issues with the fields GitLab reads, a severity of its
    scale, a unique fingerprint each, and inputs that could not be checked as blockers."""
    (project / "broken.env").write_text('JWT_SECRET="unterminated\n')
    res = cli(["lint", str(project), "--format", "gitlab"])
    assert res.returncode == 2, res.stderr
    issues = json.loads(res.stdout)
    assert issues and all(set(i) >= {"description", "check_name", "fingerprint", "severity", "location"} for i in issues)
    assert {i["severity"] for i in issues} <= {"info", "minor", "major", "critical", "blocker"}
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    debug = [i for i in issues if i["check_name"] == "velro/debug-disabled"]
    assert debug[0]["severity"] == "blocker" and debug[0]["location"]["lines"]["begin"] == 2
    assert debug[0]["location"]["path"].endswith(".env.production")
    broken = [i for i in issues if i["check_name"] == "velro/could-not-check"]
    assert broken and broken[0]["location"]["path"].endswith("broken.env") and broken[0]["severity"] == "blocker"


def test_unknown_format_is_a_usage_error(project: Path) -> None:
    res = cli(["lint", str(project), "--format", "gitlabx"])
    assert res.returncode == 2
    assert "unknown format 'gitlabx'" in res.stderr and "gitlab" in res.stderr and "unexpected" not in res.stderr
