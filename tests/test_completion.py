"""Shell completion works as docs/command-line.md documents it (click's completion protocol)."""
from __future__ import annotations

from click.testing import CliRunner

from velro_policy.main import cli


def complete(words: str) -> list[str]:
    env = {"_VELRO_POLICY_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    res = CliRunner().invoke(cli, [], env=env, prog_name="velro-policy")
    assert res.exit_code == 0, res.output
    return [line.split(",", 1)[1] for line in res.output.splitlines() if "," in line]


def test_commands_options_and_choices_complete() -> None:
    assert "lint" in complete("velro-policy li")
    assert "--target" in complete("velro-policy check --tar")
    assert set(complete("velro-policy check --target ")) == {"env", "settings", "code", "app"}
