"""``gitrepo.tracked`` answers as ``git ls-files --cached`` does, in every index version, in a
hook's temporary index, in a linked worktree, and for many paths at once."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from velro_policy.inputs import git as gitrepo

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", *args], cwd=repo, env={**env, **GIT_ENV}, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    git(root, "init", "-q")
    (root / ".gitignore").write_text(".env.*\n!.env.example\n")
    for name in ("svc/.env.example", "svc/.env.production", "svc/.env.staging", "svc/.env.Committed", "svc/app.py", "svc/.env.new"):
        (root / name).write_text("A=1\n")
    git(root, "add", ".gitignore", "svc/.env.example", "svc/app.py")
    git(root, "add", "-f", "svc/.env.Committed")
    git(root, "commit", "-q", "-m", "init")
    git(root, "add", "-f", "svc/.env.new")  # staged, not committed
    return root


def reference(repo: Path, paths: list[Path]) -> set[str]:
    out = git(repo, "ls-files", "-z", "--cached", "--", *[str(p) for p in paths])
    return {os.path.realpath(repo / n) for n in out.split("\0") if n}


NAMES = ["svc/.env.example", "svc/.env.production", "svc/.env.staging", "svc/.env.Committed", "svc/.env.new", "svc/app.py"]


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_tracked_equals_git_ls_files(repo: Path, version: str) -> None:
    git(repo, "update-index", "--index-version", version)
    paths = [repo / n for n in NAMES]
    assert gitrepo.tracked([str(p) for p in paths]) == reference(repo, paths)
    for p in paths:
        assert gitrepo.tracked([str(p)]) == reference(repo, [p])


def test_a_temporary_index_of_a_hook_is_what_git_reads(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a hook git points GIT_INDEX_FILE at a temporary index: that index is asked."""
    hook_index = repo / ".git" / "next-index"
    git(repo, "read-tree", "--index-output", str(hook_index), "HEAD")  # .env.new is staged only in the real index
    monkeypatch.setenv("GIT_INDEX_FILE", str(hook_index))
    new = os.path.realpath(repo / "svc/.env.new")
    assert gitrepo.tracked([new]) == set()
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert gitrepo.tracked([new]) == {new}


def test_outside_any_work_tree_nothing_is_tracked(tmp_path: Path) -> None:
    lone = tmp_path / "lone" / ".env.production"
    lone.parent.mkdir()
    lone.write_text("A=1\n")
    failures: list[str] = []
    assert gitrepo.tracked([str(lone)], failures=failures) == set()
    assert failures == []  # no .git above it: nothing was committed, and git is not asked


def test_a_dot_git_file_leaves_the_answer_to_git(repo: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree))
    assert (worktree / ".git").is_file()
    for name in ("svc/.env.Committed", "svc/.env.production"):
        (worktree / name).write_text("A=1\n")
    paths = [worktree / "svc/.env.Committed", worktree / "svc/.env.production"]
    assert gitrepo.tracked([str(p) for p in paths]) == reference(worktree, paths) == {os.path.realpath(paths[0])}


def test_many_paths_are_answered_from_one_listing_of_the_index(repo: Path) -> None:
    """Past ``_LIST_WHOLE_INDEX`` paths, one plain ``git ls-files`` is intersected: same answer."""
    names = []
    for i in range(gitrepo._LIST_WHOLE_INDEX + 10):
        name = f"svc{i:03d}/.env.production"
        (repo / name).parent.mkdir()
        (repo / name).write_text("A=1\n")
        names.append(name)
    git(repo, "add", "-f", *names[::3])  # every third one is held by the index
    paths = [repo / n for n in names + NAMES]
    got = gitrepo.tracked([str(p) for p in paths])
    assert got == reference(repo, paths)
    assert len(got) == len(names[::3]) + len(reference(repo, [repo / n for n in NAMES]))
