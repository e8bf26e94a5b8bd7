"""One-line unit tests of policies: ``findings(filename, text, policy_yaml)``.

Runs the real pipeline in process (config -> rules -> scope -> documents ->
judge -> settle) on one file, with only the given policy (no built-in pack),
and returns ``(line, rule_id)`` pairs in output order.
"""
from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path


def findings(filename: str, text: str, policy: str, *, environment: str | None = None) -> list[tuple[int, str]]:
    from velro_policy.commands.run import Options, collect

    with tempfile.TemporaryDirectory(prefix="velro-unit-") as tmp:
        root = Path(tmp)
        (root / "policy.yaml").write_text(textwrap.dedent(policy), encoding="utf-8")
        (root / "velro-policy.yaml").write_text("builtin: false\npolicies: [policy.yaml]\n", encoding="utf-8")
        target = root / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
        cwd = os.getcwd()
        os.chdir(root)
        try:
            result = collect(Options(paths=[filename], config="velro-policy.yaml", environment=environment, use_cache=False))
        finally:
            os.chdir(cwd)
        if result.problems:
            raise AssertionError(f"could not check: {result.problems}")
        return [(f.line, f.rule_id) for f in result.findings]
