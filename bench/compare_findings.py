"""Same findings before and after a change: run two velro-policy installs over the same inputs and diff.

    python bench/compare_findings.py OLD_EXE NEW_EXE [DIR_OR_FILE ...]

Each input is checked with ``check --format json`` by both executables (the
examples, the test fixtures and a generated 500-file tree by default); the
findings are reduced to (rule, file, line, message) and compared.  Exit 0
when every input gives the same set, 1 otherwise (the differences are
printed).  Used to show that a refactoring changed no behaviour.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def default_inputs() -> list[str]:
    sys.path.insert(0, str(HERE))
    import corpus  # noqa: E402  (the benchmark's own generator)

    tree = Path(tempfile.gettempdir()) / "velro-compare-tree500"
    corpus.generate(str(tree), "env", 500, seed=3, git=True)
    inputs = [str(REPO / "examples" / "insecure"), str(REPO / "examples" / "secure"), str(tree)]
    inputs += sorted(str(p) for p in (REPO / "tests" / "fixtures").rglob("*") if p.is_dir())
    return inputs


def findings(exe: str, target: str) -> tuple[int, set[tuple[str, str, int, str]]]:
    proc = subprocess.run([exe, "check", "--no-cache", "--format", "json", target], capture_output=True, text=True)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return proc.returncode, {("<no json>", proc.stderr.strip()[-200:], 0, "")}
    return proc.returncode, {(f["rule_id"], f["path"], f["line"], f["message"]) for f in data.get("findings", [])}


def main(argv: list[str]) -> int:
    old, new, *inputs = argv
    inputs = inputs or default_inputs()
    same = total = 0
    for target in inputs:
        (rc_old, a), (rc_new, b) = findings(old, target), findings(new, target)
        total += 1
        if a == b and rc_old == rc_new:
            same += 1
            continue
        print(f"DIFFERENT {target}: exit {rc_old} -> {rc_new}")
        for f in sorted(a - b)[:20]:
            print("  only before:", f)
        for f in sorted(b - a)[:20]:
            print("  only after: ", f)
    print(f"{same} of {total} inputs give the same findings and exit code")
    return 0 if same == total else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
