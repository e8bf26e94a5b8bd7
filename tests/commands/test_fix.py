"""`velro-policy fix`: values derived from the policies, edits that keep the file's shape,
secrets never printed, idempotent."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from conftest import EXAMPLES, REPO, cli, write

GOLDEN = REPO / "tests" / "fixtures" / "fix" / "insecure"
ENV_FILES = (".env.example", ".env.production", ".env.staging.secure")
ALLOWLIST = """\
fix:
  allowed_origins:
    production: ["https://app.velro.example"]
    staging: ["https://staging.velro.example"]
"""
GENERATED = re.compile(r"(JWT_SECRET=['\"]?)([A-Za-z0-9_-]+)")


def insecure_copy(tmp_path: Path, *, allowlist: bool = True) -> Path:
    proj = tmp_path / "proj"
    shutil.copytree(EXAMPLES / "insecure", proj)
    if allowlist:
        write(proj / "velro-policy.yaml", ALLOWLIST)
    return proj


def snapshot(proj: Path) -> dict[str, bytes]:
    return {n: (proj / n).read_bytes() for n in ENV_FILES}


def test_fix_insecure_example_matches_golden_and_then_lints_clean(tmp_path: Path) -> None:
    proj = insecure_copy(tmp_path)
    before = snapshot(proj)
    assert cli(["lint", "proj", "--target", "env"], cwd=tmp_path).returncode == 1  # what fix mends: the env files, as below

    res = cli(["fix", "proj"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "changed 10 value(s) in 3 of 3 env file(s); 0 finding(s) need a person" in res.stdout

    generated = []
    for name in ENV_FILES:
        text = (proj / name).read_bytes().decode()
        for m in GENERATED.finditer(text):
            if len(m[2]) == 128:  # secrets.token_urlsafe(96): the guide's production/staging size
                generated.append(m[2])
        golden = (GOLDEN / name).read_bytes().decode()
        masked = GENERATED.sub(lambda m: m[1] + ("<generated>" if len(m[2]) == 128 else m[2]), text)
        assert masked == golden, name
    assert len(generated) == 2 and generated[0] != generated[1]
    for secret in generated:  # written to the files only
        assert secret not in res.stdout and secret not in res.stderr
    # the old secrets are gone, comments and order are not
    assert b"Xk9mP2vL8qR4tY7wZ1aB3cD5eF6gH0jK2lM4nP6q" in before[".env.production"]
    assert b"Xk9mP2vL8qR4tY7wZ1aB3cD5eF6gH0jK2lM4nP6q" not in (proj / ".env.production").read_bytes()

    lint = cli(["lint", "proj", "--target", "env"], cwd=tmp_path)  # fix mends env files; the example's code stays insecure
    assert lint.returncode == 0, lint.stdout

    after_first = snapshot(proj)
    again = cli(["fix", "proj"], cwd=tmp_path)
    assert again.returncode == 0
    assert "changed 0 value(s) in 0 of 3 env file(s)" in again.stdout
    assert snapshot(proj) == after_first


def test_dry_run_masks_secrets_and_writes_nothing(tmp_path: Path) -> None:
    proj = insecure_copy(tmp_path)
    before = snapshot(proj)
    res = cli(["fix", "--dry-run", "proj"], cwd=tmp_path)
    assert res.returncode == 1  # there is something to change
    assert snapshot(proj) == before
    out = res.stdout
    assert "--- a/proj/.env.production" in out and "+++ b/proj/.env.production" in out
    assert "-DEBUG=true  # left on after an incident" in out and "+DEBUG=false  # left on after an incident" in out
    assert "+JWT_SECRET=<new secrets.token_urlsafe value, 128 chars, written to the file only>" in out
    assert "-JWT_SECRET=<Xk…6q (40 chars, masked)>" in out
    for secret in ("Xk9mP2vL8qR4tY7wZ1aB3cD5eF6gH0jK2lM4nP6q", "q8Zt3VnR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Zb7Ck0Dm2Fn5Hp8Jr1"):
        assert secret not in out and secret not in res.stderr
    assert not re.search(r"JWT_SECRET=['\"]?[A-Za-z0-9_-]{100,}", out)


def test_wildcard_origins_stay_without_an_allowlist(tmp_path: Path) -> None:
    proj = insecure_copy(tmp_path, allowlist=False)
    res = cli(["fix", "proj"], cwd=tmp_path)
    assert res.returncode == 1
    assert (proj / ".env.production").read_text().count('ALLOWED_ORIGINS=["*"]') == 1
    assert "not fixed: proj/.env.production:9: velro/cors-no-wildcard" in res.stdout
    assert "fix.allowed_origins.production" in res.stdout
    # everything else was fixed
    assert "DEBUG=false" in (proj / ".env.production").read_text()


def test_crlf_bom_quotes_export_and_comments_are_kept(tmp_path: Path) -> None:
    env = tmp_path / ".env.production"
    env.write_bytes(
        b"\xef\xbb\xbf# prod\r\n"
        b"export DEBUG='True'   # was on\r\n"
        b"\r\n"
        b"JWT_SECRET=\"changeme\"\r\n"
        b"SUPABASE_URL=https://x.supabase.co\r\n"
        b"ENABLE_DEBUG_ENDPOINTS=1"  # no newline at the end
    )
    res = cli(["fix", str(env), "-e", "production"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    data = env.read_bytes()
    lines = data.split(b"\r\n")
    assert lines[0] == b"\xef\xbb\xbf# prod"
    assert lines[1] == b"export DEBUG='false'   # was on"
    assert lines[2] == b""
    assert re.fullmatch(rb'JWT_SECRET="[A-Za-z0-9_-]{128}"', lines[3])
    assert lines[4] == b"SUPABASE_URL=https://x.supabase.co"
    assert lines[5] == b"ENABLE_DEBUG_ENDPOINTS=false"
    assert data.count(b"\r\n") == 5 and b"\n" not in data.replace(b"\r\n", b"")
    assert cli(["lint", str(env)], cwd=tmp_path).returncode == 0


def test_values_come_from_the_policies(tmp_path: Path) -> None:
    """A user policy requiring FEATURE_AUDIT=true (boolean operator) is fixed the same
    way; a disabled rule is not; development gets development's own rules."""
    write(tmp_path / "policies" / "audit.yaml", """\
apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/audit, title: Audit}
target: env
rules:
  - id: acme/audit-on
    title: Audit log on
    severity: high
    environments: [production]
    select: FEATURE_AUDIT
    check: {boolean: true}
    remediation: Set FEATURE_AUDIT=true.
  - id: acme/max-upload
    title: Upload size pinned
    severity: low
    environments: [production]
    select: MAX_UPLOAD_MB
    check: {equals: 10}
    remediation: Set MAX_UPLOAD_MB=10.
""")
    write(tmp_path / "velro-policy.yaml", "policies: [policies]\ndisable: [velro/verbose-errors-disabled]\n")
    write(tmp_path / ".env.production", "FEATURE_AUDIT=off\nMAX_UPLOAD_MB=500\nVERBOSE_ERROR_MESSAGES=true\nDEBUG=true\n")
    write(tmp_path / ".env.development", "DEBUG=true\nEMERGENCY_AUTH_MODE=true\nJWT_SECRET=short\n")
    res = cli(["fix", "."], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / ".env.production").read_text() == "FEATURE_AUDIT=true\nMAX_UPLOAD_MB=10\nVERBOSE_ERROR_MESSAGES=true\nDEBUG=false\n"
    dev = (tmp_path / ".env.development").read_text().splitlines()
    assert dev[:2] == ["DEBUG=true", "EMERGENCY_AUTH_MODE=false"]  # development may debug, never emergency auth
    assert re.fullmatch(r"JWT_SECRET=[A-Za-z0-9_-]{86}", dev[2])  # token_urlsafe(64): development's minimum


def test_tracked_file_warns_to_rotate(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "t@example.com"], ["config", "user.name", "t"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    write(repo / ".env.production", "ENVIRONMENT=production\nJWT_SECRET=REPLACE_WITH_96_CHAR_SECRET\nDEBUG=true\n")
    write(repo / ".env.staging", "ENVIRONMENT=staging\nDEBUG=true\n")
    subprocess.run(["git", "add", ".env.production"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "oops"], cwd=repo, check=True)
    res = cli(["fix", "."], cwd=repo)
    assert res.returncode == 0, res.stdout + res.stderr
    warnings = [line for line in res.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, res.stderr
    assert ".env.production is tracked by git" in warnings[0] and "rotate" in warnings[0] and "git rm --cached" in warnings[0]
    new = (repo / ".env.production").read_text().splitlines()[1].split("=", 1)[1]
    assert len(new) == 128 and new not in res.stdout + res.stderr


def test_unreadable_env_file_is_exit_2_one_line(tmp_path: Path) -> None:
    env = write(tmp_path / ".env.production", "DEBUG=true\nBROKEN LINE WITHOUT EQUALS 'x\n")
    res = cli(["fix", str(env)], cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert ".env.production:2" in res.stderr
    assert env.read_text() == "DEBUG=true\nBROKEN LINE WITHOUT EQUALS 'x\n"


def test_interpolated_values_are_left_to_their_source(tmp_path: Path) -> None:
    env = write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=${RAILWAY_DEBUG}\nEMERGENCY_AUTH_MODE=yes\n")
    res = cli(["fix", str(env)], cwd=tmp_path)
    assert res.returncode == 1
    assert env.read_text() == "ENVIRONMENT=production\nDEBUG=${RAILWAY_DEBUG}\nEMERGENCY_AUTH_MODE=false\n"
    assert "not fixed: .env.production:2: velro/debug-disabled" in res.stdout
