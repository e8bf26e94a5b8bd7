"""Baseline round trip: create; lines inserted above stay baselined; only a new
violation fails; a fixed one is reported fixed.  Never a value in the file."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import cli, write

SECRET = "Zq8vK2mP9xR4tY7wB3nL6cF1hJ5gD0sA8eU2iO4pQ"
ENV = ("ENVIRONMENT=production\nDEBUG=false\nENABLE_DEBUG_ENDPOINTS=true\n"
       f"AUTH_RATE_LIMIT_LOGIN=1000/minute\nSUPABASE_SERVICE_ROLE_KEY={SECRET}\n")


def run_json(root: Path, *extra: str, cwd: Path | None = None) -> tuple[int, dict]:
    res = cli(["check", str(root) if cwd else ".", "-f", "json", *extra], cwd=cwd or root)
    assert res.returncode in (0, 1), res.stderr
    return res.returncode, json.loads(res.stdout)


def active(doc: dict) -> list[tuple[str, int]]:
    return sorted((f["rule_id"], f["line"]) for f in doc["findings"] if not f["suppressed"])


def test_round_trip(tmp_path: Path) -> None:
    env = write(tmp_path / ".env.production", ENV)
    rc, before = run_json(tmp_path)
    assert rc == 1 and len(active(before)) >= 2
    res = cli(["baseline", "create"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    base = tmp_path / ".velro-policy-baseline.json"
    data = json.loads(base.read_text(encoding="utf-8"))
    assert {e["rule_id"] for e in data["entries"]} == {r for r, _ in active(before)}
    assert all(set(e) == {"fingerprint", "rule_id", "path"} and e["path"] == ".env.production" for e in data["entries"])
    assert SECRET not in base.read_text(encoding="utf-8") and SECRET[:6] not in base.read_text(encoding="utf-8")

    # 1. everything known: the run passes, findings are shown as suppressed by the baseline
    rc, doc = run_json(tmp_path, "--baseline", str(base))
    assert rc == 0 and active(doc) == []
    assert {f["suppressed"] for f in doc["findings"]} == {"baseline"}

    # 2. lines inserted above: still baselined (fingerprints ignore line numbers)
    env.write_text("# moved down\nAPP_NAME=velro\nLOG_LEVEL=info\n" + ENV, encoding="utf-8")
    rc, doc = run_json(tmp_path, "--baseline", str(base))
    assert rc == 0 and active(doc) == []
    assert min(f["line"] for f in doc["findings"]) >= 4

    # 3. a new violation: only it fails
    env.write_text(env.read_text(encoding="utf-8") + "VERBOSE_ERROR_MESSAGES=true\n", encoding="utf-8")
    rc, doc = run_json(tmp_path, "--baseline", str(base))
    assert rc == 1 and active(doc) == [("velro/verbose-errors-disabled", 9)]
    assert doc["fixed"] == []

    # 4. an old violation fixed: reported as fixed
    env.write_text(env.read_text(encoding="utf-8").replace("ENABLE_DEBUG_ENDPOINTS=true", "ENABLE_DEBUG_ENDPOINTS=false"), encoding="utf-8")
    res = cli(["check", ".", "--baseline", str(base)], cwd=tmp_path)
    assert res.returncode == 1
    assert "fixed since the baseline" in res.stdout and "velro/debug-endpoints-disabled in .env.production" in res.stdout
    rc, doc = run_json(tmp_path, "--baseline", str(base))
    assert [e["rule_id"] for e in doc["fixed"]] == ["velro/debug-endpoints-disabled"]


def test_baseline_matches_from_another_working_directory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "config" / ".env.production", ENV)
    assert cli(["baseline", "create"], cwd=project).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = cli(["check", str(project), "-f", "json", "--baseline", str(project / ".velro-policy-baseline.json")], cwd=elsewhere)
    assert res.returncode == 0, res.stdout
    assert json.loads(res.stdout)["fixed"] == []


def test_non_suppressible_findings_are_not_baselined(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\nENABLE_DEBUG_ENDPOINTS=true\n")
    res = cli(["baseline", "create"], cwd=tmp_path)
    assert res.returncode == 0 and "1 finding(s) of non-suppressible rules were not baselined" in res.stdout
    entries = json.loads((tmp_path / ".velro-policy-baseline.json").read_text())["entries"]
    assert [e["rule_id"] for e in entries] == ["velro/debug-endpoints-disabled"]
    rc, doc = run_json(tmp_path, "--baseline", ".velro-policy-baseline.json")
    assert rc == 1 and active(doc) == [("velro/debug-disabled", 2)]


def test_entries_of_files_not_checked_are_not_reported_fixed(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", ENV)
    write(tmp_path / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")
    assert cli(["baseline", "create"], cwd=tmp_path).returncode == 0
    res = cli(["lint", ".env.staging", "-f", "json", "--baseline", ".velro-policy-baseline.json"], cwd=tmp_path)
    assert res.returncode == 0 and json.loads(res.stdout)["fixed"] == []


def test_bad_baseline_files_exit_2_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", ENV)
    missing = cli(["check", ".", "--baseline", "nope.json"], cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "nope.json: baseline file not found; create it with `velro-policy baseline create`" in missing.stderr
    write(tmp_path / "broken.json", '{"version": 1,\n "entries": [}\n')
    broken = cli(["check", ".", "--baseline", "broken.json"], cwd=tmp_path)
    assert broken.returncode == 2 and "broken.json:2:" in broken.stderr and "Traceback" not in broken.stderr
    write(tmp_path / "other.json", '{"results": []}')
    other = cli(["check", ".", "--baseline", "other.json"], cwd=tmp_path)
    assert other.returncode == 2 and "not a velro-policy baseline" in other.stderr


def test_baselined_findings_are_external_suppressions_in_sarif(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", ENV)
    assert cli(["baseline", "create"], cwd=tmp_path).returncode == 0
    res = cli(["check", ".", "-f", "sarif", "--baseline", ".velro-policy-baseline.json"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout)["runs"][0]["results"]
    assert results and all(r["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "baseline"}]
                           for r in results)


# -- one adoption policy: every entry finds the same baseline by itself --------------------------


def _repo_with_baseline(root: Path) -> Path:
    import subprocess

    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    env = write(root / "svc" / ".env.production", NO_SECRET)
    assert cli(["baseline", "create", "."], cwd=root).returncode == 0
    return env


NO_SECRET = ENV.replace(f"SUPABASE_SERVICE_ROLE_KEY={SECRET}\n", "")  # staged, a real secret is critical and never baselined


def test_the_projects_baseline_is_used_without_a_flag_and_counted_not_listed(tmp_path: Path) -> None:
    env = _repo_with_baseline(tmp_path)
    for args, cwd in ((["check", "."], tmp_path), (["lint", "svc/.env.production"], tmp_path),
                      (["lint", ".env.production"], tmp_path / "svc"), (["check", "--staged"], tmp_path)):
        if "--staged" in args:
            import subprocess

            subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True, capture_output=True)
        res = cli([*args, "--target", "env"], cwd=cwd)
        assert res.returncode == 0, (args, res.stdout, res.stderr)
        assert "suppressed (2 by the baseline), not listed: --show-suppressed lists them" in res.stdout, (args, res.stdout)
        assert "velro/rate-limit" not in res.stdout  # counted, not listed
    listed = cli(["check", ".", "--target", "env", "--show-suppressed"], cwd=tmp_path)
    assert "(suppressed: baseline)" in listed.stdout
    env.write_text(NO_SECRET + "VERBOSE_ERROR_MESSAGES=true\n")  # a new finding fails through the same baseline
    res = cli(["check", ".", "--target", "env"], cwd=tmp_path)
    assert res.returncode == 1 and "velro/verbose-errors-disabled" in res.stdout


def test_baseline_create_starts_from_scratch_and_update_says_what_changed(tmp_path: Path) -> None:
    env = _repo_with_baseline(tmp_path)
    base = tmp_path / ".velro-policy-baseline.json"
    first = json.loads(base.read_text())["entries"]
    assert cli(["baseline", "create", "."], cwd=tmp_path).returncode == 0  # not emptied by the baseline in use
    assert json.loads(base.read_text())["entries"] == first
    env.write_text(NO_SECRET.replace("ENABLE_DEBUG_ENDPOINTS=true\n", "") + "VERBOSE_ERROR_MESSAGES=true\n")
    res = cli(["baseline", "update", "--target", "env", "."], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "1 added, 1 dropped (fixed), 1 kept" in res.stdout
    assert {e["rule_id"] for e in json.loads(base.read_text())["entries"]} >= {"velro/verbose-errors-disabled"}


def test_the_configs_baseline_and_inline_ignores_keys(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", ENV)
    (tmp_path / "security").mkdir()
    assert cli(["baseline", "create", "-o", "security/known.json", "."], cwd=tmp_path).returncode == 0
    write(tmp_path / "velro-policy.yaml", "baseline: security/known.json\n")
    res = cli(["check", ".", "--target", "env"], cwd=tmp_path)
    assert res.returncode == 0 and "by the baseline" in res.stdout, res.stdout + res.stderr
    write(tmp_path / "velro-policy.yaml", "baseline: security/missing.json\n")
    res = cli(["check", ".", "--target", "env"], cwd=tmp_path)
    assert res.returncode == 2 and "does not exist" in res.stderr
    write(tmp_path / "velro-policy.yaml", "baseline: false\n")
    assert cli(["check", ".", "--target", "env"], cwd=tmp_path).returncode == 1
    ignored = ENV.replace("ENABLE_DEBUG_ENDPOINTS=true\n",
                          "ENABLE_DEBUG_ENDPOINTS=true  # velro-policy: ignore[velro/debug-endpoints-disabled] reason: internal only\n")
    write(tmp_path / ".env.production", ignored)
    write(tmp_path / "velro-policy.yaml", "baseline: false\ninline_ignores: false\n")
    res = cli(["check", ".", "--target", "env", "-f", "json"], cwd=tmp_path)
    assert any("inline_ignores: false" in n for n in json.loads(res.stdout)["notes"])
