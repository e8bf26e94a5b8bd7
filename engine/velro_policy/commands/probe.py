"""``velro-policy probe BASE_URL``: the guide's post-deployment checklist,
judged by the pack's ``http`` policies.

The steps of ``commands.run``: config and rules (``load_pack``, the ``http``
rules) -> plan -> requests (``inputs.probe.runner``, the probe's scope) ->
documents (``inputs.http``) -> judge (``judge_each``, the judge of every
command) -> merge -> report and exit code (``finish``: 0 clean, 1 findings,
2 could not probe).  There is no settle step: nothing on a server carries an
inline ignore.  A weakness seen on several responses (a missing header on
every path) is one finding: its path is the first URL, its message names
every request that showed it, the other URLs are ``related``.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from velro_policy.judge.evaluate import fingerprint, judge_each, problem_findings
from velro_policy.model import SEVERITY_RANK, FileSummary, Finding, Problem, RunResult

MAX_LISTED = 4  # requests named in a merged finding's message


class ProbeOptions(NamedTuple):
    base_url: str
    plan: str | None = None
    timeout: float = 10.0
    insecure: bool = False
    follow_redirects: bool = False
    rate_limit_check: bool = False
    allowed_origins: list[str] = []
    verbose: bool = False
    environment: str | None = None
    formats: list[tuple[str, str | None]] = [("text", None)]
    fail_on: str | None = None
    config: str | None = None
    policies: list[str] = []
    record: str | None = None
    use_cache: bool = True
    color: bool | None = None


def _plan_path(opts: ProbeOptions, config: dict[str, Any]) -> Path | None:
    if opts.plan:
        return Path(opts.plan)
    configured = config.get("probe_plan")
    if configured:
        return Path(config.get("root", ".")) / configured
    return None


def _listed(labels: list[str]) -> str:
    more = len(labels) - MAX_LISTED
    return "; ".join(labels[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")


def merge(per_doc: list[tuple[str, list[Finding]]], base_url: str) -> list[Finding]:
    """One finding per rule: the first occurrence, naming every request that showed it.

    Different failures of one rule (HSTS weak on most responses, missing on
    the 500) stay visible: each distinct message is kept with its requests.
    """
    groups: dict[str, dict[str, list[tuple[str, Finding]]]] = {}
    for label, findings in per_doc:
        for f in findings:
            groups.setdefault(f.rule_id, {}).setdefault(f.message, []).append((label, f))
    out = []
    for rule_id, by_message in groups.items():
        first = next(iter(by_message.values()))[0][1]
        parts = [f"{message} [{_listed(list(dict.fromkeys(lbl for lbl, _ in hits)))}]" for message, hits in by_message.items()]
        urls = [f.path for hits in by_message.values() for _, f in hits]
        related = tuple(u for u in dict.fromkeys(urls) if u != first.path)
        out.append(first._replace(
            message="; also: ".join(parts),
            key=first.key if len(by_message) == 1 else ", ".join(dict.fromkeys(f.key for hits in by_message.values() for _, f in hits)),
            related=related,
            fingerprint=fingerprint(rule_id, base_url, first.environment),
        ))
    return out


def collect(opts: ProbeOptions) -> RunResult:
    from velro_policy.commands.run import Options, load_pack
    from velro_policy.inputs import http
    from velro_policy.inputs.probe import runner
    from velro_policy.inputs.probe.client import Client, check_base_url
    from velro_policy.policy import probe_plan as plan_mod

    base = check_base_url(opts.base_url)
    pack = load_pack(Options(paths=["."], policies=list(opts.policies), config=opts.config, use_cache=opts.use_cache))
    rules = [r for r in pack.rules if r.target == http.TARGET]
    plan = plan_mod.load(_plan_path(opts, pack.config))
    allowed = list(opts.allowed_origins) or list(pack.config.get("probe_allowed_origins", []))
    for origin in allowed:
        if not re.fullmatch(r"https?://[^/\s]+", origin):
            from velro_policy.errors import InputError

            raise InputError(f"--allowed-origin {origin!r} must be an origin: scheme://host[:port], e.g. https://app.example.com")
    with Client(base, timeout=opts.timeout, verify=not opts.insecure, follow_redirects=opts.follow_redirects,
                verbose=opts.verbose, budget=min(600.0, max(120.0, opts.timeout * 10))) as client:
        exchanges = runner.run(client, plan, allowed_origins=allowed, rate_limit_check=opts.rate_limit_check)
        notes = list(client.notes)
        count = client.count
    environment = opts.environment or "production"
    env_source = "flag" if opts.environment else "default for a probe (--environment to change)"
    if opts.record:
        _record(opts.record, base, environment, exchanges)
    documents = http.documents(exchanges, environment, env_source)
    applied: set[str] = set()
    judge_problems: list[Problem] = []  # a rule that could not judge a value: exit 2
    judged = judge_each(documents, rules, pack.config, applied, judge_problems)
    findings = merge([(http.label(ex), found) for ex, found in zip(exchanges, judged)], base)
    problems = tuple(judge_problems)
    findings.extend(problem_findings(problems))
    if opts.insecure:
        notes.append("TLS certificate verification was off (--insecure)")
    if base.startswith("http://") and environment in ("production", "staging"):
        notes.append(f"{base} is plain http: browsers ignore HSTS there; probe the https:// URL users reach")
    if not opts.rate_limit_check:
        notes.append("rate limiting not probed (opt in with --rate-limit-check; it spends the login quota)")
    notes.insert(0, f"probed {base} with {count} requests (plan {plan.source})")
    files = tuple(dict.fromkeys(FileSummary(d.path, http.TARGET, environment, env_source) for d in documents))
    return RunResult(
        findings=tuple(sorted(findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.rule_id, f.path))),
        problems=problems,
        files=files,
        rules=tuple(rules),
        root=os.path.abspath("."),
        fail_on=opts.fail_on or pack.config.get("fail_on", "low"),
        notes=tuple(notes),
        applied=tuple(sorted(applied)),
    )


def _record(path: str, base: str, environment: str, exchanges: list[dict[str, Any]]) -> None:
    from velro_policy.errors import InputError
    from velro_policy.inputs import http

    if not os.path.basename(path).endswith(http.SUFFIX):
        raise InputError(f"--record needs a file name ending in {http.SUFFIX} (so lint and check read it back)", path=path)
    data = {"velro_probe": http.FORMAT_VERSION, "base_url": base, "environment": environment,
            "exchanges": [dict(ex) for ex in exchanges]}
    for ex in data["exchanges"]:  # type: ignore[attr-defined]  # data["exchanges"] is the list built just above;  session values never go to disk
        ex["headers"] = [h for h in ex["headers"] if h[0].lower() != "set-cookie"]
    from velro_policy.outfiles import write_text

    write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", what="the recording")


def probe(opts: ProbeOptions) -> int:
    from velro_policy.commands.run import finish

    return finish(collect(opts), opts.formats, opts.color)
