"""Generates ``schemas/policy.schema.json`` from the operator registry.

The schema documents every operator (its parameter and docstring), so it is
generated rather than hand-kept: ``python -m velro_policy.policy.schema_gen`` writes
it, and a test fails when the committed file is out of date.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from velro_policy.judge.operators import all_operators
from velro_policy.judge.project import CHECKS as PROJECT_CHECKS
from velro_policy.model import SEVERITIES
from velro_policy.rules import ROLES
from velro_policy.values.environments import ENVIRONMENTS

SCHEMA_ID = "https://velro-policy.dev/schemas/policy.schema.json"
TARGETS = ["env", "settings", "code", "project", "http", "app"]


def _by_environment(param: dict[str, object]) -> dict[str, object]:
    return {
        "type": "object",
        "required": ["by_environment"],
        "additionalProperties": False,
        "properties": {
            "by_environment": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": [*ENVIRONMENTS, "default"]},
                "additionalProperties": param,
                "description": "A parameter per environment; 'default' covers the others.",
            }
        },
    }


def build() -> dict[str, object]:
    ops: dict[str, object] = {}
    for name, func in all_operators().items():
        param = dict(func.param_schema)
        desc = str(param.pop("description", "")) or (func.__doc__ or "").strip()
        ops[name] = {"description": desc, "anyOf": [param, _by_environment(param)]}
    for name, (_, param) in PROJECT_CHECKS.items():  # target: project only (policy.py enforces it)
        ops[name] = {k: v for k, v in param.items() if k != "description"} | {"description": param.get("description", "")}
    check_props: dict[str, object] = {
        **ops,
        "all": {"type": "array", "items": {"$ref": "#/$defs/check"}, "minItems": 1, "description": "Every sub-check passes."},
        "any": {"type": "array", "items": {"$ref": "#/$defs/check"}, "minItems": 1, "description": "At least one sub-check passes."},
        "not": {"$ref": "#/$defs/check", "description": "The sub-check fails."},
    }
    env_list = {
        "anyOf": [
            {"const": "all", "description": "Every real environment (not templates)."},
            {"type": "array", "items": {"enum": list(ENVIRONMENTS)}, "minItems": 1, "uniqueItems": True},
        ]
    }
    selector = {
        "description": (
            "Which values the rule judges, in the path language: `DEBUG`; a glob such as `*_RATE_LIMIT_LOGIN`; "
            "`SECURITY_HEADERS[\"X-Frame-Options\"]`; `*[\"Strict-Transport-Security\"]` (that key in any top-level dict); "
            "`**[\"X\"]` (any depth); `[*]` any one key or index; `Settings.debug` a class field; a selector starting with `!` excludes what it matches (also what a role picks); `{role: jwt-signing-key}` the variables that play a role in the app. Case-insensitive. In a code rule: Semgrep metavariables (`$LIMIT`) whose matched literal the `check` judges; the match is a finding only when the check fails."
        ),
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"$ref": "#/$defs/role_selector"},
            {"type": "array", "items": {"anyOf": [{"type": "string", "minLength": 1}, {"$ref": "#/$defs/role_selector"}]}, "minItems": 1},
        ],
    }
    role_selector = {
        "type": "object",
        "additionalProperties": False,
        "required": ["role"],
        "description": (
            "env and settings targets: the values of the variables that play this role in the application, found by use in "
            "the deployed code (`velro-policy app` shows them). Selected in a run on a directory, where the application model "
            "is built; a run without it (named files, --staged, `lint .env`) selects by name only, so keep the usual names "
            "beside the role. A value picked by a name and by the role is judged once."
        ),
        "properties": {
            "role": {"enum": list(ROLES), "description": "; ".join(f"`{k}`: {v}" for k, v in ROLES.items())},
            "under": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                      "description": "Pick the copy under this top-level key instead (`__git__`: the committed values, `__git__[\"X\"]`)."},
        },
    }
    rule = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", "severity", "remediation"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)+$", "description": "Stable rule id, `namespace/name`; used by --only, --skip, baselines and ignores."},
            "title": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "severity": {"enum": list(SEVERITIES)},
            "select": selector,
            "check": {"$ref": "#/$defs/check"},
            "semgrep": {"type": "object", "description": "code target: one Semgrep rule (without `id`, `message`, `severity`, which come from this rule)."},
            "semgrep_file": {"type": "string", "minLength": 1, "description": "code target: a Semgrep rule file (`rules:` list), relative to this policy; a match of any of its rules is a finding of this rule. Name it *.semgrep.yaml so it is not loaded as a policy."},
            "message": {"type": "string", "minLength": 1, "description": "code target: the finding's message; $METAVARIABLES are replaced by the matched code (masked like any value). Default: the title."},
            "environments": env_list,
            "remediation": {"type": "string", "minLength": 1, "description": "What to do; for a secret, the command that generates one."},
            "guide_section": {"type": "string"},
            "secret": {"type": "boolean", "default": False, "description": "The selected values are secrets: never shown, only masked."},
            "suppressible": {"type": "boolean", "default": True, "description": "false: inline ignores and config exceptions cannot silence this rule."},
            "examples": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"bad": {"type": "string"}, "good": {"type": "string"}},
                "description": "A violation and its fix, shown by `velro-policy explain`.",
            },
        },
        "allOf": [
            {"if": {"anyOf": [{"required": ["semgrep"]}, {"required": ["semgrep_file"]}]},
             "then": {"not": {"required": ["semgrep", "semgrep_file"]}, "dependentRequired": {"select": ["check"], "check": ["select"]}},
             "else": {"required": ["select", "check"]}},
        ],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "velro-policy policy file",
        "description": "A velro-policy policy: metadata, a target, the environments it applies to, and rules made of a selector and a check. Generated by `python -m velro_policy.policy.schema_gen`; do not edit by hand.",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "target", "rules"],
        "properties": {
            "apiVersion": {"const": "velro-policy/v1"},
            "kind": {"const": "Policy"},
            "metadata": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "title"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$"},
                    "title": {"type": "string", "minLength": 1},
                    "description": {"type": "string"},
                    "guide_section": {"type": "string", "description": "The section of the security guide this policy encodes."},
                },
            },
            "target": {"enum": TARGETS, "description": "What the rules read: env files, settings modules (Python read with ast), code (Semgrep), or project: every env file and settings module at once (cross-file checks); http: responses of a running service (`velro-policy probe`); app: the application model, one entry per route (`routes[\"POST /auth/login\"]`, a Route record)."},
            "environments": {**env_list, "description": "Environments the rules apply to unless a rule says otherwise (default: all)."},
            "rules": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/rule"}},
        },
        "$defs": {
            "rule": rule,
            "role_selector": role_selector,
            "check": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "description": "Operators (all must pass) and combinators.",
                "properties": check_props,
            },
        },
    }


def main() -> int:
    from velro_policy.resources import schema_path

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else schema_path("policy.schema.json")
    target.write_text(json.dumps(build(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
