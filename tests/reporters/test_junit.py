"""JUnit XML (parsed with xml.etree) and GitHub workflow annotations."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import cli, write

SECRET = "Zq8vK2mP9xR4tY7wB3nL6cF1hJ5gD0sA8eU2iO4pQ"


def project(tmp_path: Path) -> Path:
    write(tmp_path / ".env.production",
          f"ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET={SECRET}\n"
          "ENABLE_DEBUG_ENDPOINTS=true # velro-policy: ignore[velro/debug-endpoints-disabled] admin VPN only\n")
    write(tmp_path / ".env.development", "ENVIRONMENT=development\nDEBUG=true\n")
    write(tmp_path / ".env.staging", "ENVIRONMENT=staging\nDEBUG='open\n")
    return tmp_path


def test_junit_one_case_per_rule_and_file_with_failures_skips_and_errors(tmp_path: Path) -> None:
    root = project(tmp_path)
    out = tmp_path / "report.xml"
    res = cli(["lint", ".", "--format", f"junit={out}"], cwd=root)
    assert res.returncode == 2, res.stderr  # .env.staging cannot be parsed
    suites = ET.parse(out).getroot()
    assert suites.tag == "testsuites"
    files = {s.get("name"): s for s in suites.findall("testsuite")}
    assert set(files) == {".env.production", ".env.development", ".env.staging"}
    prod = {c.get("name"): c for c in files[".env.production"].findall("testcase")}
    assert all(c.get("classname") == ".env.production" for c in prod.values())
    failure = prod["velro/debug-disabled"].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "DEBUG is 'true'" in failure.get("message", "")
    assert ".env.production:2:1" in (failure.text or "") and "fix: Set DEBUG=false" in (failure.text or "")
    skipped = prod["velro/debug-endpoints-disabled"].find("skipped")
    assert skipped is not None and "admin VPN only" in skipped.get("message", "")
    passing = prod["velro/emergency-auth-disabled"]
    assert list(passing) == []  # applied to the file, nothing wrong
    # development allows DEBUG: the rule does not apply to that file, so no case for it
    dev = {c.get("name") for c in files[".env.development"].findall("testcase")}
    assert "velro/debug-disabled" not in dev and "velro/emergency-auth-disabled" in dev
    errors = files[".env.staging"].findall("testcase/error")
    assert errors and errors[0].get("type") == "velro/parse-error"
    total = sum(int(s.get("tests", "0")) for s in files.values())
    assert suites.get("tests") == str(total) and int(suites.get("failures", "0")) >= 2
    assert int(suites.get("errors", "0")) == 1 and int(suites.get("skipped", "0")) == 1
    text = out.read_text(encoding="utf-8")
    assert SECRET not in text
    again = tmp_path / "again.xml"
    cli(["lint", ".", "--format", f"junit={again}"], cwd=root)
    assert again.read_bytes() == out.read_bytes()


def test_github_annotations(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".env.staging").unlink()
    res = cli(["lint", ".", "-f", "github"], cwd=root)
    assert res.returncode == 1, res.stderr
    lines = res.stdout.splitlines()
    debug = [line for line in lines if "velro/debug-disabled" in line]
    assert debug == [
        "::error file=.env.production,line=2,col=1,title=velro/debug-disabled (critical)::"
        "DEBUG is 'true'; must be false (production)%0Afix: Set DEBUG=false (set DEBUG=false in your platform's environment variables). "
        "Debug mode must never be true in production."
    ]
    assert not any("debug-endpoints-disabled" in line for line in lines if line.startswith("::error"))  # suppressed
    assert lines[-1].startswith("velro-policy: ") and "1 suppressed" in lines[-1]
    assert SECRET not in res.stdout


def test_github_escapes_commands(tmp_path: Path) -> None:
    from velro_policy.reporters.github import escape_data, escape_property

    assert escape_data("50%\nnext\r") == "50%25%0Anext%0D"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    # a file name with a comma and colon cannot break out of the property list
    write(tmp_path / "we,ird:name.env", "ENVIRONMENT=production\nDEBUG=true\n")
    res = cli(["lint", ".", "-f", "github"], cwd=tmp_path)
    assert "::error file=we%2Cird%3Aname.env,line=2" in res.stdout
