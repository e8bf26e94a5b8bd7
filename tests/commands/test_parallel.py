"""``--jobs``: env files judged by worker processes give byte-identical output.

A git work tree of 400 env files (the benchmark corpus: violations, secrets,
templates; some production files force-added so the committed-secrets rule
fires) plus the insecure example app (settings modules and code, which stay
in the parent), checked with ``--jobs 1`` and ``--jobs 2`` in every format.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO, velro

FORMATS = ["text", "json", "sarif", "junit", "github"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus
    finally:
        sys.path.remove(str(REPO / "bench"))
    root = tmp_path_factory.mktemp("parallel") / "tree"
    corpus.generate(str(root), "env", 400, seed=11, git=True)
    shutil.copytree(EXAMPLES / "insecure" / "app", root / "app")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    held = sorted(str(p.relative_to(root)) for p in root.rglob("production.env"))[:15]
    subprocess.run(["git", "add", "-f", *held], cwd=root, check=True, env=env, capture_output=True)
    return root


@pytest.fixture(scope="module")
def outputs(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[int, dict[str, bytes], str]]:
    """Per --jobs value: exit code, every format's bytes (one run writes all five), stderr."""
    out: dict[int, tuple[int, dict[str, bytes], str]] = {}
    for jobs in (1, 2):
        folder = tmp_path_factory.mktemp(f"jobs{jobs}")
        formats = [arg for fmt in FORMATS[1:] for arg in ("--format", f"{fmt}={folder / fmt}")]
        res = velro(["check", "--format", "text", *formats, "--jobs", str(jobs), "."], cwd=tree)
        written = {fmt: (folder / fmt).read_bytes() for fmt in FORMATS[1:]}
        out[jobs] = (res.returncode, {"text": res.stdout.encode(), **written}, res.stderr)
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_jobs_output_is_byte_identical(outputs: dict[int, tuple[int, dict[str, bytes], str]], fmt: str) -> None:
    (serial_rc, serial, serial_err), (parallel_rc, parallel, parallel_err) = outputs[1], outputs[2]
    assert serial_rc == parallel_rc == 1, serial_err + parallel_err
    assert serial[fmt] == parallel[fmt]
    assert serial_err == parallel_err
    assert len(serial[fmt]) > 1000


def test_jobs_output_holds_every_kind_of_finding(outputs: dict[int, tuple[int, dict[str, bytes], str]]) -> None:
    """The comparison above is not vacuous: env, committed-secret, project, settings and code findings are all there."""
    import json

    out = json.loads(outputs[2][1]["json"])
    ids = {f["rule_id"] for f in out["findings"]}
    assert "velro/env-secret-committed" in ids, sorted(ids)
    assert any(i.startswith("velro/project-") for i in ids), sorted(ids)
    assert any(f["path"].startswith("app/") for f in out["findings"]), sorted(ids)
    assert len(out["findings"]) > 200


def test_jobs_zero_means_every_cpu_and_small_runs_stay_serial(tree: Path) -> None:
    from velro_policy.commands.parallel import MIN_FILES, worker_count
    from velro_policy.commands.run import parallel_jobs

    assert worker_count(0) >= 1
    notes: list[str] = []
    assert parallel_jobs(4, MIN_FILES - 1, notes=notes) == 1
    assert parallel_jobs(1, 10_000, notes=notes) == 1
    assert parallel_jobs(2, 10_000, notes=notes) == 2
    assert parallel_jobs(64, 250, notes=notes) == 2  # at least FILES_PER_WORKER files per worker
    assert notes == []
    res = velro(["lint", "--jobs", "-1", "."], cwd=tree)
    assert res.returncode == 2 and "--jobs" in res.stderr


def test_jobs_with_staged_files_reads_the_index_and_matches_serial(tmp_path: Path) -> None:
    """--staged --jobs 2: workers read the index copies; same bytes as one process, and the
    staged (not the working-tree) content is what is judged."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    names = []
    for i in range(260):
        path = tmp_path / f"svc{i:03d}" / ".env.production"
        path.parent.mkdir()
        path.write_text(f"ENVIRONMENT=production\nDEBUG={'true' if i % 7 == 0 else 'false'}\nJWT_SECRET_KEY=short{i}\n")
        names.append(str(path.relative_to(tmp_path)))
    subprocess.run(["git", "add", "-f", *names], cwd=tmp_path, check=True, env=env)
    (tmp_path / "svc000" / ".env.production").write_text("ENVIRONMENT=production\nDEBUG=false\n")  # unstaged fix
    serial = velro(["lint", "--staged", "--format", "json", "--jobs", "1"], cwd=tmp_path)
    parallel = velro(["lint", "--staged", "--format", "json", "--jobs", "2"], cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 1, serial.stderr + parallel.stderr
    assert serial.stdout == parallel.stdout
    import json

    svc000 = {f["key"] for f in json.loads(parallel.stdout)["findings"] if f["path"] == "svc000/.env.production"}
    assert "DEBUG" in svc000  # the staged DEBUG=true is judged, not the working tree's fix
