"""Loading and validating policy files (heavy path: ruamel, jsonschema, pydantic).

Runs only when the compiled pack cache misses (see ``pack``).  Each file is
read with positions, validated against ``schemas/policy.schema.json``, then
built into pydantic models that check what a schema cannot (regexes compile
in RE2, selectors parse, rule ids are unique), and finally compiled to the
plain dicts the evaluator works on.  All errors of a file are collected and
reported as ``file:line:col: message``.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from velro_policy.errors import PolicyError
from velro_policy.resources import schema_path
from velro_policy.rules import ROLES, Rule, parse_check
from velro_policy.values import selectors, yamlio
from velro_policy.values.environments import REAL_ENVIRONMENTS
from velro_policy.values.regexes import PatternError, compile_pattern

Severity = Literal["info", "low", "medium", "high", "critical"]
ROLE_TARGETS = ("env", "settings")  # the targets whose values have a variable that can play a role
EnvList = Literal["all"] | list[str]


class Metadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str
    description: str = ""
    guide_section: str = ""


class RoleSelect(BaseModel):
    """``{role: jwt-signing-key}``: values of the variables that play this role in the app
    (``under: __git__``: their copies under that key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: str
    under: str = ""

    @field_validator("role")
    @classmethod
    def _known_role(cls, v: str) -> str:
        if v not in ROLES:
            raise ValueError(f"unknown role {v!r}; the roles are {', '.join(ROLES)}")
        return v

    def compiled(self) -> str:
        return f"{self.under}:{self.role}" if self.under else self.role


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    severity: Severity
    remediation: str
    description: str = ""
    select: list[str | RoleSelect] = Field(default_factory=list)
    check: dict[str, Any] = Field(default_factory=dict)
    semgrep: dict[str, Any] | None = None
    semgrep_file: str | None = None
    message: str = ""
    environments: EnvList | None = None
    guide_section: str = ""
    secret: bool = False
    suppressible: bool = True
    examples: dict[str, str] = Field(default_factory=dict)

    @field_validator("select", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, (str, dict)) else v

    @field_validator("select")
    @classmethod
    def _selectors_parse(cls, v: list[str | RoleSelect]) -> list[str | RoleSelect]:
        for s in v:
            if not isinstance(s, str):
                continue
            try:
                selectors.compile_selector(s[1:] if s.startswith("!") else s)
            except selectors.SelectorError as exc:
                raise ValueError(str(exc)) from None
        return v

    def names(self) -> list[str]:
        return [s for s in self.select if isinstance(s, str)]

    def roles(self) -> list[str]:
        return [s.compiled() for s in self.select if isinstance(s, RoleSelect)]

    @field_validator("check")
    @classmethod
    def _regexes_compile(cls, v: dict[str, Any]) -> dict[str, Any]:
        for pattern in _patterns(v):
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return v


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    api_version: Literal["velro-policy/v1"] = Field(alias="apiVersion")
    kind: Literal["Policy"]
    metadata: Metadata
    target: Literal["env", "settings", "code", "project", "http", "app"]
    environments: EnvList = "all"
    rules: list[RuleModel]


def _patterns(check: Any) -> list[str]:
    out: list[str] = []
    if isinstance(check, dict):
        for op, param in check.items():
            if op in ("matches", "not_matches"):
                if isinstance(param, dict) and "by_environment" in param:
                    out.extend(p for p in param["by_environment"].values() if isinstance(p, str))
                elif isinstance(param, str):
                    out.append(param)
            else:
                out.extend(_patterns(param))
    elif isinstance(check, list):
        for item in check:
            out.extend(_patterns(item))
    return out


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def schema_errors(data: Any, schema_name: str) -> list[tuple[list[Any], str]]:
    """(path, message) for every schema violation, most specific first."""
    from jsonschema.exceptions import best_match

    out = []
    for err in sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path)):
        deepest = best_match([err]) if err.context else err
        where = list(deepest.absolute_path) or list(err.absolute_path)
        msg = deepest.message
        if len(msg) > 200:
            msg = msg[:197] + "..."
        out.append((where, msg))
    return out


def _envs(value: Any) -> list[str]:
    return list(REAL_ENVIRONMENTS) if value in (None, "all") else list(value)


def load_validated(text: str, display: str, schema_name: str, what: str) -> tuple[Any, dict[str, Any]]:
    """YAML text -> (ruamel root with positions, plain data) valid against a schema.

    The one loader of every velro-policy YAML document (policies, policy
    tests, probe plans): schema errors are reported as ``file:line:col``,
    all of them, on one line.
    """
    root = yamlio.load(text, display)
    data = yamlio.plain(root)
    if not isinstance(data, dict):
        raise PolicyError(f"a {what} must be a mapping starting with `apiVersion: velro-policy/v1`", path=display, line=1, col=1)
    errors = schema_errors(data, schema_name)
    if errors:
        lines = []
        for where, msg in errors:
            line, col = yamlio.locate(root, where)
            dotted = ".".join(str(p) for p in where) or "(top level)"
            lines.append(f"{display}:{line}:{col}: {dotted}: {msg}")
        raise PolicyError(_joined(lines, f"fix the {what} (schema: {schema_name})"))
    return root, data


def load_file(path: Path, display: str) -> tuple[dict[str, Any], list[Rule]]:
    """Validate one policy file; return its summary and its compiled rules."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file ({exc.__class__.__name__}); check the path and that it is UTF-8", path=display) from None
    root, data = load_validated(text, display, "policy.schema.json", "policy")
    try:
        model = PolicyFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = [p for p in err["loc"] if isinstance(p, (str, int))]
            where = ["apiVersion" if p == "api_version" else p for p in where]
            line, col = yamlio.locate(root, where)
            lines.append(f"{display}:{line}:{col}: {'.'.join(str(p) for p in where)}: {err['msg']}")
        raise PolicyError(_joined(lines, "fix the policy")) from None
    rules: list[Rule] = []
    for index, rule in enumerate(model.rules):
        line, _ = yamlio.locate(root, ["rules", index])
        if model.target != "code" and not rule.select:
            raise PolicyError(f"rule {rule.id} needs `select` and `check`", path=display, line=line, col=1)
        if rule.roles() and model.target not in ROLE_TARGETS:
            raise PolicyError(f"rule {rule.id}: a role selector ({{role: ...}}) needs target {' or '.join(ROLE_TARGETS)}",
                              path=display, line=line, col=1)
        semgrep_file = _code_rule(rule, model.target, path, display, line)
        _project_rule(rule, model.target, display, line)
        rules.append(Rule(
            id=rule.id, title=rule.title, description=rule.description, severity=rule.severity, target=model.target,
            environments=tuple(_envs(rule.environments if rule.environments is not None else model.environments)),
            select=tuple(rule.names()), roles=tuple(rule.roles()), check=parse_check(rule.check), semgrep=rule.semgrep, semgrep_file=semgrep_file,
            message=rule.message, remediation=rule.remediation.strip(),
            guide_section=rule.guide_section or model.metadata.guide_section, secret=rule.secret,
            suppressible=rule.suppressible, examples=dict(rule.examples), policy=model.metadata.name, file=display, line=line,
        ))
    summary = {"name": model.metadata.name, "title": model.metadata.title, "file": display, "target": model.target,
               "guide_section": model.metadata.guide_section, "rules": [r.id for r in rules]}
    return summary, rules


def _code_rule(rule: RuleModel, target: str, path: Path, display: str, line: int) -> str | None:
    """Checks of a code rule the schema cannot express; its semgrep_file as an absolute path."""
    if target != "code":
        if rule.semgrep is not None or rule.semgrep_file is not None:
            raise PolicyError(f"rule {rule.id}: `semgrep`/`semgrep_file` need `target: code`", path=display, line=line, col=1)
        return None
    if (rule.semgrep is None) == (rule.semgrep_file is None):
        raise PolicyError(f"rule {rule.id} needs exactly one of `semgrep` (inline) or `semgrep_file`", path=display, line=line, col=1)
    if rule.semgrep is not None and not any(k.startswith("pattern") or k in ("match", "taint") for k in rule.semgrep):
        raise PolicyError(f"rule {rule.id}: `semgrep` needs a pattern (pattern, patterns, pattern-either, pattern-regex...)", path=display, line=line, col=1)
    if bool(rule.select) != bool(rule.check) or any(not isinstance(s, str) or not s.startswith("$") for s in rule.select):
        raise PolicyError(f"rule {rule.id}: in a code rule, `select` names Semgrep metavariables ($LIMIT) and comes with a `check`", path=display, line=line, col=1)
    if rule.semgrep_file is None:
        return None
    file = (path.parent / rule.semgrep_file).resolve()
    if not file.is_file():
        raise PolicyError(f"rule {rule.id}: semgrep_file {rule.semgrep_file} does not exist next to the policy; fix the path", path=display, line=line, col=1)
    return str(file)


def _project_rule(rule: RuleModel, target: str, display: str, line: int) -> None:
    """A project rule's check is exactly one project check (judge.project.CHECKS); other rules use none."""
    from velro_policy.judge.project import CHECKS

    used = [k for k in rule.check if k in CHECKS]
    if target == "project" and (len(rule.check) != 1 or not used):
        raise PolicyError(f"rule {rule.id}: a project rule's check is exactly one of {', '.join(CHECKS)}", path=display, line=line, col=1)
    if target != "project" and used:
        raise PolicyError(f"rule {rule.id}: {used[0]} is a project check; it needs `target: project`", path=display, line=line, col=1)


def _joined(lines: list[str], advice: str) -> str:
    if len(lines) == 1:
        return f"{lines[0]}; {advice}"
    return f"{lines[0]}; {advice} (and {len(lines) - 1} more: " + " | ".join(lines[1:4]) + ")"


def load_all(files: list[tuple[Path, str]]) -> tuple[list[dict[str, Any]], list[Rule]]:
    """All policy files -> (policy summaries, rules).  Duplicate rule ids are an error."""
    policies: list[dict[str, Any]] = []
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, display in files:
        summary, compiled = load_file(path, display)
        for rule in compiled:
            if rule.id in seen:
                raise PolicyError(f"rule id {rule.id} is already defined in {seen[rule.id]}; rule ids must be unique",
                                  path=display, line=rule.line, col=1)
            seen[rule.id] = display
        policies.append(summary)
        rules.extend(compiled)
    return policies, rules
