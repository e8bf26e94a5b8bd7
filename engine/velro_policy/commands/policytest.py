"""``velro-policy test``: declarative policy tests with rule coverage.

A test file (``*.test.yaml``, schema ``policy-test.schema.json``) lists
cases: an input (inline env text, inline Python, fixture files) and the
expected result per rule id: ``fail`` (optionally at given lines), ``pass``
(the rule judged a value and found nothing) or ``skip`` (the rule did not
apply).  The policies under test are the policy files found in PATHS.
``--coverage`` shows, for every loaded rule, whether some case makes it
fail and some case makes it pass; ``--require-coverage`` fails without both.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from velro_policy.errors import PolicyError
from velro_policy.policy import pack as pack_mod


def _test_files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            if p.name.endswith((".test.yaml", ".test.yml")):
                out.append(p)  # other files named are the policies under test
        elif p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.test.y*ml") if q.is_file()))
        else:
            raise PolicyError("no such file or directory", path=str(p))
    return out


def _load_tests(path: Path) -> list[dict[str, Any]]:
    from velro_policy.policy.load import load_validated
    from velro_policy.values import yamlio

    rel = os.path.relpath(path)
    display = rel if not rel.startswith("..") else str(path)
    root, data = load_validated(path.read_text(encoding="utf-8"), display, "policy-test.schema.json", "policy test file")
    cases = data["cases"]
    for i, case in enumerate(cases):
        case["_file"] = display
        case["_dir"] = str(path.parent)
        case["_line"] = yamlio.locate(root, ["cases", i])[0]
    return cases


def _materialise(case: dict[str, Any], folder: Path) -> None:
    if "env" in case:
        env = case.get("environment")
        default = f".env.{env}" if env and env != "template" else (".env.example" if env == "template" else ".env")
        (folder / case.get("filename", default)).write_text(case["env"], encoding="utf-8")
    if "python" in case:
        name = case["filename"] if "env" not in case and case.get("filename") else "settings.py"
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(case["python"], encoding="utf-8")
    for dest, src in case.get("files", {}).items():
        if "\n" in src:  # inline content (several files of one project, for project rules)
            target = folder / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(src, encoding="utf-8")
            continue
        source = Path(case["_dir"]) / src
        if not source.is_file():
            raise PolicyError(f"fixture {src!r} not found", path=case["_file"], line=case["_line"])
        target = folder / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if case.get("git"):  # a git work tree; "staged": the case's files are in its index
        import subprocess

        subprocess.run(["git", "init", "-q", "."], cwd=folder, check=True, capture_output=True)
        if case["git"] == "staged":
            subprocess.run(["git", "add", "-A", "."], cwd=folder, check=True, capture_output=True)


def _outcome(rule_id: str, result: Any) -> tuple[str, list[int]]:
    lines = sorted(f.line for f in result.findings if f.rule_id == rule_id and not f.suppressed)
    if lines:
        return "fail", lines
    return ("pass" if rule_id in result.applied else "skip"), []


def _one_semgrep_scan(rules: Any, root: Path) -> Any:
    """Every case's Python files scanned by one Semgrep process (a start costs seconds; a case's
    own run then takes its files' slice: see inputs.code.shared_scan)."""
    import contextlib

    from velro_policy.inputs import code

    code_rules = [r for r in rules if r.target == code.TARGET]
    py_files = sorted(str(p) for p in root.rglob("*.py") if p.is_file())
    if not code_rules or not py_files:
        return contextlib.nullcontext()
    return code.shared_scan(code.build_config(code_rules)[0], py_files, {})


def _report_case(case: dict[str, Any], result: Any, known: set[str], seen: dict[str, set[str]], out: Any) -> bool:
    """Write the case's verdict line(s); True when it failed."""
    problems = [f"{p.message}" for p in result.problems]
    diffs: list[str] = []
    if problems:
        diffs.append("input could not be checked: " + "; ".join(problems))
    for rid, expected in case["expect"].items():
        if rid not in known:
            diffs.append(f"{rid}: no such rule in the loaded policies")
            continue
        got, lines = _outcome(rid, result)
        seen[rid].add(got)
        want = "fail" if isinstance(expected, dict) else expected
        want_lines = expected["fail"] if isinstance(expected, dict) else None
        if got != want or (want_lines is not None and sorted(want_lines) != lines):
            at = f" at lines {lines}" if lines else ""
            diffs.append(f"{rid}: expected {want}{f' at lines {sorted(want_lines)}' if want_lines else ''}, got {got}{at}")
    where = f"{case['_file']}:{case['_line']}"
    if diffs:
        out.write(f"FAIL {where} {case['name']}\n")
        for d in diffs:
            out.write(f"     {d}\n")
        return True
    out.write(f"ok   {where} {case['name']}\n")
    return False


def run_tests(paths: list[str], *, coverage: bool, require_coverage: bool, out: Any = None) -> int:
    from velro_policy.commands.run import Options, collect

    out = out or sys.stdout
    policy_paths = [p for p in paths if Path(p).is_dir() or not p.endswith((".test.yaml", ".test.yml"))]
    pack = pack_mod.load(None, policy_paths, builtin=False)
    known = {r.id for r in pack.rules}
    files = _test_files(paths)
    if not files:
        raise PolicyError("no *.test.yaml files found; write test cases beside the policies", path=paths[0])
    failed_cases = 0
    total = 0
    seen: dict[str, set[str]] = {rid: set() for rid in known}
    cases = [case for tf in files for case in _load_tests(tf)]
    with tempfile.TemporaryDirectory(prefix="velro-test-") as tmp:
        folders = []
        for number, case in enumerate(cases):
            folder = Path(tmp) / f"case-{number:03d}"
            folder.mkdir()
            _materialise(case, folder)
            folders.append(folder)
        with _one_semgrep_scan(pack.rules, Path(tmp)):
            for case, folder in zip(cases, folders):
                total += 1
                opts = Options(paths=[str(folder)], environment=case.get("environment"), formats=[], use_cache=True)
                result = collect(opts, pack)
                if _report_case(case, result, known, seen, out):
                    failed_cases += 1
    uncovered = []
    if coverage or require_coverage:
        out.write("\ncoverage (a failing case and a passing case per rule):\n")
        for rid in sorted(known):
            has_fail, has_pass = "fail" in seen[rid], "pass" in seen[rid]
            mark = "ok  " if has_fail and has_pass else "MISS"
            if not (has_fail and has_pass):
                uncovered.append(rid)
            out.write(f"  {mark} {rid}: fail={'yes' if has_fail else 'no'} pass={'yes' if has_pass else 'no'}\n")
        out.write(f"{len(known) - len(uncovered)} of {len(known)} rules covered\n")
    out.write(f"\n{total - failed_cases} passed, {failed_cases} failed\n")
    if failed_cases:
        return 1
    if require_coverage and uncovered:
        out.write(f"coverage required: {len(uncovered)} rule(s) lack a failing or passing case: {', '.join(uncovered)}\n")
        return 1
    return 0
