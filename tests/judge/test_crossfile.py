"""Project-wide (cross-file) rules: whole-project runs, partial runs and the staged hook.

The fixture project: staging and production share a JWT secret, the
template misses a key production sets, and the development env file sets a
variable no settings field reads.  Exactly three project findings, each
naming both files involved, and the secret in no output of any format.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import NO_CODE, cli, write
from velro_policy.reporters import REPORTERS

SECRET = "hV3q9Zr0Lx7mKp2Nw5Tb8Yc1Fd4Gs6Jk0Ua3Ei9Oo7Pq2Rt5Sv8Wx1Yz4Ab7Cd0Ef3Gh6Ij9Kl2Mn5Op8Qr1St4Uv7Wx0Yz3Ab6Cd9Ef2Gh5Ij8Kl1Mn4Op7Qr0St3Uv6W"

SETTINGS = """\
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    environment: str = "production"
    debug: bool = False
    jwt_secret: str
    cors_origins: list[str] = []
    sentry_dsn: str = ""
"""


def make_project(root: Path) -> Path:
    write(root / ".env.example", """\
# Template: copy to .env.<environment>
ENVIRONMENT=development
DEBUG=false
JWT_SECRET=REPLACE_WITH_96_CHAR_SECRET
CORS_ORIGINS=["https://app.velro.example"]
""")
    write(root / ".env.production", f"""\
ENVIRONMENT=production
DEBUG=false
JWT_SECRET={SECRET}
CORS_ORIGINS=["https://app.velro.example"]
SENTRY_DSN=https://public@sentry.example/1
""")
    write(root / ".env.staging", f"""\
ENVIRONMENT=staging
DEBUG=false
# copied from production: the mistake
JWT_SECRET={SECRET}
CORS_ORIGINS=["https://staging.velro.example"]
""")
    write(root / ".env.development", """\
ENVIRONMENT=development
DEBUG=true
ALLOWED_ORIGINS=["http://localhost:3000"]
""")
    write(root / "app" / "config.py", SETTINGS)
    return root


def project_findings(stdout: str) -> list[dict[str, object]]:
    return [f for f in json.loads(stdout)["findings"] if str(f["rule_id"]).startswith("velro/project-")]


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """One whole-project check of the fixture project (every target but code: no Python file of it is
    code a rule matches), writing every output format at once: JSON on stdout, each format to a file (the same reporter as on stdout)."""
    tmp = tmp_path_factory.mktemp("crossfile")
    make_project(tmp / "proj")
    outs = {fmt: tmp / f"report.{fmt}" for fmt in sorted(REPORTERS)}
    res = cli(["check", "proj", *NO_CODE, "-f", "json", *(a for fmt, out in outs.items() for a in ("-f", f"{fmt}={out}"))], cwd=tmp)
    assert res.returncode == 1, res.stderr
    return res, {fmt: out.read_text(encoding="utf-8") for fmt, out in outs.items()}


def test_three_findings_each_naming_both_files(whole: tuple[subprocess.CompletedProcess[str], dict[str, str]]) -> None:
    res, _ = whole
    found = {str(f["rule_id"]): f for f in project_findings(res.stdout)}
    assert sorted(found) == ["velro/project-shared-secret", "velro/project-template-missing-key", "velro/project-unread-variable"], res.stdout
    assert len(project_findings(res.stdout)) == 3

    shared = found["velro/project-shared-secret"]
    assert (shared["path"], shared["line"], shared["key"]) == ("proj/.env.production", 3, "JWT_SECRET")
    assert shared["related"] == ["proj/.env.staging"]
    assert "proj/.env.production:3" in str(shared["message"]) and "proj/.env.staging:4" in str(shared["message"])

    missing = found["velro/project-template-missing-key"]
    assert (missing["path"], missing["line"], missing["key"]) == ("proj/.env.production", 5, "SENTRY_DSN")
    assert missing["related"] == ["proj/.env.example"]
    assert "proj/.env.example" in str(missing["message"]) and "proj/.env.production:5" in str(missing["message"])

    unread = found["velro/project-unread-variable"]
    assert (unread["path"], unread["line"], unread["key"]) == ("proj/.env.development", 3, "ALLOWED_ORIGINS")
    assert unread["related"] == ["proj/app/config.py"]
    assert "proj/app/config.py" in str(unread["message"]) and "CORS_ORIGINS" in str(unread["message"])


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_no_output_format_contains_the_secret(whole: tuple[subprocess.CompletedProcess[str], dict[str, str]], fmt: str) -> None:
    res, written = whole
    assert "project-shared-secret" in written[fmt] or "project/shared" in written[fmt] or "shared-secret" in written[fmt]
    for text in (res.stdout, res.stderr, written[fmt]):
        assert SECRET not in text
        assert SECRET[10:40] not in text  # not even a slice of it


def test_fixed_project_has_no_project_findings(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    staging = (root / ".env.staging").read_text().replace(SECRET, SECRET[::-1])
    (root / ".env.staging").write_text(staging)
    (root / ".env.development").write_text("ENVIRONMENT=development\nDEBUG=true\nCORS_ORIGINS=[\"http://localhost:3000\"]\n")
    with (root / ".env.example").open("a") as fh:
        fh.write("SENTRY_DSN=REPLACE_WITH_SENTRY_DSN\n")
    res = cli(["check", "proj", *NO_CODE, "-f", "json"], cwd=tmp_path)
    assert project_findings(res.stdout) == [], res.stdout


def test_rules_can_be_disabled_and_are_listed(tmp_path: Path) -> None:
    make_project(tmp_path / "proj")
    write(tmp_path / "proj" / "velro-policy.yaml", "disable: [velro/project-shared-secret]\n")
    res = cli(["check", "proj", *NO_CODE, "-f", "json"], cwd=tmp_path)
    assert sorted(f["rule_id"] for f in project_findings(res.stdout)) == ["velro/project-template-missing-key", "velro/project-unread-variable"]
    listed = cli(["policies", "list", "--no-config"])
    for rid in ("velro/project-shared-secret", "velro/project-template-missing-key", "velro/project-template-unused-key",
                "velro/project-environment-parity", "velro/project-unread-variable"):
        assert rid in listed.stdout
    assert "project" in cli(["explain", "velro/project-shared-secret"]).stdout


def test_parity_keys_from_config(tmp_path: Path) -> None:
    write(tmp_path / "p" / ".env.production", "ENVIRONMENT=production\nDEBUG=false\nFEATURE_GATE=on\n")
    write(tmp_path / "p" / ".env.staging", "ENVIRONMENT=staging\nDEBUG=false\n")
    res = cli(["check", "p", "-f", "json"], cwd=tmp_path)
    assert [f for f in project_findings(res.stdout) if f["rule_id"] == "velro/project-environment-parity"] == []
    write(tmp_path / "p" / "velro-policy.yaml", "parity_keys: [DEBUG, FEATURE_*]\n")
    res = cli(["check", "p", "-f", "json"], cwd=tmp_path)
    parity = [f for f in project_findings(res.stdout) if f["rule_id"] == "velro/project-environment-parity"]
    assert [(f["path"], f["key"], f["related"]) for f in parity] == [("p/.env.production", "FEATURE_GATE", ["p/.env.staging"])]


def test_named_file_reads_the_rest_of_the_project(tmp_path: Path) -> None:
    """What the pre-commit framework does: pass only the staged filenames
    (the velro-policy-env hook's entry is `velro-policy lint --target env`)."""
    make_project(tmp_path / "proj")
    res = cli(["lint", "--target", "env", "proj/.env.staging", "-f", "json"], cwd=tmp_path)
    found = project_findings(res.stdout)
    # anchored where a whole-project run anchors it (same fingerprint for baselines); names the checked file
    assert [(f["rule_id"], f["path"], f["line"], f["related"]) for f in found] == [
        ("velro/project-shared-secret", "proj/.env.production", 3, ["proj/.env.staging"])]
    assert "proj/.env.staging:4" in str(found[0]["message"])
    notes = json.loads(res.stdout).get("notes", [])
    assert any("project rules: read" in n for n in notes), notes
    # the development file is involved only in the unread-variable finding
    res = cli(["lint", "proj/.env.development", "-f", "json"], cwd=tmp_path)
    assert [f["rule_id"] for f in project_findings(res.stdout)] == ["velro/project-unread-variable"]
    # a settings module named alone: its env files are found above it
    res = cli(["lint", *NO_CODE, "proj/app/config.py", "-f", "json"], cwd=tmp_path)
    found = project_findings(res.stdout)
    assert [(f["rule_id"], f["path"], f["related"]) for f in found] == [
        ("velro/project-unread-variable", "proj/.env.development", ["proj/app/config.py"])]
    # --target code has no project rules to run
    res = cli(["lint", "--target", "code", "proj/app/config.py", "-f", "json"], cwd=tmp_path)
    assert project_findings(res.stdout) == []


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_staged_hook_reads_index_and_untracked_files(tmp_path: Path) -> None:
    """--staged (the plain git hook): the staged file is judged with the rest of
    the project; a tracked file is read from the index, a gitignored env file
    from the working tree; only findings involving a staged file are shown."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    write(repo / ".gitignore", ".env.production\n")
    write(repo / ".env.example", "ENVIRONMENT=development\nDEBUG=false\nJWT_SECRET=REPLACE_WITH_96_CHAR_SECRET\nSENTRY_DSN=REPLACE_WITH_DSN\n")
    write(repo / ".env.production", f"ENVIRONMENT=production\nDEBUG=false\nJWT_SECRET={SECRET}\nSENTRY_DSN=https://public@sentry.example/1\n")
    write(repo / "README.md", "x\n")
    git(repo, "add", ".gitignore", ".env.example", "README.md")
    git(repo, "commit", "-qm", "init")
    # the working-tree template drops SENTRY_DSN, but that edit is not staged
    (repo / ".env.example").write_text("ENVIRONMENT=development\nDEBUG=false\nJWT_SECRET=REPLACE_WITH_96_CHAR_SECRET\n")
    write(repo / ".env.staging", f"ENVIRONMENT=staging\nDEBUG=false\nJWT_SECRET={SECRET}\nSENTRY_DSN=https://public@sentry.example/2\n")
    git(repo, "add", "-f", ".env.staging")

    res = cli(["check", "--staged", "-f", "json"], cwd=repo)
    found = project_findings(res.stdout)
    assert [(f["rule_id"], f["path"], f["related"]) for f in found] == [
        ("velro/project-shared-secret", ".env.production", [".env.staging"])], res.stdout
    assert SECRET not in res.stdout + res.stderr
    # the working tree judged whole sees the unstaged template edit
    res = cli(["check", ".", "-f", "json"], cwd=repo)
    assert "velro/project-template-missing-key" in {f["rule_id"] for f in project_findings(res.stdout)}

    # a commit that stages nothing involved reports no project finding
    git(repo, "reset", "-q")
    (repo / "README.md").write_text("y\n")
    git(repo, "add", "README.md")
    res = cli(["check", "--staged", "-f", "json"], cwd=repo)
    assert project_findings(res.stdout) == [], res.stdout


def test_hook_run_matches_the_baseline_of_a_whole_project_run(tmp_path: Path) -> None:
    """Adopting with a baseline: a finding seen by the hook (one staged file)
    has the fingerprint the whole-project baseline recorded."""
    proj = make_project(tmp_path / "proj")
    assert cli(["baseline", "create", *NO_CODE], cwd=proj).returncode == 0
    res = cli(["lint", ".env.staging", "-f", "json", "--baseline", ".velro-policy-baseline.json"], cwd=proj)
    found = project_findings(res.stdout)
    assert [(f["rule_id"], f["suppressed"]) for f in found] == [("velro/project-shared-secret", "baseline")], res.stdout


def test_unparseable_context_file_is_named_in_the_notes(tmp_path: Path) -> None:
    make_project(tmp_path / "proj")
    with (tmp_path / "proj" / ".env.production").open("a") as fh:
        fh.write("BROKEN LINE 'x\n")
    res = cli(["lint", "proj/.env.staging", "-f", "json"], cwd=tmp_path)
    data = json.loads(res.stdout)
    assert any("proj/.env.production cannot be parsed" in n for n in data["notes"]), data["notes"]
    assert data["problems"] == [] or all(p["path"] != "proj/.env.production" for p in data["problems"])
