"""The command line: exit codes, errors without tracebacks, options, user policies."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import EXAMPLES, REPO, cli, velro, write

CUSTOM_POLICY = REPO / "tests" / "fixtures" / "custom-policy" / "acme-log-level.yaml"


def test_must_show_insecure_production_file(tmp_path: Path) -> None:
    env = write(tmp_path / ".env.production",
                "ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET=Xk9mP2vL8qR4tY7wZ1aB3cD5eF6gH0jK2lM4nP6q\nALLOWED_ORIGINS=[\"*\"]\n")
    res = cli(["lint", str(env), "-f", "json"])
    assert res.returncode == 1
    found = sorted((f["line"], f["rule_id"]) for f in json.loads(res.stdout)["findings"])
    assert found == [(2, "velro/debug-disabled"), (3, "velro/jwt-secret-strength"), (4, "velro/cors-no-wildcard")]


def test_examples(insecure_check: subprocess.CompletedProcess[str]) -> None:
    secure = cli(["check", str(EXAMPLES / "secure")])
    assert secure.returncode == 0, secure.stdout + secure.stderr
    insecure = insecure_check  # check examples/insecure -f json (conftest: one run for the tests about it)
    assert insecure.returncode == 1
    ids = {f["rule_id"] for f in json.loads(insecure.stdout)["findings"]}
    # every target has something to say about the insecure project
    assert {"velro/debug-disabled", "velro/settings-jwt-secret-literal", "velro/header-csp",
            "velro/rate-table-login", "velro/code-cors-credentials-wildcard", "velro/code-jwt-verify-disabled"} <= ids


def test_broken_policy_is_exit_2_with_location(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", """\
apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/bad, title: Bad}
target: env
rules:
  - id: acme/x
    title: x
    severity: high
    remediation: x
    select: DEBUG
    check: {no_such_operator: true}
""")
    res = cli(["lint", str(EXAMPLES / "secure"), "--policy", str(bad)])
    assert res.returncode == 2
    assert "bad.yaml:11:" in res.stderr and "no_such_operator" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_invalid_yaml_and_bad_regex_and_python_tag(tmp_path: Path) -> None:
    yaml_err = write(tmp_path / "y.yaml", "apiVersion: velro-policy/v1\nkind: [unclosed\n")
    res = cli(["policies", "validate", str(yaml_err)])
    assert res.returncode == 2 and "y.yaml:" in res.stderr and "Traceback" not in res.stderr
    tag = write(tmp_path / "t.yaml", "apiVersion: !!python/object/apply:os.system ['touch pwned']\n")
    res = cli(["policies", "validate", str(tag)], cwd=tmp_path)
    assert res.returncode == 2 and not (tmp_path / "pwned").exists()
    regex = write(tmp_path / "r.yaml", CUSTOM_POLICY.read_text().replace("check: {one_of: [info, warning, error]}", "check: {matches: '(a)\\1'}"))
    res = cli(["policies", "validate", str(regex)])
    assert res.returncode == 2 and "r.yaml:" in res.stderr and "RE2" in res.stderr


def test_user_policy_is_listed_and_applied(tmp_path: Path) -> None:
    listed = cli(["policies", "list", "--policy", str(CUSTOM_POLICY)])
    assert listed.returncode == 0
    assert "acme/log-level-not-debug" in listed.stdout
    env = write(tmp_path / ".env.production", "LOG_LEVEL=debug\n")
    res = cli(["lint", str(env), "--policy", str(CUSTOM_POLICY)])
    assert res.returncode == 1 and "acme/log-level-not-debug" in res.stdout


def test_user_policy_from_project_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "policies" / "log.yaml", CUSTOM_POLICY.read_text())
    write(tmp_path / "velro-policy.yaml", "policies: [policies]\nseverity: {velro/debug-disabled: medium}\n")
    env = write(tmp_path / ".env.production", "LOG_LEVEL=debug\nDEBUG=true\n")
    listed = cli(["policies", "list"], cwd=tmp_path)
    assert "acme/log-level-not-debug" in listed.stdout
    res = cli(["lint", ".", "-f", "json"], cwd=tmp_path)
    sev = {f["rule_id"]: f["severity"] for f in json.loads(res.stdout)["findings"]}
    assert sev == {"acme/log-level-not-debug": "medium", "velro/debug-disabled": "medium"}
    assert env.exists()


def test_pyproject_config_and_bad_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.velro-policy]\ndisable = ["velro/debug-disabled"]\n')
    write(tmp_path / ".env.production", "DEBUG=true\n")
    assert cli(["lint", "."], cwd=tmp_path).returncode == 0
    write(tmp_path / "velro-policy.yaml", "fail_on: sometimes\n")
    res = cli(["lint", "."], cwd=tmp_path)
    assert res.returncode == 2 and "velro-policy.yaml:1:" in res.stderr


def test_only_skip_fail_on_and_output(tmp_path: Path) -> None:
    env = write(tmp_path / ".env.production", "DEBUG=true\nAUTH_RATE_LIMIT_LOGIN=10/minute\n")
    only = json.loads(cli(["lint", str(env), "--only", "velro/rate-*", "-f", "json"]).stdout)
    assert [f["rule_id"] for f in only["findings"]] == ["velro/rate-limit-login"]
    skip = json.loads(cli(["lint", str(env), "--skip", "velro/debug-disabled", "-f", "json"]).stdout)
    assert [f["rule_id"] for f in skip["findings"]] == ["velro/rate-limit-login"]
    assert cli(["lint", str(env), "--only", "velro/rate-*", "--fail-on", "critical"]).returncode == 0
    out = tmp_path / "report.json"
    res = cli(["lint", str(env), "-f", "json", "-o", str(out)])
    assert res.returncode == 1 and res.stdout == "" and json.loads(out.read_text())["findings"]


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    assert velro(["lint", str(tmp_path / "missing.env")]).returncode == 2
    assert velro(["lint", "--format", "yaml", str(tmp_path)]).returncode == 2
    assert velro(["lint", "--nope"]).returncode == 2
    res = velro(["explain", "velro/nope"])
    assert res.returncode == 2 and "unknown rule id" in res.stderr


def test_help_and_explain() -> None:
    helptext = cli(["lint", "--help"]).stdout
    for opt in ("--policy", "--only", "--skip", "--environment", "--format", "--output", "--fail-on"):
        assert opt in helptext
    ex = cli(["explain", "velro/debug-disabled"]).stdout
    assert "Critical Environment Variables" in ex and "DEBUG=false" in ex and "violation:" in ex


def test_directory_walk_skips_vendor_and_ignored_dirs(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / ".gitignore", "build/\n.env.production\n")
    write(tmp_path / ".env.production", "DEBUG=true\n")  # ignored by git, but still linted
    for skipped in ("node_modules/pkg/.env.production", ".venv/.env.production", "build/.env.production",
                    "vendor_env/.env.production"):
        write(tmp_path / skipped, "DEBUG=true\n")
    (tmp_path / "vendor_env" / "pyvenv.cfg").write_text("home = /usr\n")
    data = json.loads(cli(["lint", str(tmp_path), "-f", "json"]).stdout)
    assert sorted({f["path"].split(str(tmp_path))[-1] for f in data["findings"]}) == ["/.env.production"]


def test_exit_zero_reports_but_passes_and_still_fails_closed(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    res = velro(["lint", "--exit-zero", str(tmp_path / ".env.production")])
    assert res.returncode == 0 and "velro/debug-disabled" in res.stdout, res.stderr
    write(tmp_path / "broken.env", 'JWT_SECRET="unterminated\n')
    res = velro(["lint", "--exit-zero", str(tmp_path / "broken.env")])
    assert res.returncode == 2  # could not check is never turned into a pass


def test_force_color_and_no_color(tmp_path: Path) -> None:
    env_file = write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    assert "\033[" in velro(["lint", str(env_file)], env={"FORCE_COLOR": "1", "NO_COLOR": ""}).stdout
    assert "\033[" not in velro(["lint", str(env_file)], env={"FORCE_COLOR": "", "NO_COLOR": "1"}).stdout
    assert "\033[" not in velro(["lint", "--no-color", str(env_file)], env={"FORCE_COLOR": "1"}).stdout


def test_version_names_the_semgrep_found(tmp_path: Path) -> None:
    from velro_policy import __version__

    res = cli(["--version"])
    assert res.returncode == 0 and res.stdout.startswith(f"velro-policy, version {__version__}\n")
    assert "semgrep: 1." in res.stdout
    res = cli(["--version"], env={"VELRO_POLICY_SEMGREP": str(tmp_path / "missing")})
    assert res.returncode == 0 and "semgrep: not installed" in res.stdout


def test_an_empty_tree_warns(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to check\n")
    res = cli(["check", str(tmp_path)])
    assert res.returncode == 0
    assert "warning: nothing was checked" in res.stdout


def test_lint_stdin_reads_env_lines_and_json_objects(tmp_path: Path) -> None:
    res = cli(["lint", "-"], cwd=tmp_path, input_text="ENVIRONMENT=production\nDEBUG=true\n")
    assert res.returncode == 1 and ".env:2:1: critical velro/debug-disabled" in res.stdout, res.stderr
    assert "velro-stdin-" not in res.stdout + res.stderr  # shown as its name, not the temporary file
    secret = "Zq7Kx2Vm9Lp4$#t8Wn3Bc6Hd1Fg5Jk0Ys"
    live = json.dumps({"DEBUG": "false", "JWT_SECRET": secret, "ALLOWED_ORIGINS": '["*"]'})
    res = cli(["lint", "--stdin-filename", ".env.production", "-", "-f", "json"], cwd=tmp_path, input_text=live)
    assert res.returncode == 1, res.stderr
    findings = json.loads(res.stdout)["findings"]
    found = {(f["path"], f["rule_id"]) for f in findings}
    assert (".env.production", "velro/jwt-secret-strength") in found
    assert (".env.production", "velro/cors-no-wildcard") in found
    assert not any(rule == "velro/debug-disabled" for _, rule in found)
    assert secret not in res.stdout + res.stderr
    message = next(f["message"] for f in findings if f["rule_id"] == "velro/jwt-secret-strength")
    assert "33 characters" in message  # '$' and '#' kept literally: the value read back is the one given
    bad = cli(["lint", "-"], cwd=tmp_path, input_text='{"DEBUG": tru')
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr and "Traceback" not in bad.stderr


def test_a_file_not_named_as_env_is_refused_unless_told(tmp_path: Path) -> None:
    settings = write(tmp_path / "railway-vars.txt", "ENVIRONMENT=production\nDEBUG=true\n")
    res = cli(["lint", str(settings)], cwd=tmp_path)
    assert res.returncode == 2 and "is not an env file by its name" in res.stdout + res.stderr and "--as env" in res.stderr
    res = cli(["lint", "--as", "env", str(settings)], cwd=tmp_path)
    assert res.returncode == 1 and "velro/debug-disabled" in res.stdout, res.stderr


def test_progress_verbose_quiet_and_never_in_outputs(tmp_path: Path) -> None:
    """-v explains each step on stderr with its time; the default prints nothing when stderr is
    not a terminal (hooks, CI); -q prints nothing but errors; stdout is the same in all three."""
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    write(tmp_path / "app" / "main.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    runs = {v: cli(["check", ".", "--target", "env", "--target", "settings", "-f", "json", *v], cwd=tmp_path)
            for v in ((), ("-v",), ("-q",))}
    assert {r.returncode for r in runs.values()} == {1}
    assert len({r.stdout for r in runs.values()}) == 1  # the machine output never changes
    assert runs[()].stderr == "" and runs[("-q",)].stderr == ""
    verbose = runs[("-v",)].stderr
    assert "found 1 env, 1 settings to check" in verbose and "application model: entry app/main.py" in verbose
    assert "env: reading 1 files" in verbose and "judging" in verbose and verbose.rstrip().endswith("done")


def test_progress_line_on_a_terminal_is_erased() -> None:
    import io

    from velro_policy.commands.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    progress = Progress(0, tty)
    progress.say("Semgrep: scanning 12 Python files with 30 code rules")
    progress.close()
    assert tty.getvalue().endswith("\r\033[K") and "Semgrep: scanning 12" in tty.getvalue()
    assert not Progress(-1, Tty()).active and not Progress(0, io.StringIO()).active
