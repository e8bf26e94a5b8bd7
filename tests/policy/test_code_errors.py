"""Exception text / tracebacks followed to the client (taint rules of policies/velro/code-errors.yaml).

One `velro-policy check --target code` run (one Semgrep process) over the errors_*.py fixtures;
the exact (file, line, rule) pairs must be the ``# expect:`` annotations, nothing else.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import REPO, cli

FIXTURES = REPO / "tests" / "fixtures" / "code"
EXPECT = re.compile(r"#\s*expect:\s*(.+)$")
RULES = "velro/code-error-*"


def test_exception_text_rules_fire_exactly_on_annotated_lines(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    want = set()
    for src in sorted(FIXTURES.glob("errors_*.py")):
        shutil.copyfile(src, app / src.name)
        for number, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
            m = EXPECT.search(line)
            if m:
                want |= {(f"app/{src.name}", number, rid.strip()) for rid in m.group(1).split(",")
                         if rid.strip().startswith("velro/code-error-")}
    res = cli(["check", ".", "--target", "code", "--only", RULES, "--include-undeployed", "--format", "json"],
                cwd=tmp_path, env={"VELRO_POLICY_CACHE_DIR": str(tmp_path / "cache")})
    data = json.loads(res.stdout)
    assert data["problems"] == []
    got = {(f["path"], f["line"], f["rule_id"]) for f in data["findings"]}
    assert sorted(want - got) == [], "expected findings that were not reported"
    assert sorted(got - want) == [], "findings on lines that must stay quiet"
    rules = {rid for _, _, rid in want}
    assert rules == {"velro/code-error-detail-leak", "velro/code-error-traceback-leak",
                     "velro/code-error-detail-leak-nonprod", "velro/code-error-client-message"}
