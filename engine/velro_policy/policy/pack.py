"""The compiled policy pack: validated once, then cached as plain JSON.

Validation needs ruamel.yaml, jsonschema and pydantic (about 100 ms of
imports).  ``lint .env`` runs on every commit, so the validated result
(rules as plain dicts, the parsed config) is cached in the user cache
directory under a key made of velro-policy's version and the bytes of every
input: each policy file, the config file and the two schemas.  A cache
entry is used only when its stored key equals the key computed now; any
change to any file rebuilds it.
"""
from __future__ import annotations

import json
import os
from hashlib import sha256
from pathlib import Path
from typing import Any, NamedTuple

from velro_policy import __version__
from velro_policy.errors import PolicyError
from velro_policy.resources import builtin_policies_dir, schema_path
from velro_policy.rules import Rule

POLICY_SUFFIXES = (".yaml", ".yml")


class Pack(NamedTuple):
    rules: list[Rule]
    policies: list[dict[str, Any]]
    config: dict[str, Any]
    config_path: str | None
    notes: tuple[str, ...] = ()  # governance: what the config weakens, or what --locked-policy disregarded


def cache_dir() -> Path:
    override = os.environ.get("VELRO_POLICY_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "velro-policy"


def _policy_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise PolicyError("policy path does not exist; pass a policy file or a folder of them", path=str(folder))
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        for name in sorted(filenames):
            if name.endswith(POLICY_SUFFIXES) and not name.endswith((".test.yaml", ".test.yml", ".semgrep.yaml", ".semgrep.yml", ".plan.yaml", ".plan.yml")):
                found.append(Path(dirpath) / name)
    return found


def _display(path: Path, builtin: Path) -> str:
    try:
        return "builtin:" + path.relative_to(builtin).as_posix()
    except ValueError:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else str(path)


# The modules whose code decides the compiled form of a pack.  A checkout or an
# editable install changes them without changing __version__, so their bytes are
# part of the key too (four small reads per run).
_COMPILER_MODULES = ("policy/pack.py", "policy/load.py", "policy/config.py", "rules.py", "judge/operators/__init__.py")
_CODE_DIGEST: list[str] = []


def _code_digest() -> str:
    if not _CODE_DIGEST:
        h = sha256()
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the velro_policy package
        for name in _COMPILER_MODULES:
            try:
                with open(os.path.join(here, name), "rb") as fh:
                    h.update(name.encode() + b"\0" + fh.read() + b"\0")
            except OSError:
                h.update(name.encode() + b"\0missing\0")
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


def collect(config_path: Path | None, extra: list[str], *, use_builtin: bool | None = None) -> tuple[list[tuple[Path, str]], str]:
    """(policy files with display names, cache key)."""
    h = sha256(f"velro-policy {__version__}\0{_code_digest()}\0".encode())
    for name in ("policy.schema.json", "config.schema.json"):
        h.update(schema_path(name).read_bytes())
    config_bytes = b""
    if config_path is not None:
        config_bytes = _bounded(config_path, "config")
        h.update(b"\0config\0" + str(config_path).encode() + b"\0" + config_bytes)
    builtin = builtin_policies_dir()
    folders: list[Path] = []
    if use_builtin is not False:
        folders.append(builtin)
    folders += [Path(p).resolve() for p in extra]
    files: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for folder in folders:
        for f in _policy_files(folder):
            if f not in seen:
                seen.add(f)
                files.append((f, _display(f, builtin)))
    for f, display in files:
        h.update(b"\0file\0" + display.encode() + b"\0" + str(f).encode() + b"\0")
        try:
            h.update(_bounded(f, "policy file", display))
        except OSError as exc:
            raise PolicyError(f"cannot read policy file ({exc.strerror})", path=display) from None
    return files, h.hexdigest()


def _bounded(path: Path, what: str, shown: str | None = None) -> bytes:
    """A config or policy file's bytes, never more than the cap (a 3 GB velro-policy.yaml took 4 GB of memory
    before its size was checked); larger is a ConfigError/PolicyError naming it."""
    from velro_policy.errors import ConfigError
    from velro_policy.policy.config import MAX_BYTES, read_bounded

    data = read_bounded(path)
    if data is None:
        error = ConfigError if what == "config" else PolicyError
        raise error(f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; a {what} should be small", path=shown or _shown_config(path),
                    line=1, col=1)
    return data


def load(config_path: Path | None, extra: list[str], *, use_cache: bool = True, builtin: bool | None = None,
         locked: bool = False) -> Pack:
    """The pack for this run, from the cache when its key matches.

    ``locked`` (``--locked-policy``): the config cannot weaken the built-in pack (``govern``)."""
    config: dict[str, Any] = {}
    raw_config: dict[str, Any] | None = None  # as the file says (the config cache holds this), before governance
    config_notes: list[str] = []
    if config_path is not None:
        # The config names extra policy folders and whether to use the builtin pack;
        # both are inputs to the key, so they are read from the cached config when possible.
        cached_config = _read_cached_config(config_path) if use_cache else None
        raw_config = cached_config if cached_config is not None else _parse_config(config_path)
        config, config_notes = govern_config(raw_config, _shown_config(config_path), locked=locked)
    files, key = collect(config_path, [*config.get("policies", []), *extra], use_builtin=config.get("builtin", True) if builtin is None else builtin)
    if locked:
        key = sha256(f"{key}\0locked".encode()).hexdigest()
    entry = cache_dir() / f"pack-{key[:40]}.json"
    if use_cache:
        try:
            with open(entry, encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("key") == key and (data.get("rules") or not files):  # an emptied entry is not trusted
                return Pack([Rule.from_data(r) for r in data["rules"]], data["policies"], data["config"],
                            str(config_path) if config_path else None, (*config_notes, *data.get("notes", ())))
        except (OSError, ValueError, KeyError):
            pass
    from velro_policy.policy import load as policy

    policies, rules = policy.load_all(files)
    own = _config_policy_files(config, extra)
    rules, rule_notes = _apply_config(rules, config, str(config_path) if config_path else None, locked=locked, own=own)
    if use_cache:
        _write_json(entry, {"key": key, "rules": [r.to_data() for r in rules], "policies": policies, "config": config,
                            "notes": rule_notes})
        if config_path is not None and raw_config is not None:
            _write_json(_config_entry(config_path), {"key": _config_key(config_path), "config": raw_config})
    return Pack(rules, policies, config, str(config_path) if config_path else None, (*config_notes, *rule_notes))


# --- governance (issue 18, item 5) ---------------------------------------------------------------
#
# The repository's config is in the repository: any pull request can change it.  What it may do to
# the pack is therefore governed.  Without --locked-policy a config that weakens a non-suppressible
# rule, switches the built-in pack off or re-aliases a built-in environment name to a laxer
# environment is obeyed, and says so in the notes.  With --locked-policy (a flag of the CI command
# line, never read from the config) those settings are disregarded, each with a note: the run judges
# with the built-in pack as shipped.  Rules of the config's own policy files stay the config's own.

_LOCKED = "--locked-policy: "


def _shown_config(config_path: Path) -> str:
    rel = os.path.relpath(config_path)
    return rel if not rel.startswith("..") else str(config_path)


def govern_config(config: dict[str, Any], shown: str, *, locked: bool) -> tuple[dict[str, Any], list[str]]:
    """The config's own settings that weaken the whole pack (``builtin``, ``environment_aliases``,
    ``fail_on``, ``unknown_severity``): under ``locked`` disregarded, else noted (the first two)."""
    from velro_policy.model import SEVERITY_RANK
    from velro_policy.values.environments import DEFAULT_ALIASES, STRICTNESS

    notes: list[str] = []
    out = dict(config)
    if config.get("builtin", True) is False:
        if locked:
            out["builtin"] = True
            notes.append(f"{_LOCKED}{shown}: builtin: false disregarded; the built-in pack runs")
        else:
            notes.append(f"{shown}: builtin: false switches the built-in pack off, its non-suppressible rules included "
                         "(CI gates: run with --locked-policy)")
    aliases: dict[str, str] = dict(config.get("environment_aliases") or {})
    laxer = {name: env for name, env in aliases.items()
             if name.lower() in DEFAULT_ALIASES
             and STRICTNESS.get(env, -1) < STRICTNESS[DEFAULT_ALIASES[name.lower()]]}
    for name, env in sorted(laxer.items()):
        if locked:
            del aliases[name]
            notes.append(f"{_LOCKED}{shown}: environment_aliases: {name}: {env} disregarded; "
                         f"{name} stays {DEFAULT_ALIASES[name.lower()]}")
        else:
            notes.append(f"{shown}: environment_aliases: {name}: {env} judges {DEFAULT_ALIASES[name.lower()]} files by "
                         f"{env} rules (CI gates: run with --locked-policy)")
    if locked:
        out["environment_aliases"] = aliases
        default_rank = SEVERITY_RANK["low"]
        for key in ("fail_on", "unknown_severity"):
            value = config.get(key, "low")
            if key == "fail_on" and SEVERITY_RANK.get(value, 0) > default_rank:
                out[key] = "low"
                notes.append(f"{_LOCKED}{shown}: fail_on: {value} disregarded; findings from low up fail (--fail-on sets it)")
            elif key == "unknown_severity" and SEVERITY_RANK.get(value, 0) < default_rank:
                out[key] = "low"
                notes.append(f"{_LOCKED}{shown}: unknown_severity: {value} disregarded; 'cannot verify' findings stay low")
    return out, notes


def _config_policy_files(config: dict[str, Any], extra: list[str]) -> set[str]:
    """Display names of the policy files only the config names (the repository's own rules)."""
    builtin = builtin_policies_dir()

    def names(folders: list[str]) -> set[str]:
        out: set[str] = set()
        for folder in folders:
            try:
                out.update(_display(f, builtin) for f in _policy_files(Path(folder).resolve()))
            except PolicyError:
                pass
        return out

    return names(list(config.get("policies", []))) - names(extra)


def _apply_config(rules: list[Rule], config: dict[str, Any], config_file: str | None = None, *, locked: bool = False,
                  own: set[str] | frozenset[str] = frozenset()) -> tuple[list[Rule], list[str]]:
    """The config's ``disable`` and ``severity`` (ids or globs, each must name a rule), under governance:
    disabling or lowering a non-suppressible rule is noted; under ``locked``, disabling a non-suppressible
    rule or lowering any rule that is not the config's own (``own``: files of its ``policies``) is disregarded."""
    from velro_policy.model import SEVERITY_RANK
    from velro_policy.policy.ids import check_known, matches

    disabled = list(config.get("disable", []))
    overrides: dict[str, str] = config.get("severity", {})
    known = [r.id for r in rules]
    check_known(disabled, known, where="disable", path=config_file)
    check_known(overrides, known, where="severity", path=config_file)
    shown = _shown_config(Path(config_file)) if config_file else "config"
    notes: list[str] = []
    out = []
    for rule in rules:
        guarded = rule.file not in own  # built-in, or named by --policy on the command line
        if matches(rule.id, disabled):
            if not rule.suppressible and guarded:
                if not locked:
                    notes.append(f"{shown}: disable: {rule.id} switches off a non-suppressible rule "
                                 "(CI gates: run with --locked-policy)")
                    continue
                notes.append(f"{_LOCKED}{shown}: disable: {rule.id} disregarded (the rule is not suppressible)")
            else:
                continue
        for pattern, severity in overrides.items():
            if not matches(rule.id, [pattern]):
                continue
            if SEVERITY_RANK[severity] < SEVERITY_RANK[rule.severity] and guarded:
                if locked:
                    notes.append(f"{_LOCKED}{shown}: severity: {rule.id}: {severity} disregarded (stays {rule.severity})")
                    continue
                if not rule.suppressible:
                    notes.append(f"{shown}: severity: {rule.id}: {severity} lowers a non-suppressible rule from "
                                 f"{rule.severity} (CI gates: run with --locked-policy)")
            rule = rule.with_severity(severity)
        out.append(rule)
    return out, notes


def _config_key(config_path: Path) -> str:
    return sha256(f"{__version__}\0{_code_digest()}\0{config_path}\0".encode() + _bounded(config_path, "config")).hexdigest()


def _config_entry(config_path: Path) -> Path:
    return cache_dir() / f"config-{sha256(str(config_path).encode()).hexdigest()[:24]}.json"


def _read_cached_config(config_path: Path) -> dict[str, Any] | None:
    try:
        with open(_config_entry(config_path), encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("key") == _config_key(config_path):
            return data["config"]
    except (OSError, ValueError, KeyError):
        pass
    return None


def _parse_config(config_path: Path) -> dict[str, Any]:
    from velro_policy.policy import config as config_mod

    return config_mod.parse(config_path)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write; a cache that cannot be written is simply not used."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        pass
