"""The README's rule reference is the output of `policies list --format markdown`.

Update it with: python tests/test_readme.py --update
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->"


def generated() -> str:
    import subprocess

    out = subprocess.run([sys.executable, "-m", "velro_policy", "policies", "list", "--format", "markdown", "--no-config"],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return out.stdout


def current(readme: str) -> str:
    m = re.search(re.escape(START) + r"(.*?)" + re.escape(END), readme, re.S)
    assert m, "README lacks the rules markers"
    return m.group(1)


def test_rule_reference_in_sync() -> None:
    readme = (REPO / "README.md").read_text()
    assert current(readme) == generated(), "README rule reference is stale: run python tests/test_readme.py --update"


def test_readme_quick_start_matches_ci() -> None:
    readme = (REPO / "README.md").read_text().splitlines()
    ci = (REPO / ".ci" / "run").read_text()
    test_cmd = next(line for line in readme[:8] if "pytest" in line)
    assert "pip install -q -e '.[test]' && .venv/bin/pytest -q" in ci
    assert "pip install -e '.[test]' && .venv/bin/pytest -q" in test_cmd


if __name__ == "__main__" and "--update" in sys.argv:
    path = REPO / "README.md"
    text = path.read_text()
    path.write_text(text.replace(START + current(text) + END, START + generated() + END))
    print("README rule reference updated")
