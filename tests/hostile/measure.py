"""Re-measure issue 18's table with the hostile suites: ``python tests/hostile/measure.py``.

Runs every case of ``tests/hostile/`` (the slow ones too), sorts each into one of the issue's
families, and counts the failures by kind from the message the harness fails with (``hang:``,
``wrong exit``, ``silent pass``, ``leak:``, ``traceback:``; anything else is "other").  Prints the
table as markdown, as docs/security.md shows it.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAMILIES = ["hostile env files", "hostile policies and config", "hostile Python for the reader", "secret leakage",
            "fail closed", "determinism / interrupt", "git hook paths", "timing", "output-file writes"]
KINDS = {"hang": "hang", "wrong exit": "wrong exit", "silent pass": "silent pass", "leak": "leak", "traceback": "traceback"}

# module -> family, with (module, test name prefix) exceptions first
BY_TEST = {
    ("test_env_files", "test_a_utf7"): "hostile Python for the reader",
    ("test_fail_closed", "test_python_2"): "hostile Python for the reader",
    ("test_fail_closed", "test_a_symlinked_module"): "hostile Python for the reader",
    ("test_budgets", "test_settings_reader_budgets"): "hostile Python for the reader",
    ("test_budgets", "test_just_under_the_settings"): "hostile Python for the reader",
    ("test_budgets", "test_config_budgets"): "hostile policies and config",
    ("test_budgets", "test_a_huge_config"): "hostile policies and config",
    ("test_budgets", "test_masking_is_linear"): "timing",
    ("test_budgets", "test_a_200kb"): "timing",
    ("test_budgets", "test_a_fifo"): "timing",
    ("test_budgets", "test_a_device"): "timing",
    ("test_budgets", "test_a_shell_pipe"): "timing",
    ("test_budgets", "test_the_inline_ignore_scan"): "timing",
    ("test_budgets", "test_special_"): "timing",
    ("test_budgets", "test_a_special_"): "timing",
}
BY_MODULE = {
    "test_env_files": "hostile env files", "test_budgets": "hostile env files", "test_governance": "hostile policies and config",
    "test_leaks": "secret leakage", "test_fail_closed": "fail closed", "test_interrupts": "determinism / interrupt",
    "test_hook_paths": "git hook paths", "test_planted_modules": "git hook paths", "test_writes": "output-file writes",
}


def family(module: str, name: str) -> str:
    for (mod, prefix), fam in BY_TEST.items():
        if mod == module and name.startswith(prefix):
            return fam
    return BY_MODULE[module]


def kind(message: str) -> str:
    low = message.lower()
    for needle, label in KINDS.items():
        if needle in low:
            return label
    return "other"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "slow or not slow", "-p", "no:cacheprovider",
                        f"--junitxml={report}", str(HERE)], cwd=HERE.parents[1], check=False)
        tree = ET.parse(report)
    table = {f: {"tried": 0, "hang": 0, "wrong exit": 0, "silent pass": 0, "leak": 0, "traceback": 0, "other": 0, "skipped": 0}
             for f in FAMILIES}
    for case in tree.iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        row = table[family(module, case.get("name", ""))]
        if case.find("skipped") is not None:
            row["skipped"] += 1
            continue
        row["tried"] += 1
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            row[kind((failure.get("message") or "") + (failure.text or "")[:2000])] += 1
    print("| family | tried | hangs (>10 s) | wrong exit | silent pass | runs leaking a secret | traceback | other failures | skipped |")
    print("|---|---|---|---|---|---|---|---|---|")
    for fam in FAMILIES:
        r = table[fam]
        print(f"| {fam} | {r['tried']} | {r['hang']} | {r['wrong exit']} | {r['silent pass']} | {r['leak']} | {r['traceback']} "
              f"| {r['other']} | {r['skipped']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
