"""The policy schema is generated from the operator registry and must be current;
shipped policy files are valid and carry the editor schema line."""
from __future__ import annotations

import json

from conftest import REPO
from velro_policy.policy.schema_gen import build


def test_policy_schema_is_current() -> None:
    committed = json.loads((REPO / "schemas" / "policy.schema.json").read_text())
    assert committed == build(), "schemas/policy.schema.json is stale: run python -m velro_policy.policy.schema_gen"


def test_every_schema_is_a_valid_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    for path in (REPO / "schemas").glob("*.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_shipped_policies_carry_the_editor_schema_line() -> None:
    for path in (REPO / "policies").rglob("*.yaml"):
        if path.name.endswith(".semgrep.yaml"):
            continue
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = first.split("$schema=", 1)[1]
        if not target.startswith("http"):
            assert (path.parent / target).resolve().is_file(), f"{path}: {target} does not exist"
