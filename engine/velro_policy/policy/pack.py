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
        config_bytes = config_path.read_bytes()
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
            h.update(f.read_bytes())
        except OSError as exc:
            raise PolicyError(f"cannot read policy file ({exc.strerror})", path=display) from None
    return files, h.hexdigest()


def load(config_path: Path | None, extra: list[str], *, use_cache: bool = True, builtin: bool | None = None) -> Pack:
    """The pack for this run, from the cache when its key matches."""
    config: dict[str, Any] = {}
    if config_path is not None:
        # The config names extra policy folders and whether to use the builtin pack;
        # both are inputs to the key, so they are read from the cached config when possible.
        cached_config = _read_cached_config(config_path) if use_cache else None
        config = cached_config if cached_config is not None else _parse_config(config_path)
    files, key = collect(config_path, [*config.get("policies", []), *extra], use_builtin=config.get("builtin", True) if builtin is None else builtin)
    entry = cache_dir() / f"pack-{key[:40]}.json"
    if use_cache:
        try:
            with open(entry, encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("key") == key:
                return Pack([Rule.from_data(r) for r in data["rules"]], data["policies"], data["config"], str(config_path) if config_path else None)
        except (OSError, ValueError, KeyError):
            pass
    if config_path is not None and not config:
        config = _parse_config(config_path)
    from velro_policy.policy import load as policy

    policies, rules = policy.load_all(files)
    rules = _apply_config(rules, config, str(config_path) if config_path else None)
    if use_cache:
        _write_json(entry, {"key": key, "rules": [r.to_data() for r in rules], "policies": policies, "config": config})
        if config_path is not None:
            _write_json(_config_entry(config_path), {"key": _config_key(config_path), "config": config})
    return Pack(rules, policies, config, str(config_path) if config_path else None)


def _apply_config(rules: list[Rule], config: dict[str, Any], config_file: str | None = None) -> list[Rule]:
    """The config's ``disable`` and ``severity`` (ids or globs, each must name a rule)."""
    from velro_policy.policy.ids import check_known, matches

    disabled = list(config.get("disable", []))
    overrides: dict[str, str] = config.get("severity", {})
    known = [r.id for r in rules]
    check_known(disabled, known, where="disable", path=config_file)
    check_known(overrides, known, where="severity", path=config_file)
    out = []
    for rule in rules:
        if matches(rule.id, disabled):
            continue
        for pattern, severity in overrides.items():
            if matches(rule.id, [pattern]):
                rule = rule.with_severity(severity)
        out.append(rule)
    return out


def _config_key(config_path: Path) -> str:
    return sha256(f"{__version__}\0{_code_digest()}\0{config_path}\0".encode() + config_path.read_bytes()).hexdigest()


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
