"""``velro-policy fix [PATHS]``: safe, reviewable fixes for env files.

What is fixed is derived from the policies in force, never hard-coded: each
env file is evaluated as ``lint`` would, and a finding is fixed when its
rule's check says what the value must be:

- ``boolean: false`` / ``boolean: true`` (the env matrix: DEBUG=false, ...),
  ``equals: <scalar>`` and ``rate_at_most: <rate>`` set that value (per
  environment where the parameter is ``by_environment``);
- a rule marked ``secret: true`` whose check has ``min_length: N`` (the JWT
  secret) gets a new ``secrets.token_urlsafe(N)`` (N bytes give about 4N/3
  characters, so 96 gives 128 as the guide does);
- ``not_real_secret`` in a template (a real secret in ``.env.example``) gets a
  placeholder ``REPLACE_WITH_<KEY>``;
- ``no_wildcard`` (CORS) replaces the wildcard with the origins of
  ``fix.allowed_origins`` for that environment in velro-policy.yaml, and only
  then: without an explicit allowlist nobody can know the right origins.

Anything else is listed as needing a person.  A file is edited in place,
one value at a time: comments, order, ``export``, quoting (the value keeps
its quote character) and line endings (CRLF, a BOM) stay as they were.
``--dry-run`` prints a unified diff in which every secret is masked.  A
generated secret is written to the file only, never printed.  When a file
whose secret was replaced is tracked by git, a warning says the old secret
must be rotated: it is in the history.  A second ``fix`` changes nothing.

Exit code: 0 when nothing is left to fix (after a dry run: nothing to
change), 1 when findings remain that ``fix`` cannot resolve or, with
``--dry-run``, when there are changes to make; 2 when a file cannot be read.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import secrets
import sys
from typing import IO, Any, NamedTuple

from velro_policy.errors import InputError
from velro_policy.model import Document, Entry, Finding, Unknown
from velro_policy.rules import All, Check, Op, Rule, resolve
from velro_policy.values import masking

_NEWLINE = re.compile(r"\r\n|\r|\n")


class Change(NamedTuple):
    """One value to rewrite."""

    line: int  # 1-based
    key: str
    new: str
    rule_id: str
    secret: bool  # never print the old or the new value
    generated: bool = False  # a new secret from secrets.token_urlsafe


class Outcome(NamedTuple):
    path: str
    changes: list[Change]
    left: list[str]  # findings fix cannot resolve, as messages
    old: str
    new: str


# --- deriving the wanted value from a rule --------------------------------

def _ops(check: Check, environment: str) -> dict[str, Any]:
    """The operators a check requires (through ``all``), parameters resolved for the environment."""
    out: dict[str, Any] = {}
    if isinstance(check, Op):
        p = resolve(check.param, environment)
        if p is not None:
            out[check.name] = p
    elif isinstance(check, All):
        for sub in check.items:
            out.update(_ops(sub, environment))
    return out


def _scalar(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _origins(value: str, allow: list[str]) -> str | None:
    """The origin list without wildcards, with the allowlist, in the value's own format."""
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            return None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            return None
        kept = [i for i in items if "*" not in i]
        return json.dumps(kept + [a for a in allow if a not in kept], separators=(",", ":"))
    items = [i.strip() for i in text.split(",") if i.strip()]
    kept = [i for i in items if "*" not in i]
    return ",".join(kept + [a for a in allow if a not in kept])


def wanted(rule: Rule, entry: Entry, doc: Document, config: dict[str, Any]) -> tuple[str | None, str, bool]:
    """(new value or None, why not, generated) for a finding of ``rule`` at ``entry``."""
    ops = _ops(rule.check, doc.environment)
    secret = bool(rule.secret)
    if isinstance(ops.get("boolean"), bool):
        return _scalar(ops["boolean"]), "", False
    if "equals" in ops and isinstance(ops["equals"], (str, int, float, bool)):
        return _scalar(ops["equals"]), "", False
    if isinstance(ops.get("rate_at_most"), str):
        return ops["rate_at_most"].strip(), "", False
    if "no_wildcard" in ops:
        table = (config.get("fix") or {}).get("allowed_origins") or {}
        allow = table.get(doc.environment) or table.get("default")
        if not allow:
            return None, f"set fix.allowed_origins.{doc.environment} in velro-policy.yaml to let fix replace the wildcard", False
        new = _origins(str(entry.value), list(allow))
        return (new, "", False) if new else (None, "the origin list cannot be read; edit it by hand", False)
    if secret and doc.is_template and "not_real_secret" in ops:
        return f"REPLACE_WITH_{re.sub(r'[^A-Z0-9]+', '_', entry.key.upper()).strip('_')}", "", False
    if secret and not doc.is_template and isinstance(ops.get("min_length"), int):
        return secrets.token_urlsafe(max(int(ops["min_length"]), 32)), "", True
    return None, "no value follows from the policy; fix it by hand", False


# --- editing one line, keeping everything else ------------------------------

def _line_re(key: str) -> re.Pattern[str]:
    return re.compile(r"^(?P<pre>\ufeff?[ \t]*(?:export[ \t]+)?" + re.escape(key) + r"[ \t]*=[ \t]*)(?P<rest>.*)$", re.DOTALL)


def _replace_value(line: str, key: str, new: str) -> str | None:
    """``line`` (without its newline) with the value of ``key`` replaced; None when the
    line is not a one-line binding of ``key`` that can be edited safely."""
    m = _line_re(key).match(line)
    if not m:
        return None
    pre, rest = m["pre"], m["rest"]
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        end = rest.find(quote, 1)
        while end != -1 and quote == '"' and rest[end - 1] == "\\":
            end = rest.find(quote, end + 1)
        if end == -1:
            return None  # multi-line or unterminated: not touched
        if quote in new or (quote == '"' and "\\" in new):
            return None
        return f"{pre}{quote}{new}{quote}{rest[end + 1:]}"
    cm = re.search(r"[ \t]+#", rest)
    value_end = cm.start() if cm else len(rest.rstrip(" \t"))
    if any(c in new for c in " \t#'\"\\") and not new.startswith(("[", "{")):
        return None
    return f"{pre}{new}{rest[value_end:]}"


def _apply(text: str, changes: list[Change]) -> tuple[str, list[Change]]:
    parts = _NEWLINE.split(text)
    ends = _NEWLINE.findall(text) + [""]
    done: list[Change] = []
    for c in changes:
        i = c.line - 1
        if 0 <= i < len(parts):
            edited = _replace_value(parts[i], c.key, c.new)
            if edited is not None and edited != parts[i]:
                parts[i] = edited
                done.append(c)
    return "".join(p + e for p, e in zip(parts, ends)), done


# --- reading and judging ------------------------------------------------------

def _document(text: str, path: str, display: str, flag: str | None, config: dict[str, Any]) -> Document:
    """The documents step for a text held in memory (the file as read, then after each round of edits):
    the env source's own reading, so a file is judged as ``lint`` judges it."""
    from velro_policy.inputs import env

    return env.read_document(text[1:] if text.startswith("\ufeff") else text, path, display_path=display,
                             flag_environment=flag, settings=env.settings_for(config))


def _findings(doc: Document, rules: list[Rule], config: dict[str, Any]) -> list[Finding]:
    """The judge step of ``lint``, on the env rules (fix edits values; the ``__git__`` copies are not values)."""
    from velro_policy.judge.evaluate import judge_documents

    env_rules = [r for r in rules if r.target == "env"]
    return [f for f in judge_documents([doc], env_rules, config) if not f.key.endswith(" (in the git index)")]


def plan(path: str, display: str, rules: list[Rule], config: dict[str, Any], flag: str | None) -> Outcome:
    """The changes for one env file, applied to its text (nothing written)."""
    from velro_policy.inputs._files import read_capped

    try:
        raw = read_capped(path)  # None: a FIFO, a device or a file over the cap, which lint reports too
        if raw is None:
            raise InputError("is not a regular file of at most 64 MiB; fix does not edit it", path=display)
        text = raw.decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror}); check the path", path=display) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8; fix cannot edit it safely", path=display) from None
    by_id = {str(r.id): r for r in rules}
    current = text
    all_done: list[Change] = []
    left: list[str] = []
    for _ in range(3):  # a value may need two fixes (wildcard, then a rate); converges fast
        doc = _document(current, path, display, flag, config)
        if doc.problems:
            p = doc.problems[0]
            raise InputError(f"{p.message}; fix cannot edit a file it cannot parse", path=display, line=p.line)
        entries = {(e.loc.line, e.key): e for e in doc.entries}
        changes: list[Change] = []
        left = []
        seen: set[tuple[int, str]] = set()
        for f in _findings(doc, rules, config):
            rule = by_id.get(f.rule_id)
            entry = entries.get((f.line, f.key))
            if rule is None or entry is None or (f.line, f.key) in seen:
                if rule is not None and entry is None:
                    left.append(f"{display}:{f.line}: {f.rule_id}: {f.message} (no single value to set; fix it by hand)")
                continue
            if isinstance(entry.value, Unknown):  # ${PLATFORM_VAR}: set at run time on purpose
                left.append(f"{display}:{f.line}: {f.rule_id}: {f.message} (the value comes from elsewhere; check it there)")
                continue
            new, why, generated = wanted(rule, entry, doc, config)
            if new is None:
                left.append(f"{display}:{f.line}: {f.rule_id}: {f.message} ({why})")
                continue
            seen.add((f.line, f.key))
            secret = bool(rule.secret) or masking.is_secret_key(entry.key)
            changes.append(Change(f.line, entry.key, new, f.rule_id, secret, generated))
        if not changes:
            break
        current, done = _apply(current, changes)
        for c in changes:
            if c not in done:
                left.append(f"{display}:{c.line}: {c.rule_id}: {c.key} is quoted or spread over lines in a way fix does not rewrite; edit it by hand")
        all_done.extend(done)
        if len(done) < len(changes):
            break
    return Outcome(display, sorted(all_done, key=lambda c: c.line), sorted(set(left)), text, current)


# --- showing ----------------------------------------------------------------

def _masked_text(text: str, secret_keys: set[str], changed_keys: set[str]) -> list[str]:
    """The text for the diff.  Only the values fix changes are shown (through
    ``masking.show``); every other value, the context of the diff, is shown as
    its length only, and a line that continues a multi-line value (a PEM key)
    not at all: a context line must not print a value whose key does not look
    secret (``NOTES=correct horse battery staple``) or that hides in a tail."""
    from velro_policy.inputs.env import parse_env

    entries, _ = parse_env(text[1:] if text.startswith("\ufeff") else text, "")
    by_line = {e.loc.line: e for e in entries}
    out = []
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with a newline
    for i, line in enumerate(lines, start=1):
        e = by_line.get(i)
        if e is not None and isinstance(e.value, str) and e.value:
            if e.key.upper() not in changed_keys:
                line = f"{e.key}=<{len(e.value)} chars, unchanged, not shown>"
            else:
                secret = e.key.upper() in secret_keys or masking.is_secret_key(e.key)
                shown = masking.show(e.key, e.value, secret=secret)
                if secret or shown != repr(e.value):
                    line = f"{e.key}=<{shown}>"
        elif e is None and line.strip() and not line.lstrip().startswith("#"):
            line = _mask_loose(line)
        out.append(line + "\n")
    return out


def _mask_loose(line: str) -> str:
    """A line the parser did not bind (a duplicate, a multi-line tail): never shown."""
    key, eq, _ = line.partition("=")
    if eq and key.strip() and all(c.isalnum() or c in "_.- " for c in key.strip()):
        return f"{key}=<not shown>"
    return "<line not shown>"


def _diff(o: Outcome) -> str:
    secret_keys = {c.key.upper() for c in o.changes if c.secret}
    changed_keys = {c.key.upper() for c in o.changes}
    before, after = _masked_text(o.old, secret_keys, changed_keys), _masked_text(o.new, secret_keys, changed_keys)
    for c in o.changes:  # the masked new secret says where it came from, nothing of its value
        if c.generated:
            i = c.line - 1
            after[i] = f"{c.key}=<new secrets.token_urlsafe value, {len(c.new)} chars, written to the file only>\n"
    return "".join(difflib.unified_diff(before, after, f"a/{o.path}", f"b/{o.path}"))


def _describe(c: Change) -> str:
    if c.generated:
        return f"{c.key}: new secret from secrets.token_urlsafe ({len(c.new)} chars), written to the file only ({c.rule_id})"
    if c.secret:
        return f"{c.key}: replaced with a placeholder ({c.rule_id})"
    return f"{c.key}={c.new} ({c.rule_id})"


def _write(path: str, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".velro-fix-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _env_files(paths: list[str], config: dict[str, Any]) -> list[str]:
    """The scope step of ``lint --target env``: the env files under ``paths``."""
    from velro_policy.commands.run import find_files

    return find_files(paths, config, ["env"]).files.get("env", [])


def fix(paths: list[str], *, dry_run: bool = False, environment: str | None = None, config: str | None = None,
        policies: list[str] | None = None, use_cache: bool = True, out: IO[str] | None = None,
        err: IO[str] | None = None) -> int:
    from velro_policy.commands.run import Options, display_path, load_pack

    out = out or sys.stdout
    err = err or sys.stderr
    pack = load_pack(Options(paths=paths, policies=list(policies or []), config=config, use_cache=use_cache))
    cfg = pack.config
    files = _env_files(paths, cfg)
    outcomes = [(p, plan(p, display_path(p), pack.rules, cfg, environment)) for p in files]
    changed = [(p, o) for p, o in outcomes if o.changes]
    for p, o in changed:
        if dry_run:
            out.write(_diff(o))
        else:
            _write(p, o.new)
            out.write(f"fixed {o.path}:\n")
            for c in o.changes:
                out.write(f"  line {c.line}: {_describe(c)}\n")
    _warn_tracked([(p, o) for p, o in changed if any(c.secret for c in o.changes)], err, dry_run)
    left = [m for _, o in outcomes for m in o.left]
    for m in left:
        out.write(f"not fixed: {m}\n")
    n = sum(len(o.changes) for _, o in changed)
    verb = "would change" if dry_run else "changed"
    out.write(f"{verb} {n} value(s) in {len(changed)} of {len(files)} env file(s); {len(left)} finding(s) need a person\n")
    if left or (dry_run and n):
        return 1
    return 0


def _warn_tracked(items: list[tuple[str, Outcome]], err: IO[str], dry_run: bool) -> None:
    """A secret replaced in a file git tracks is still in the history: rotate it."""
    if not items:
        return
    from velro_policy.inputs import git as gitrepo

    tracked = gitrepo.tracked([p for p, _ in items])
    for p, o in items:
        if os.path.realpath(p) not in tracked:
            continue
        keys = ", ".join(c.key for c in o.changes if c.secret)
        will = "will replace" if dry_run else "replaced"
        err.write(f"velro-policy: warning: {o.path} is tracked by git: fix {will} {keys}, but the old value is in the "
                  "repository history; rotate it (revoke it, set a new one on the platform), and stop tracking the file "
                  f"(git rm --cached {o.path}; add it to .gitignore) so the new secret is never committed\n")
