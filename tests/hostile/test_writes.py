"""Output-file writes (issue 18, item 7): files are written where asked, atomically,
never through a symlink the scanned repository planted to lead out of it.

A CI job writes ``velro-policy.sarif`` (or a baseline, an HTML report) inside the
checkout; a pull request that commits ``velro-policy.sarif -> ~/.bashrc`` made it
overwrite that file.  Each case runs the real command line (10 s bound).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from _harness import check, cli, write

BAD = "ENVIRONMENT=production\nDEBUG=true\n"
PRECIOUS = "precious, not velro-policy's\n"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A repository whose output names are symlinks to a file (and a folder) outside it."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    write(outside / "victim", PRECIOUS)
    write(repo / ".env.production", BAD)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name in ("velro-policy.sarif", "out.json", "posture.html", "planted-baseline.json"):
        (repo / name).symlink_to(Path("..") / "outside" / "victim")
    (repo / "reports").symlink_to(Path("..") / "outside")
    return repo


CASES = {
    "format=FILE": (["lint", ".env.production", "-f", "text", "-f", "sarif=velro-policy.sarif"], "velro-policy.sarif"),
    "-o": (["lint", ".env.production", "-f", "json", "-o", "out.json"], "out.json"),
    "through a folder link": (["lint", ".env.production", "-f", "junit=reports/junit.xml"], "reports/junit.xml"),
    "baseline create": (["baseline", "create", "-o", "planted-baseline.json", ".env.production"], "planted-baseline.json"),
    "report --html": (["report", "--html", "posture.html", "."], "posture.html"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_symlink_out_of_the_repository_is_refused(planted: Path, case: str) -> None:
    args, name = CASES[case]
    res = check(cli(args, planted), 2)
    assert res.stdout == ""  # refused before anything was written, stdout included
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"velro-policy: error: {name}: ") and "out of the repository" in lines[0], lines
    assert (planted.parent / "outside" / "victim").read_text() == PRECIOUS
    assert sorted(os.listdir(planted.parent / "outside")) == ["victim"]


def test_a_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", BAD)
    (tmp_path / ".git").mkdir()
    write(tmp_path / "reports" / "latest.sarif", "old")
    (tmp_path / "velro-policy.sarif").symlink_to(Path("reports") / "latest.sarif")
    check(cli(["lint", ".env.production", "-f", "sarif=velro-policy.sarif"], tmp_path), 1)
    assert (tmp_path / "velro-policy.sarif").is_symlink()
    assert '"version": "2.1.0"' in (tmp_path / "reports" / "latest.sarif").read_text()


def test_the_users_own_symlinks_outside_any_repository_are_followed(tmp_path: Path) -> None:
    """An absolute path outside the repository and the current folder (``/tmp`` is a link on macOS)."""
    work, real = tmp_path / "work", tmp_path / "real"
    write(work / ".env.production", BAD)
    (work / ".git").mkdir()
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    check(cli(["lint", ".env.production", "-f", f"json={tmp_path / 'link' / 'out.json'}"], work), 1)
    assert (real / "out.json").read_text().startswith("{")


def test_writes_are_atomic_and_never_through_a_hard_link(tmp_path: Path) -> None:
    """The file is replaced (a new inode): a hard link the repository planted keeps the outside file as it was,
    the mode of an existing file is kept, and no temporary file is left behind."""
    write(tmp_path / ".env.production", BAD)
    (tmp_path / ".git").mkdir()
    victim = write(tmp_path.parent / f"{tmp_path.name}-victim", PRECIOUS)
    os.link(victim, tmp_path / "out.json")
    os.chmod(tmp_path / "out.json", 0o640)
    check(cli(["lint", ".env.production", "-f", "json=out.json"], tmp_path), 1)
    assert victim.read_text() == PRECIOUS
    assert (tmp_path / "out.json").read_text().startswith("{")
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env.production", ".git", "out.json"]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", BAD)
    (tmp_path / "out.json").mkdir()  # a folder where the file should go: os.replace fails
    res = check(cli(["lint", ".env.production", "-f", "json=out.json"], tmp_path), 2)
    assert "out.json: cannot write json output" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env.production", "out.json"]
    assert list((tmp_path / "out.json").iterdir()) == []
