"""``policies list``, ``policies validate`` and ``explain``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from velro_policy.errors import VelroError
from velro_policy.policy import config as config_mod
from velro_policy.policy import pack as pack_mod
from velro_policy.rules import Rule, check_data, role_selector


def _pack(extra: list[str], config: str | None, use_config: bool = True) -> pack_mod.Pack:
    cfg = Path(config) if config else (config_mod.find(".") if use_config else None)
    return pack_mod.load(cfg, extra)


def _envs(rule: Rule) -> str:
    return ", ".join(rule.environments)


def list_rules(extra: list[str], config: str | None, fmt: str, *, use_config: bool = True) -> int:
    pack = _pack(extra, config, use_config)
    rules = sorted(pack.rules, key=lambda r: r.id)
    out = sys.stdout
    if fmt == "json":
        json.dump([{k: getattr(r, k) for k in ("id", "title", "severity", "target", "environments", "policy", "file", "guide_section")} for r in rules],
                  out, indent=2, sort_keys=True)
        out.write("\n")
    elif fmt == "markdown":
        out.write(markdown_reference(rules))
    else:
        width = max((len(r.id) for r in rules), default=10)
        for r in rules:
            out.write(f"{r.id:<{width}}  {r.severity:<8}  {r.target:<8}  {r.title}  [{_envs(r)}]  ({r.file})\n")
        out.write(f"{len(rules)} rules from {len(pack.policies)} policy files\n")
    return 0


def markdown_reference(rules: list[Rule]) -> str:
    lines = ["| Rule | Severity | Target | Environments | What it checks | Guide section |", "|---|---|---|---|---|---|"]
    for r in sorted(rules, key=lambda r: r.id):
        lines.append(f"| `{r.id}` | {r.severity} | {r.target} | {_envs(r)} | {r.title} | {r.guide_section} |")
    return "\n".join(lines) + "\n"


def validate(paths: list[str]) -> int:
    from velro_policy.policy import load as policy

    files: list[tuple[Path, str]] = []
    for p in paths:
        for f in pack_mod._policy_files(Path(p)):
            files.append((f, str(f)))
    if not files:
        raise VelroError("no policy files (*.yaml) found", path=paths[0])
    _, rules = policy.load_all(files)
    print(f"{len(files)} policy file{'s' if len(files) != 1 else ''} valid, {len(rules)} rules")
    return 0


def explain(rule_id: str, extra: list[str], config: str | None) -> int:
    pack = _pack(extra, config)
    rule = next((r for r in pack.rules if r.id == rule_id), None)
    if rule is None:
        close = [r.id for r in pack.rules if rule_id.split("/")[-1] in r.id]
        hint = f"; did you mean {', '.join(close[:3])}?" if close else "; see `velro-policy policies list`"
        raise VelroError(f"unknown rule id {rule_id!r}{hint}")
    w = sys.stdout.write
    w(f"{rule.id}: {rule.title}\n")
    w(f"  severity: {rule.severity}   target: {rule.target}   environments: {_envs(rule)}\n")
    w(f"  policy: {rule.policy} ({rule.file}:{rule.line})\n")
    if rule.guide_section:
        w(f"  guide section: {rule.guide_section}\n")
    if rule.description:
        w(f"\n{rule.description.strip()}\n")
    if rule.select or rule.roles:
        roles = [f"the {role} variable" + (f" (under {under})" if under else "") for under, role in map(role_selector, rule.roles)]
        w(f"\nselects: {', '.join([*rule.select, *roles])}\n")
        w(f"check:   {json.dumps(check_data(rule.check), sort_keys=True)}\n")
    examples = rule.examples or {}
    if examples.get("bad"):
        w(f"\nviolation:\n{_indent(examples['bad'])}")
    if examples.get("good"):
        w(f"fix:\n{_indent(examples['good'])}")
    w(f"\nremediation:\n{_indent(rule.remediation)}")
    if not rule.suppressible:
        w("\nThis rule cannot be suppressed by inline ignores or config exceptions.\n")
    return 0


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.strip().splitlines())
