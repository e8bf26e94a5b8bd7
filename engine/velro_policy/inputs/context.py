"""The rest of a project, for partial runs (named files, ``--staged``,
``--changed-since``, hooks): the env files and settings modules beside the
checked files that the project rules must see too.

Files are found as ``check DIR`` finds them; under ``--staged`` a tracked
file is read from the index (what the commit will hold).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from velro_policy.model import Document
from velro_policy.rules import Rule
from velro_policy.values.paths import parent_folders

ENV_TARGETS = ("env",)
SETTINGS_TARGET = "settings"
DEPLOY = "deploy"  # a discovery bucket of its own: deployment files, read for the variables they consume


def shown(doc: Document) -> str:
    return doc.display_path or doc.path


ROOT_MARKERS = (".git", "velro-policy.yaml", ".velro-policy.yaml", "velro-policy.yml", "pyproject.toml")


def project_top(path: str) -> str:
    """The nearest folder above ``path`` holding .git, a velro-policy config or
    pyproject.toml; else the working directory when the file is below it;
    else the file's own folder."""
    here = os.path.dirname(os.path.abspath(path))
    for folder in (here, *parent_folders(here)):
        if any(os.path.exists(os.path.join(folder, m)) for m in ROOT_MARKERS):
            return folder
    cwd = os.getcwd()
    return cwd if here == cwd or here.startswith(cwd.rstrip(os.sep) + os.sep) else here



def context_roots(documents: Iterable[Document]) -> list[str]:
    """Folders to read the rest of the project from.

    An env file: its own folder (its siblings, the template beside it, and
    the settings modules in or below it).  A settings module: the project
    top above it (env files anywhere above the module may be the ones it is
    read with).
    """
    roots: set[str] = set()
    for d in documents:
        if d.target in ENV_TARGETS:
            roots.add(os.path.dirname(os.path.abspath(shown(d))))
        elif d.target == SETTINGS_TARGET:
            roots.add(project_top(shown(d)))
    ordered = sorted(roots, key=len)
    kept: list[str] = []
    for r in ordered:  # a root inside another is walked with it
        if not any(r == k or r.startswith(k.rstrip(os.sep) + os.sep) for k in kept):
            kept.append(r)
    return kept


class Context(NamedTuple):
    documents: list[Document]  # the env files and settings modules the run did not load itself
    notes: list[str]
    cleanup: Callable[[], None]  # removes the index copies (--staged) once the project rules are done
    consumed: dict[str, str]  # env names the deployment files found beside them consume (inputs.deploy.references)


def load_context(documents: list[Document], *, config: dict[str, Any], rules: list[Rule],
                 display: Callable[[str], str], staged: bool) -> Context:
    """The env files and settings modules of the checked files' projects that
    the run did not load itself, notes, and the variables deployment files consume.

    Files are found as ``check DIR`` finds them (same sources, same
    ``exclude`` globs, gitignored directories skipped, env files read even
    when gitignored).  Under ``--staged`` a file that git tracks is read from
    the index (what the commit will hold), an untracked one (a gitignored
    ``.env.production``) from the working tree, where it only ever exists.
    """
    from velro_policy.inputs import SOURCES, LoadContext, sources_for
    from velro_policy.inputs.deploy import is_deploy_file, references, workflow_files
    from velro_policy.inputs.discover import discover
    from velro_policy.inputs.settings import env_reads_document

    wanted = sources_for((*ENV_TARGETS, SETTINGS_TARGET))
    have = {os.path.abspath(shown(d)) for d in documents}

    def classify(path: str, explicit: bool) -> list[str]:
        names = [n for n, s in wanted.items() if s.claims(path, False, config)]
        return [*names, DEPLOY] if is_deploy_file(os.path.basename(path)) else names

    roots = context_roots(documents)
    if not roots:
        return Context([], [], _nothing, {})
    found = discover(roots, classify, exclude=list(config.get("exclude", [])))
    deploy_files = [*found.files.pop(DEPLOY, []), *(w for r in roots for w in workflow_files(r))]
    consumed = references(deploy_files, display) if deploy_files else {}
    files = {n: [p for p in ps if os.path.abspath(p) not in have] for n, ps in found.files.items()}
    files = {n: ps for n, ps in files.items() if ps}
    if not files:
        return Context([], [], _nothing, consumed)
    tmp = None
    real: dict[str, str] = {}
    if staged:
        files, real, tmp = _from_index(files)
    ctx = LoadContext(config, rules, None, roots[0], lambda p: display(real.get(p, p)))  # type: ignore[arg-type]  # roots is non-empty and its first entry is a path
    out: list[Document] = []
    try:
        for name, paths in files.items():
            if SOURCES[name].TARGET == SETTINGS_TARGET:
                # Only what a module reads from the environment matters here, and
                # settings_reads finds that itself (most modules: one regex search).
                out.extend(env_reads_document(p, ctx.display(p)) for p in paths)
            else:
                out.extend(SOURCES[name].load(paths, ctx))
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    count = sum(len(p) for p in files.values())
    where = "the index for tracked files, the working tree otherwise" if staged else "the working tree"
    note = f"project rules: read {count} other file(s) of the project from {where}; only findings that involve a checked file are shown"
    return Context(out, [note], tmp.cleanup if tmp is not None else _nothing, consumed)


def _nothing() -> None:
    return None


def _from_index(files: dict[str, list[str]]) -> tuple[dict[str, list[str]], dict[str, str], Any]:
    """Tracked files swapped for copies of their index version."""
    import tempfile

    from velro_policy.inputs import git as gitrepo

    every = sorted({p for ps in files.values() for p in ps})
    top = gitrepo.toplevel(os.path.dirname(os.path.abspath(every[0])))
    raw = gitrepo._git(["ls-files", "--stage", "-z", "--", *[":(literal)" + os.path.abspath(p) for p in every]], top,
                       what="project rules read the other files of the project from the index")
    blobs: dict[str, str] = {}
    for rec in raw.split(b"\0"):
        if not rec:
            continue
        meta, _, name = rec.decode("utf-8", "surrogateescape").partition("\t")
        mode, blob, stage = meta.split(" ")
        if mode in ("100644", "100755") and stage == "0":
            blobs[os.path.realpath(os.path.join(top, name))] = blob
    tracked = {p: blobs[os.path.realpath(p)] for p in every if os.path.realpath(p) in blobs}
    if not tracked:
        return files, {}, None
    content = gitrepo.read_blobs(sorted(set(tracked.values())), top)
    tmp = tempfile.TemporaryDirectory(prefix="velro-policy-context-")
    swap: dict[str, str] = {}
    real: dict[str, str] = {}
    for p, blob in sorted(tracked.items()):
        rel = os.path.relpath(os.path.abspath(p), top).replace("..", "__up__")
        target = os.path.join(tmp.name, rel)  # same relative path: names decide environments and settings modules
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(content[blob])
        swap[p] = target
        real[target] = p
    return {n: [swap.get(p, p) for p in ps] for n, ps in files.items()}, real, tmp
