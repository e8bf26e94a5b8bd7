"""The command line (click).  The only module that imports click; each
command parses its options and calls one ``commands`` function that returns
the exit code: 0 clean, 1 findings at or above --fail-on, 2 could not check.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from velro_policy.error_handler import error_handler
from velro_policy.hookpath import TARGETS as HOOK_TARGETS
from velro_policy.model import SEVERITIES
from velro_policy.reporters import REPORTERS

ENVIRONMENT_CHOICES = ("production", "staging", "development", "test", "template")


def _parse_formats(formats: tuple[str, ...], output: str | None) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for spec in formats or ("text",):
        name, _, path = spec.partition("=")
        if name not in REPORTERS:
            raise click.BadParameter(f"unknown format {name!r}; choose from {', '.join(sorted(REPORTERS))}", param_hint="--format")
        out.append((name, path or None))
    if output:
        for i in range(len(out) - 1, -1, -1):
            if out[i][1] is None:
                out[i] = (out[i][0], output)
                break
        else:
            raise click.BadParameter("--output needs a --format without its own =FILE", param_hint="--output")
    return out


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by lint and check."""
    options = [
        click.option("--policy", "policies", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable)."),
        click.option("--only", multiple=True, metavar="RULE_ID", help="Evaluate only these rule ids (globs allowed; repeatable)."),
        click.option("--skip", multiple=True, metavar="RULE_ID", help="Do not evaluate these rule ids (globs allowed; repeatable)."),
        click.option("--environment", "-e", type=click.Choice(ENVIRONMENT_CHOICES), help="Judge every env file as this environment (default: from its ENVIRONMENT value, else its name, else production)."),
        click.option("--format", "-f", "formats", multiple=True, metavar="FORMAT[=FILE]",
                     help=f"Output format: {', '.join(sorted(REPORTERS))} (default text). Repeatable; FORMAT=FILE writes that format to FILE."),
        click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the last --format without =FILE to this file."),
        click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 (default: low, or fail_on in the config)."),
        click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest velro-policy.yaml or [tool.velro-policy] in pyproject.toml)."),
        click.option("--no-cache", is_flag=True, help="Revalidate the policy pack instead of using the compiled cache."),
        click.option("--color/--no-color", default=None, help="Force colour on or off (default: on a terminal unless NO_COLOR is set)."),
        click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of unexpected errors."),
        click.option("--staged", is_flag=True, help="Check the staged (index) version of each staged file, not the working tree (git hooks)."),
        click.option("--changed-since", metavar="REF", help="Check only files added or changed since the merge base of REF and HEAD (pull requests)."),
        click.option("--baseline", type=click.Path(dir_okay=False), help="Findings in this baseline file do not fail the run; ones gone are reported fixed (see `baseline create`)."),
        click.option("--no-inline-ignores", is_flag=True, help="Disregard `# velro-policy: ignore[...]` comments (CI gates)."),
        click.option("--locked-policy", is_flag=True, help="The project config cannot weaken the built-in pack (builtin: false, disabling or "
                     "lowering a non-suppressible rule, lowering any rule, re-aliasing production, fail_on): such settings are disregarded, with a note (CI gates)."),
        click.option("--quiet", "-q", "verbosity", flag_value=-1, type=int, help="Nothing on stderr but errors (no progress line)."),
        click.option("--verbose", "-v", "verbosity", flag_value=1, type=int, help="Explain each step on stderr: scope, entry point, files per input, Semgrep, timings."),
        click.option("--show-suppressed", is_flag=True, help="List suppressed findings (baseline, ignores, exceptions) in the text output; by default they are counted."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (report only); could-not-check stays exit 2."),
        click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True,
                     help="Worker processes for env files (0: one per CPU). Output is identical to a serial run; below 200 env files the run stays serial."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(paths: tuple[str, ...], targets: list[str] | None, **kw: Any) -> None:
    formats = _parse_formats(kw["formats"], kw["output"])  # a usage error (exit 2 with the usage line), before the run
    with error_handler(kw.get("debug", False)):
        from velro_policy.commands.run import Options, run

        opts = Options(
            paths=list(paths) or ["."],
            policies=list(kw["policies"]),
            only=list(kw["only"]),
            skip=list(kw["skip"]),
            environment=kw["environment"],
            formats=formats,
            fail_on=kw["fail_on"],
            config=kw["config"],
            targets=targets,
            use_cache=not kw["no_cache"],
            color=kw["color"],
            staged=kw.get("staged", False),
            changed_since=kw.get("changed_since"),
            inline_ignores=not kw.get("no_inline_ignores", False),
            baseline=kw.get("baseline"),
            jobs=kw.get("jobs", 1),
            include_undeployed=kw.get("include_undeployed", False),
            read_as=kw.get("read_as"),
            show_suppressed=kw.get("show_suppressed", False),
            verbosity=kw.get("verbosity") or 0,
            shown_as=kw.get("shown_as") or {},
            locked_policy=kw.get("locked_policy", False),
        )
        if opts.staged and opts.changed_since:
            from velro_policy.errors import InputError

            raise InputError("--staged and --changed-since cannot be combined; pick one")
        code = run(opts)
        raise SystemExit(0 if code == 1 and kw.get("exit_zero") else code)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: ours, and the Semgrep the code rules would run (or that none is installed)."""
    if not value or ctx.resilient_parsing:
        return
    from velro_policy.commands.version import version_text

    click.echo(version_text())
    ctx.exit(0)



# --target: the inputs a run reads.  ``app`` is the application model's routes, headers and CORS
# (built from the Python modules; its rules are not Semgrep's).
TARGET_CHOICES = list(HOOK_TARGETS)  # one list for click and the hooks' fast path (velro_policy.hookpath)
TARGET_HELP = ("Only these targets (repeatable; default: all): env files, settings modules, code (Semgrep rules), "
               "app (the application model: routes' rate limits, headers, CORS).")

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version (and the Semgrep found for code rules) and exit.")
def cli() -> None:
    """velro-policy: security policies as code for FastAPI/Supabase backends.

    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 could not check
    (bad input, bad policy or config, scanner failure).
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGET_CHOICES), help=TARGET_HELP + " Used by the pre-commit hooks.")
@click.option("--as", "read_as", type=click.Choice(["env"]), help="Read the files named as env files whatever their names (else a file not named .env, .env.* or *.env is refused).")
@click.option("--stdin-filename", metavar="NAME", help="With PATH '-': the name stdin is judged and shown as (default .env; .env.production judges it as production).")
@run_options
def lint(paths: tuple[str, ...], targets: tuple[str, ...], read_as: str | None, stdin_filename: str | None, **kw: Any) -> None:
    """Lint env files (and any other file given) against the policies.

    PATHS are files or directories (default: .). Directories are walked for
    .env, .env.* and *.env files, skipping .git, node_modules, virtualenvs and
    gitignored directories.  PATH '-' reads env variables from stdin: KEY=value
    lines (an env file, `railway variables --kv`) or one JSON object of
    variables, so the live platform's variables can be checked.
    """
    if "-" in paths:
        if paths != ("-",):
            raise click.BadParameter("'-' (stdin) cannot be combined with other paths", param_hint="PATHS")
        _run_stdin(stdin_filename or ".env", list(targets) or None, read_as=read_as, **kw)
        return
    _run(paths, list(targets) or None, read_as=read_as, **kw)


def _run_stdin(name: str, targets: list[str] | None, **kw: Any) -> None:
    """`lint -`: stdin written to a private temporary file named NAME, judged and shown as NAME."""
    import os
    import sys

    from velro_policy.commands.stdin import as_env_text, env_file

    with error_handler(kw.get("debug", False)):
        text = as_env_text(sys.stdin.buffer.read(), name)
    with env_file(text, name) as path:
        _run((path,), targets, shown_as={os.path.normpath(path): name}, **kw)


@cli.command()
@click.argument("directory", required=False, type=click.Path(exists=False, file_okay=False))
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGET_CHOICES), help=TARGET_HELP)
@click.option("--include-undeployed", is_flag=True, help="Also show findings in modules the app never imports (at info severity).")
@run_options
def check(directory: str | None, targets: tuple[str, ...], **kw: Any) -> None:
    """Check a whole project (default: .) with every target it has."""
    _run((directory or ".",), list(targets) or None, **kw)


@cli.command("app")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest one); `app: \"main:app\"` names the entry point.")
def app_cmd(directory: str, fmt: str, config: str | None) -> None:
    """Show the application model: entry point and why, routes (auth, rate limit),
    middleware in order, settings (env name, default, role; secrets masked), notes.
    Read statically: the app is never imported."""
    with error_handler():
        from velro_policy.commands.app import app

        raise SystemExit(app(directory, fmt, config))


@cli.command("report")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--html", "html_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the report as one self-contained HTML page (no script, no network; printable) to FILE.")
@click.option("--format", "-f", "fmt", type=click.Choice(["html", "markdown"]),
              help="Also (or instead) write this format to --output or stdout (default: markdown to stdout when --html is not given).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), metavar="FILE", help="Write --format to FILE instead of stdout.")
@click.option("--probe-recording", type=click.Path(dir_okay=False), metavar="FILE.probe.json",
              help="Fill the post-deployment checklist and the live headers from a `probe --record` recording.")
@click.option("--live-vars", metavar="NAME",
              help="Read the live platform's variables from stdin (KEY=value lines, `railway variables --kv`, or a JSON object) "
                   "and show them as one more column, NAME (live); NAME decides its environment as a file name does (.env.production).")
@click.option("--policy", "policies", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest velro-policy.yaml or [tool.velro-policy]).")
@click.option("--no-cache", is_flag=True, help="Revalidate the policy pack instead of using the compiled cache.")
@click.option("--locked-policy", is_flag=True, help="The project config cannot weaken the built-in pack (as for check).")
@click.option("--debug", is_flag=True, hidden=True)
def report_cmd(directory: str, html_file: str | None, fmt: str | None, output: str | None, probe_recording: str | None,
               live_vars: str | None, policies: tuple[str, ...], config: str | None, no_cache: bool, locked_policy: bool,
               debug: bool) -> None:
    """Show where a project stands against the guide, as the guide draws it.

    Runs `check` on DIRECTORY (default: .) and lays its findings out as the
    guide's tables: the environment-variable matrix (one column per env file
    and settings defaults, each value masked if secret, green or red), the
    routes with their rate limits, the six security headers and the CORS
    origins per environment, and the pre- and post-deployment checklists.

    \b
    velro-policy report --html posture.html
    velro-policy report --format markdown >> "$GITHUB_STEP_SUMMARY"
    velro-policy report --html posture.html --probe-recording prod.probe.json
    railway variables --kv | velro-policy report --html posture.html --live-vars .env.production

    Exit 0 when the report was written, findings or not (use `check` to gate);
    2 when it could not be (missing DIR, bad option, unusable recording).
    """
    with error_handler(debug):
        from velro_policy.commands.report import ReportOptions, report

        raise SystemExit(report(ReportOptions(
            directory=directory, html=html_file, fmt=fmt, output=output, probe_recording=probe_recording, live_vars=live_vars,
            config=config, policies=list(policies), use_cache=not no_cache, locked_policy=locked_policy)))


@cli.group()
def policies() -> None:
    """List and validate policies."""


@policies.command("list")
@click.option("--policy", "extra", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest one).")
@click.option("--no-config", is_flag=True, help="Ignore any project config (list the built-in pack and --policy only).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def policies_list(extra: tuple[str, ...], config: str | None, no_config: bool, fmt: str) -> None:
    """List every rule in force: built-in, configured and --policy ones."""
    with error_handler():
        from velro_policy.commands.policies import list_rules

        raise SystemExit(list_rules(list(extra), config, fmt, use_config=not no_config))


@policies.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def policies_validate(paths: tuple[str, ...]) -> None:
    """Validate policy files without running them (exit 2 on the first bad file)."""
    with error_handler():
        from velro_policy.commands.policies import validate

        raise SystemExit(validate(list(paths)))


@cli.command()
@click.argument("rule_id")
@click.option("--policy", "extra", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False))
def explain(rule_id: str, extra: tuple[str, ...], config: str | None) -> None:
    """Show a rule: what it checks, the guide section, an example and the fix."""
    with error_handler():
        from velro_policy.commands.policies import explain as explain_rule

        raise SystemExit(explain_rule(rule_id, list(extra), config))


@cli.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--coverage", is_flag=True, help="Show, per rule, whether some case makes it fail and some case makes it pass.")
@click.option("--require-coverage", is_flag=True, help="Exit 1 when a rule lacks a failing or a passing case.")
def test_policies(paths: tuple[str, ...], coverage: bool, require_coverage: bool) -> None:
    """Run declarative policy tests (*.test.yaml) against the policies in PATHS."""
    with error_handler():
        from velro_policy.commands.policytest import run_tests

        raise SystemExit(run_tests(list(paths), coverage=coverage, require_coverage=require_coverage))


@cli.command("fix")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--dry-run", is_flag=True, help="Show a unified diff (secrets masked) instead of writing; exit 1 when there is something to change.")
@click.option("--environment", "-e", type=click.Choice(ENVIRONMENT_CHOICES), help="Treat every env file as this environment.")
@click.option("--policy", "policies", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest one); fix.allowed_origins lets fix replace wildcard CORS origins.")
@click.option("--no-cache", is_flag=True, help="Revalidate the policy pack instead of using the compiled cache.")
def fix_cmd(paths: tuple[str, ...], dry_run: bool, environment: str | None, policies: tuple[str, ...],
            config: str | None, no_cache: bool) -> None:
    """Fix env files in place: the values the policies require (DEBUG=false, ...),
    new secrets for placeholder or weak ones, wildcard origins (with an allowlist).

    Comments, order, quoting and line endings are kept. A generated secret is
    written to the file only, never printed. Run `lint` afterwards.
    """
    with error_handler():
        from velro_policy.commands.fix import fix

        raise SystemExit(fix(list(paths) or ["."], dry_run=dry_run, environment=environment, config=config,
                             policies=list(policies), use_cache=not no_cache))


@cli.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite velro-policy.yaml and the workflow, and update existing velro-policy hooks.")
@click.option("--hook", "hooks", multiple=True, type=click.Choice(["velro-policy", "velro-policy-env", "velro-policy-settings", "velro-policy-code"]),
              help="pre-commit hook id to add (repeatable; default: env and settings on commit, the code scan on push).")
@click.option("--rev", help="The hooks' rev (default: the commit of the checkout velro-policy runs from, or the installed release's tag).")
@click.option("--repo", help="The hooks' repository (default: that checkout's remote, or the project's repository).")
@click.option("--no-pre-commit", is_flag=True, help="Do not touch .pre-commit-config.yaml.")
@click.option("--no-workflow", is_flag=True, help="Do not write .github/workflows/velro-policy.yml.")
def init_cmd(directory: str, force: bool, hooks: tuple[str, ...], rev: str | None, repo: str | None,
             no_pre_commit: bool, no_workflow: bool) -> None:
    """Adopt velro-policy: a commented velro-policy.yaml, the pre-commit hooks
    (merged into an existing .pre-commit-config.yaml, comments kept) and a
    GitHub Actions pull-request gate. Refuses to overwrite without --force.

    The hooks' repo and rev, and the workflow's install, resolve from how this
    velro-policy is installed (a git checkout: its remote or path at its
    commit; a release: its tag), and init says which.
    """
    with error_handler():
        from velro_policy.commands.init import init

        raise SystemExit(init(directory, force=force, hooks=list(hooks) or None, pre_commit=not no_pre_commit,
                              workflow=not no_workflow, rev=rev, repo=repo))


@cli.group("baseline")
def baseline_group() -> None:
    """Adopt velro-policy on an existing codebase: record today's findings."""


@baseline_group.command("create")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=".velro-policy-baseline.json", show_default=True, help="Baseline file to write.")
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGET_CHOICES), help=TARGET_HELP)
@click.option("--policy", "policies", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--environment", "-e", type=click.Choice(ENVIRONMENT_CHOICES), help="Judge every env file as this environment.")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest one).")
@click.option("--no-cache", is_flag=True, help="Revalidate the policy pack instead of using the compiled cache.")
def baseline_create(paths: tuple[str, ...], output: str, targets: tuple[str, ...], policies: tuple[str, ...],
                    environment: str | None, config: str | None, no_cache: bool) -> None:
    """Write the current findings' fingerprints (never values) to the baseline file.

    Every entry (check, lint, the git and pre-commit hooks, CI) then uses
    .velro-policy-baseline.json of the project folder by itself (or the
    config's `baseline`): only new findings fail, and baselined ones that are
    gone are reported as fixed.  Findings of non-suppressible (critical)
    rules are not baselined.
    """
    with error_handler():
        from velro_policy.commands.baseline_cmd import create

        raise SystemExit(create(list(paths) or ["."], output, targets=list(targets) or None, policies=list(policies),
                                environment=environment, config=config, use_cache=not no_cache))


@baseline_group.command("update")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Baseline file to rewrite (default: the one runs use).")
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGET_CHOICES), help=TARGET_HELP)
@click.option("--policy", "policies", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--environment", "-e", type=click.Choice(ENVIRONMENT_CHOICES), help="Judge every env file as this environment.")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest one).")
@click.option("--no-cache", is_flag=True, help="Revalidate the policy pack instead of using the compiled cache.")
def baseline_update(paths: tuple[str, ...], output: str | None, targets: tuple[str, ...], policies: tuple[str, ...],
                    environment: str | None, config: str | None, no_cache: bool) -> None:
    """Rewrite the baseline from today's findings: add new ones, drop fixed ones (and say how many)."""
    with error_handler():
        from velro_policy.commands.baseline_cmd import update

        raise SystemExit(update(list(paths) or ["."], output, targets=list(targets) or None, policies=list(policies),
                                environment=environment, config=config, use_cache=not no_cache))


@cli.group("hooks")
def hooks_group() -> None:
    """Install plain git hooks (for teams without the pre-commit framework)."""


HOOK_CHOICES = click.Choice(["pre-commit", "pre-push"])


@hooks_group.command("install")
@click.option("--hook", "hooks", multiple=True, type=HOOK_CHOICES, help="Hook to install (repeatable; default: pre-commit).")
@click.option("--force", is_flag=True, help="Replace a hook velro-policy did not write (it is kept as <hook>.pre-velro-policy).")
def hooks_install(hooks: tuple[str, ...], force: bool) -> None:
    """Install hooks into the repository's hooks folder (respects core.hooksPath).

    pre-commit checks the staged content (`check --staged`); pre-push checks
    the files changed against the upstream (`check --changed-since`).
    """
    with error_handler():
        from velro_policy.commands.hooks import install

        raise SystemExit(install(list(hooks) or ["pre-commit"], force=force))


@hooks_group.command("uninstall")
@click.option("--hook", "hooks", multiple=True, type=HOOK_CHOICES, help="Hook to remove (repeatable; default: every velro-policy hook).")
def hooks_uninstall(hooks: tuple[str, ...]) -> None:
    """Remove velro-policy's hooks (never a hook it did not write); restore a hook --force replaced."""
    with error_handler():
        from velro_policy.commands.hooks import uninstall

        raise SystemExit(uninstall(list(hooks) or ["pre-commit", "pre-push"]))


@cli.command()
@click.argument("base_url")
@click.option("--plan", type=click.Path(dir_okay=False), help="Probe plan (default: probe_plan in the config, else the built-in velro plan).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=10.0, show_default=True, help="Seconds each request may take.")
@click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate (a self-signed staging certificate).")
@click.option("--follow-redirects", is_flag=True, help="Follow redirects on BASE_URL's host (never to another host).")
@click.option("--rate-limit-check", is_flag=True, help="Send up to limit+2 fake logins and expect a 429 (spends the real login quota).")
@click.option("--allowed-origin", "allowed_origins", multiple=True, metavar="ORIGIN", help="An origin CORS must accept (repeatable; default: probe_allowed_origins in the config).")
@click.option("--environment", "-e", type=click.Choice(ENVIRONMENT_CHOICES[:4]), help="Judge the service as this environment (default: production).")
@click.option("--record", type=click.Path(dir_okay=False), metavar="FILE.probe.json", help="Also save the exchanges (no cookies) for `velro-policy lint FILE.probe.json`.")
@click.option("--verbose", "-v", is_flag=True, help="Log every request to stderr.")
@click.option("--policy", "policies", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--format", "-f", "formats", multiple=True, metavar="FORMAT[=FILE]",
              help=f"Output format: {', '.join(sorted(REPORTERS))} (default text). Repeatable; FORMAT=FILE writes that format to FILE.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the last --format without =FILE to this file.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 (default: low, or fail_on in the config).")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest velro-policy.yaml or [tool.velro-policy]).")
@click.option("--no-cache", is_flag=True, help="Revalidate the policy pack instead of using the compiled cache.")
@click.option("--color/--no-color", default=None, help="Force colour on or off.")
@click.option("--debug", is_flag=True, hidden=True)
def probe(base_url: str, **kw: Any) -> None:
    """Check a running service against the http policies (post-deployment).

    Requests the probe plan's paths on BASE_URL (and nothing on any other
    host): security headers on every response, CORS from an untrusted
    origin, invalid and mock bearer tokens, error responses, and with
    --rate-limit-check the login rate limit.  No request carries real
    credentials.
    """
    formats = _parse_formats(kw["formats"], kw["output"])
    with error_handler(kw["debug"]):
        from velro_policy.commands.probe import ProbeOptions
        from velro_policy.commands.probe import probe as run_probe

        raise SystemExit(run_probe(ProbeOptions(
            base_url=base_url, plan=kw["plan"], timeout=kw["timeout"], insecure=kw["insecure"],
            follow_redirects=kw["follow_redirects"], rate_limit_check=kw["rate_limit_check"],
            allowed_origins=list(kw["allowed_origins"]), verbose=kw["verbose"], environment=kw["environment"],
            formats=formats, fail_on=kw["fail_on"], config=kw["config"],
            policies=list(kw["policies"]), record=kw["record"], use_cache=not kw["no_cache"], color=kw["color"],
        )))


def main(argv: list[str] | None = None) -> int:
    from velro_policy.error_handler import signals_raise

    try:
        with signals_raise():  # SIGTERM/SIGHUP raise like Ctrl-C: cleanups run, one line, exit 128 + signal
            cli.main(args=argv, prog_name="velro-policy", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return 0
