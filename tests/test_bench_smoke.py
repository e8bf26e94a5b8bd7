"""The benchmark runs, and its corpus is deterministic.  No timing is asserted
(timed unit tests are flaky by nature; the targets are read from the
benchmark's own output, see bench/RESULTS.md)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import corpus  # noqa: E402

sys.path.remove(str(REPO / "bench"))


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts and p.name != ".complete"
    }


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_same_seed_same_bytes(tmp_path: Path, kind: str) -> None:
    corpus.generate(str(tmp_path / "a"), kind, 40, seed=7)
    corpus.generate(str(tmp_path / "b"), kind, 40, seed=7)
    corpus.generate(str(tmp_path / "c"), kind, 40, seed=8)
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert len(a) == 40
    assert a == b
    assert a != c
    # A file does not depend on how many others are generated.
    corpus.generate(str(tmp_path / "d"), kind, 10, seed=7)
    d = _digest(tmp_path / "d")
    assert all(a[name] == digest for name, digest in d.items())


def test_env_corpus_has_what_the_issue_asks_for() -> None:
    texts = [corpus.env_file(0, i)[1] for i in range(500)]
    assert any(b"\r\n" in t for t in texts) and any(b"\r\n" not in t for t in texts)
    assert all(t.count(b"\n") >= 55 for t in texts)  # about 70 lines each
    joined = b"".join(texts)
    for piece in (b"# ", b"export ", b"'", b'"', b"${", b"DEBUG=true", b"CORS_ORIGINS='[\"*\"]'", b"-----BEGIN"):
        assert piece in joined, piece
    names = {corpus.env_file(0, i)[0].rsplit("/", 1)[1] for i in range(500)}
    assert {".env.production", ".env.example", "staging.env"} <= names


def test_generate_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(SystemExit):
        corpus.generate(str(tmp_path), "env", 3, seed=0)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_quick_benchmark_runs_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "VELRO_POLICY_CACHE_DIR"}
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--only", "A,B,C,E", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    assert data["quick"] is True and data["machine"]["python"]
    a = data["results"]["A"]["measurements"]
    assert {"interpreter floor", "stack floor", "velro-policy lint"} <= set(a)
    assert a["velro-policy lint"]["exit_codes"] and set(a["velro-policy lint"]["exit_codes"]) <= {0, 1}
    b = data["results"]["B"]
    assert set(b) == {"10", "100"}
    assert "error" not in b["100"]["measurements"]["velro-policy lint"]
    assert "C" in data["results"] and "E" in data["results"]
    assert "skipped" not in data["results"]["C"], data["results"]["C"]  # every target is found (lazy registry)
    keys = {t["key"] for t in data["targets"]}
    assert {"A.stack", "B.files_per_s", "B.baseline", "B.rss_mb"} <= keys
    table = (out / "results.md").read_text()
    assert "| target |" in table and "velro-policy lint" in table
