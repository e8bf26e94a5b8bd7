"""The lazy registries name what the modules define (a new source or operator
is one module plus one registry line; these tests catch a line that lies)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from velro_policy.inputs import SOURCES, TARGETS, sources_for
from velro_policy.judge.operators import OPERATORS, WHERE, all_operators


def test_every_source_is_registered_under_its_own_name_and_target() -> None:
    for name, target in TARGETS.items():
        module = SOURCES[name]
        assert (module.NAME, module.TARGET) == (name, target)
    assert list(sources_for(None)) == list(TARGETS)
    assert list(sources_for(["env"])) == ["env"]
    with pytest.raises(KeyError):
        SOURCES["nope"]


def test_every_operator_is_found_where_the_registry_says() -> None:
    ops = all_operators()
    assert set(ops) == set(WHERE)
    for name, func in ops.items():
        assert func.__name__ == name and func.__module__ == f"velro_policy.judge.operators.{WHERE[name]}"
    with pytest.raises(KeyError):
        OPERATORS["no_such_operator"]


def test_linting_an_env_file_loads_only_what_it_needs() -> None:
    code = (
        "import sys\n"
        "from velro_policy.commands.run import Options, collect\n"
        "collect(Options(paths=['examples/secure/.env.production'], targets=['env']))\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('velro_policy.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[1]).stdout.split()
    for lazy in ("velro_policy.inputs.code", "velro_policy.inputs.http",
                 "velro_policy.judge.operators.headers", "velro_policy.judge.operators.tables"):
        assert lazy not in out, out
    assert "velro_policy.inputs.env" in out and "velro_policy.judge.operators.basic" in out
