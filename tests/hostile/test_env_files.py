"""Hostile env files and names, the Unicode family (issue 18): keys are judged exactly
as the application's loader reads them, lines end where python-dotenv ends them,
a module is read in the encoding Python reads it in, and no file name crashes a run.

pydantic-settings (case-insensitive, its default) reads an env file with
python-dotenv and compares ``key.lower()``: ``JWT_ſECRET`` (long s) and
``ENABLE_MOCK_AUTHENTICATıON`` (dotless i) are other keys to it, though
``upper()`` folds them onto ``JWT_SECRET`` and ``ENABLE_MOCK_AUTHENTICATION``;
``ENABLE_MOC\u212a_AUTHENTICATION`` (Kelvin sign) is the real one.
"""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from _harness import BOUND, check, cli, fake_semgrep, write

STRONG = "q8Zr1Xv9Lm2Kp7Tn4Wb6Yc3Hd5Jf0Gs8Ae1Ru" * 3
LOOKALIKES = ["\u017f", "\u0131", "\u0130", "\u212a", "\u212b", "\u00df", "\ufb00", "\u03a3", "\u03c2", "\uff21", "\u1e9e"]


def keys_with(char: str) -> list[str]:
    """Spellings of real setting names with ``char`` in place of a letter it may fold onto."""
    return [f"JWT_{char}ECRET", f"ENABLE_MOCK_AUTHENTICAT{char}ON", f"ENABLE_MOC{char}_AUTHENTICATION", f"DEBU{char}",
            f"{char}EY", f"PA{char}WORD"]


@pytest.mark.parametrize("char", LOOKALIKES, ids=lambda c: f"U+{ord(c):04X}")
def test_duplicate_keys_merge_as_pydantic_settings_merges_them(tmp_path: Path, char: str) -> None:
    """Differential: for every key of the file, the value velro-policy judges under the name the
    application looks up equals the value pydantic-settings' dotenv source gives that name."""
    from pydantic_settings.sources import DotEnvSettingsSource

    from velro_policy.inputs.env import app_key, parse_env

    lines = []
    for n, key in enumerate(keys_with(char)):
        plain = key.replace(char, {"\u212a": "K", "\u212b": "A", "\uff21": "A", "\u1e9e": "SS"}.get(char, "S" if char in "\u017f\u00df\ufb00\u03a3\u03c2" else "I"))
        lines += [f"{plain}=plain{n}", f"{key}=lookalike{n}"]
    path = write(tmp_path / ".env", "\n".join(lines) + "\n")
    app_sees = DotEnvSettingsSource._static_read_env_file(path, case_sensitive=False)  # {key.lower(): value}
    entries, problems = parse_env(path.read_text(encoding="utf-8"), ".env")
    assert not problems
    judged = {app_key(e.key): e.value for e in entries}
    assert len(judged) == len(entries)  # one entry per name the application distinguishes
    expected = {(k.upper() if k.isascii() else k): v for k, v in app_sees.items()}
    assert judged == expected


@pytest.mark.parametrize(("text", "finding"), [
    (f"JWT_SECRET=changeme\nJWT_\u017fECRET={STRONG}\n", ".env.production:2:1: critical velro/jwt-secret-strength"),
    ("ENABLE_MOCK_AUTHENTICATION=true\nENABLE_MOCK_AUTHENTICAT\u0131ON=false\n", ".env.production:2:1: critical velro/mock-auth-disabled"),
    ("ENABLE_MOCK_AUTHENTICATION=false\nENABLE_MOC\u212a_AUTHENTICATION=true\n", ".env.production:3:1: critical velro/mock-auth-disabled"),
    ("DEBUG=false\nDEBU\u0130=true\n", None),  # the later line is not DEBUG to the application
], ids=["long-s", "dotless-i", "kelvin", "dotted-I"])
def test_a_lookalike_key_cannot_hide_a_setting(tmp_path: Path, text: str, finding: str | None) -> None:
    write(tmp_path / ".env.production", "ENVIRONMENT=production\n" + text)
    res = check(cli(["lint", ".env.production"], tmp_path), 1 if finding else 0, secrets=[STRONG])
    if finding:
        assert finding in res.stdout


SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]
SHAPES = ["DEBUG=false{s}x\nA=1\n", "DEBUG='fa{s}lse'\nA=1\n", 'DEBUG="fa{s}lse"\nB=2\n', "A=1{s}DEBUG=true\n",
          "# c{s}DEBUG=true\nA=2\n", "{s}DEBUG=true\n", "DEBUG=true # x{s}y\n", "\ufeff\ufeffDEBUG=true\n", "A=1\n\ufeffDEBUG=1\n"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=lambda s: f"U+{ord(s):04X}")
def test_lines_and_values_are_python_dotenvs(tmp_path: Path, sep: str) -> None:
    """U+2028 and the other characters ``str.splitlines`` breaks at are not line ends to python-dotenv
    (nor a second BOM a key's start); the values, keys and lines judged are python-dotenv's."""
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    from velro_policy.inputs.env import EnvSettings, load_file
    from velro_policy.values import environments

    settings = EnvSettings(environments.DEFAULT_ALIASES, environments.DEFAULT_KEYS)
    for shape in SHAPES:
        path = tmp_path / "x.env"
        path.write_text(shape.format(s=sep), encoding="utf-8", newline="")
        want = {k: v for k, v in dotenv_values(path).items() if v is not None}
        doc = load_file(str(path), display_path="x.env", flag_environment=None, settings=settings)
        assert {e.key: e.value for e in doc.entries} == want, shape
        lines = {b.key: b.original.line for b in parse_stream(io.StringIO(path.read_text(encoding="utf-8"))) if b.key}
        assert {e.key: e.loc.line for e in doc.entries} == {k: lines[k] for k in want}, shape


def test_a_u2028_above_an_ignore_does_not_move_it(tmp_path: Path) -> None:
    """The ignore is on line 4, two lines above the finding: it covers nothing (it used to be read as
    line 5, and suppressed the finding on line 6)."""
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=false\nA=1\u2028\n"
          "# velro-policy: ignore[velro/cors-no-wildcard] public API\nB=2\nCORS_ORIGINS=*\n")
    res = check(cli(["lint", ".env.production"], tmp_path), 1)
    assert ".env.production:6:1: critical velro/cors-no-wildcard" in res.stdout
    assert ".env.production:4:1: info velro/unused-ignore" in res.stdout


UTF7_SETTINGS = "# -*- coding: utf-7 -*-\nclass Settings:\n    pass\n#+AAo-DEBUG = True\n"
UTF7_APP = "# coding: utf-7\nfrom fastapi import FastAPI\n#+AAo-app = FastAPI(debug=True)\n"


def test_a_utf7_module_is_read_as_python_reads_it(tmp_path: Path) -> None:
    """``+AAo-`` is a line break in UTF-7: Python runs ``DEBUG = True``, which was a comment to the reader."""
    write(tmp_path / "settings.py", UTF7_SETTINGS)
    res = check(cli(["lint", "--target", "settings", "settings.py"], tmp_path), 1)
    assert "critical velro/settings-debug-default: DEBUG is True" in res.stdout


def test_a_utf7_module_is_not_handed_to_semgrep(tmp_path: Path) -> None:
    """Semgrep reads UTF-8: it would judge the comment, not the code Python runs."""
    write(tmp_path / "main.py", UTF7_APP)
    write(tmp_path / "latin.py", "# coding: latin-1\nx = 1\n")
    env = {"VELRO_POLICY_SEMGREP": str(fake_semgrep(tmp_path.parent)), "FAKE_MODE": "ok"}
    res = check(cli(["check", "--target", "code", "."], tmp_path, env=env), 2)
    assert "main.py:1:1: declares the encoding utf-7 (PEP 263), in which Python reads other code than Semgrep" in res.stderr
    assert "latin.py" not in res.stderr  # an ASCII-compatible encoding reads the same code


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("names")
    try:
        (top / os.fsdecode(b".env.prod\xff")).write_text("ENVIRONMENT=production\nDEBUG=true\n")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    (top / os.fsdecode(b"sett\xffings.py")).write_text("DEBUG = True\n")
    (top / os.fsdecode(b"d\xfe")).mkdir()
    (top / os.fsdecode(b"d\xfe") / "config.py").write_text("DEBUG = True\n")
    (top / os.fsdecode(b"d\xfe") / ".env.staging").write_text("ENVIRONMENT=staging\nDEBUG=true\n")
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    subprocess.run(["git", "add", "."], cwd=top, check=True)
    return top


@pytest.mark.parametrize("args", [
    *[["check", "--target", "env", "--target", "settings", "-f", f, "."] for f in ("text", "json", "sarif", "junit", "github", "gitlab")],
    ["check", "--staged", "--target", "env", "--target", "settings"],
    ["report", "--format", "markdown", "."],
    ["fix", "--dry-run", "."],
    ["app", "."],
], ids=lambda a: " ".join(a[:3]))
def test_non_utf8_file_names_never_crash_a_run(odd_names: Path, args: list[str]) -> None:
    # `report` runs a whole check, Semgrep included (it has no --target): Semgrep's own start-up is
    # 3-5 s alone and went past the 10 s bound twice on a loaded 2-CPU machine; a hang is still caught
    res = check(cli(args, odd_names, timeout=BOUND * 3 if args[0] == "report" else BOUND), (0, 1))
    assert "unexpected" not in res.stderr
    if args[0] in ("check", "report"):
        assert "prod\\xff" in res.stdout or "prod\\\\xff" in res.stdout


def test_semgrep_is_not_trusted_with_a_non_utf8_name() -> None:
    """The real Semgrep reports such a name mangled (U+FFFD) and scans nothing, without an error:
    the file is "could not check", saying why."""
    from velro_policy.inputs.code import _file_problems

    py = [os.fsdecode(b"sett\xffings.py")]
    problems = _file_problems({"paths": {"scanned": ["sett\ufffd\ufffd\ufffdings.py"]}, "errors": []}, py, {})
    assert "its name is not valid UTF-8, which Semgrep cannot open: rename it" in problems[py[0]][0].message


def test_the_fast_paths_do_not_split_at_u2028() -> None:
    from velro_policy.inputs.env import parse_env

    entries, _ = parse_env("A=1\u2028B=2\nC=3\n", "x")
    assert [(e.key, e.value, e.loc.line) for e in entries] == [("A", "1\u2028B=2", 1), ("C", "3", 2)]
