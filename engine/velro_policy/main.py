"""The command line (click).  The only module that imports click; each
command parses its options and calls one ``commands`` function that returns
the exit code: 0 clean, 1 findings at or above --fail-on, 2 could not check.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import click

from velro_policy import __version__
from velro_policy.error_handler import error_handler
from velro_policy.model import SEVERITIES
from velro_policy.reporters import REPORTERS

ENVIRONMENT_CHOICES = ("production", "staging", "development", "test", "template")


def _parse_formats(formats: tuple[str, ...], output: Optional[str]) -> list[tuple[str, Optional[str]]]:
    out: list[tuple[str, Optional[str]]] = []
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
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(paths: tuple[str, ...], targets: Optional[list[str]], **kw: Any) -> None:
    with error_handler(kw.get("debug", False)):
        from velro_policy.commands.run import Options, run

        opts = Options(
            paths=list(paths) or ["."],
            policies=list(kw["policies"]),
            only=list(kw["only"]),
            skip=list(kw["skip"]),
            environment=kw["environment"],
            formats=_parse_formats(kw["formats"], kw["output"]),
            fail_on=kw["fail_on"],
            config=kw["config"],
            targets=targets,
            use_cache=not kw["no_cache"],
            color=kw["color"],
        )
        raise SystemExit(run(opts))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="velro-policy")
def cli() -> None:
    """velro-policy: security policies as code for FastAPI/Supabase backends.

    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 could not check
    (bad input, bad policy or config, scanner failure).
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@run_options
def lint(paths: tuple[str, ...], **kw: Any) -> None:
    """Lint env files (and any other file given) against the policies.

    PATHS are files or directories (default: .). Directories are walked for
    .env, .env.* and *.env files, skipping .git, node_modules, virtualenvs and
    gitignored directories.
    """
    _run(paths, None, **kw)


@cli.command()
@click.argument("directory", required=False, type=click.Path(exists=False, file_okay=False))
@click.option("--target", "targets", multiple=True, type=click.Choice(["env", "settings", "code"]), help="Only these targets (repeatable; default: all).")
@run_options
def check(directory: Optional[str], targets: tuple[str, ...], **kw: Any) -> None:
    """Check a whole project (default: .) with every target it has."""
    _run((directory or ".",), list(targets) or None, **kw)


@cli.group()
def policies() -> None:
    """List and validate policies."""


@policies.command("list")
@click.option("--policy", "extra", multiple=True, type=click.Path(), help="Extra policy file or folder (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: nearest one).")
@click.option("--no-config", is_flag=True, help="Ignore any project config (list the built-in pack and --policy only).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def policies_list(extra: tuple[str, ...], config: Optional[str], no_config: bool, fmt: str) -> None:
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
def explain(rule_id: str, extra: tuple[str, ...], config: Optional[str]) -> None:
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


def main(argv: Optional[list[str]] = None) -> int:
    try:
        cli.main(args=argv, prog_name="velro-policy", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return 0
