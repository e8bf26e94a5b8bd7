"""The sequence of a run: config -> rules -> scope -> documents -> judge -> settle -> report.

Every step is one call; heavy modules are imported only by the step that
needs them, so linting one env file costs the parse and the checks.
``lint``, ``check`` and ``report`` run all of it (``collect``); the other
commands that judge run the same step functions, leaving out what they do
not need:

- ``fix``: ``load_pack`` -> ``find_files`` (env) -> the env source's
  ``read_document`` on the text, after each edit too -> ``judge_documents``;
  no settle step (an ignored value is still fixed) and its own output;
- ``probe``: ``load_pack`` -> requests (``inputs.probe``, its scope) ->
  ``inputs.http`` documents -> ``judge_each`` (findings per response, merged
  per rule) -> ``finish`` (report and exit code).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from velro_policy.inputs import SOURCES, TARGETS, LoadContext, committed, sources_for
from velro_policy.inputs._files import shown_name
from velro_policy.inputs.discover import discover
from velro_policy.judge.evaluate import exit_code, judge_documents, problem_findings
from velro_policy.model import Document, FileSummary, Finding, Problem, RunResult
from velro_policy.policy import config as config_mod
from velro_policy.policy import pack as pack_mod
from velro_policy.rules import Rule
from velro_policy.settle import suppress


class Options(NamedTuple):
    paths: list[str]
    policies: list[str] = []
    only: list[str] = []
    skip: list[str] = []
    environment: str | None = None
    formats: list[tuple[str, str | None]] = [("text", None)]
    fail_on: str | None = None
    config: str | None = None
    targets: list[str] | None = None  # None: every target
    use_cache: bool = True
    color: bool | None = None
    staged: bool = False  # check the staged versions of staged files (diffscope)
    changed_since: str | None = None  # check files changed since this git ref (diffscope)
    inline_ignores: bool = True  # False: --no-inline-ignores (suppress)
    baseline: str | None = None  # --baseline FILE (baseline)
    jobs: int = 1  # --jobs: worker processes for env files (parallel); 0 = one per CPU
    include_undeployed: bool = False  # --include-undeployed: keep findings in modules the app never imports, at info
    read_as: str | None = None  # --as env: the files named are env files whatever their names
    shown_as: dict[str, str] = {}  # path -> the name to show (`lint -`: the stdin's --stdin-filename)
    locked_policy: bool = False  # --locked-policy: the config cannot weaken the built-in pack (policy.pack.govern_config)
    show_suppressed: bool = False  # --show-suppressed: the text output lists suppressed findings too
    use_baseline: bool = True  # False: no baseline at all (`baseline create` judges from scratch)
    verbosity: int = 0  # -q: -1, nothing on stderr but errors; -v: 1, each step with its time (commands.progress)
    say: Callable[[str], None] | None = None  # where progress goes (run() sets it from verbosity)


def display_path(path: str) -> str:
    rel = os.path.normpath(path)  # what relpath gives for a relative path inside cwd, 5x cheaper (once per file)
    if os.path.isabs(rel) or rel.startswith(".."):
        rel = os.path.relpath(path)
    return shown_name((rel if not rel.startswith("..") else os.path.abspath(path)).replace(os.sep, "/"))


def select_rules(rules: list[Rule], only: list[str], skip: list[str]) -> list[Rule]:
    """The rules of ``--only``/``--skip`` (ids or globs); one that names no rule is an error, never a silent pass."""
    from velro_policy.policy.ids import check_known, matches

    if not rules:  # builtin: false and no policy of one's own, or a cache entry emptied by hand
        from velro_policy.errors import ConfigError

        raise ConfigError("no rule to run: the built-in pack is off (builtin: false) and no policy adds one; nothing would be checked")
    known = [r.id for r in rules]
    check_known(only, known, where="--only")
    check_known(skip, known, where="--skip")
    picked = [r for r in rules if (not only or matches(r.id, only)) and not matches(r.id, skip)]
    if rules and not picked:
        from velro_policy.errors import ConfigError

        raise ConfigError("--only/--skip leave no rule to run; nothing would be checked")
    return picked


def load_pack(opts: Options) -> pack_mod.Pack:
    cfg_path = Path(opts.config) if opts.config else config_mod.find(opts.paths[0] if opts.paths else ".")
    if opts.config and not Path(opts.config).is_file():
        from velro_policy.errors import ConfigError

        raise ConfigError("config file not found", path=opts.config)
    return pack_mod.load(cfg_path, opts.policies, use_cache=opts.use_cache, locked=opts.locked_policy)


def collect(opts: Options, pack: pack_mod.Pack | None = None, *, seen: dict[str, Any] | None = None) -> RunResult:
    """One run, as data.  Each step is one call; a new step slots in here.

    ``seen``, when given, receives what the run read on the way (``loaded``: the documents as
    read, ``documents``: as judged, with the effective ones; ``app``: the app step or None), for
    ``report``, which shows values beside the findings.
    """
    pack = pack or load_pack(opts)
    config = pack.config
    if opts.read_as == "env":  # --as env: each file named is read as an env file whatever its name
        config = {**config, "env_files": [*config.get("env_files", ()), *(os.path.normpath(p) for p in opts.paths if not os.path.isdir(p))]}
    rules = select_rules(pack.rules, opts.only, opts.skip)
    sources = sources_for(opts.targets)

    def classify(path: str, explicit: bool) -> list[str]:
        return [name for name, src in sources.items() if src.claims(path, explicit, config)]

    scope = None
    if opts.staged or opts.changed_since:
        from velro_policy.inputs.scope import open_scope

        scope = open_scope(opts.paths or ["."], classify, config, staged=opts.staged, changed_since=opts.changed_since)
    found = scope.found if scope else find_files(opts.paths, config, opts.targets, classify=classify)
    root = os.path.abspath(opts.paths[0] if len(opts.paths) == 1 and os.path.isdir(opts.paths[0]) else ".")
    shown = (lambda p: display_path(scope.real_path(p))) if scope else display_path
    if opts.shown_as:
        plain_shown = shown
        shown = lambda p: opts.shown_as.get(os.path.normpath(p)) or plain_shown(p)  # noqa: E731
    ctx = LoadContext(config, rules, opts.environment, root, shown, found.explicit)
    say = opts.say or (lambda _text: None)
    say("found " + (", ".join(f"{len(paths)} {name}" for name, paths in found.files.items()) or "no files") + " to check")
    # Semgrep first: it scans in a process of its own while the rest of the run reads and judges.
    started = start_scans(found.files, ctx, say)
    try:
        applied: set[str] = set()
        eval_problems: list[Problem] = [*found.problems, *unread_by_targets(found, opts.targets, config, shown)]
        findings: list[Finding] = []
        real_path = scope.real_path if scope else str
        app = app_step(opts, root, config, rules, say=say, found=found)
        roles = app.roles() if app is not None else None  # env name -> roles it plays in the app (role selectors)
        if app is not None and app.parsed is not None:
            ctx = ctx._replace(parsed=app.parsed)  # the settings source reuses the model's trees
        documents, judged = load_all(found, ctx, opts, started, findings, applied, eval_problems, real_path=real_path,
                                     roles=roles, say=say)
        from velro_policy.inputs.effective import derive  # settings defaults an env file does not set (stdlib only)

        if seen is not None:
            seen["loaded"] = list(documents)
        documents = derive(documents, rules, config)
        if not judged:
            documents = committed.mark(documents, in_index=opts.staged, real_path=real_path)
        if app is not None and (opts.targets is None or "app" in opts.targets):
            documents.append(app.document)  # routes, headers, CORS of the deployed app, for the rules of target app
        if seen is not None:
            seen["documents"], seen["app"] = documents, app
        say(f"judging {len(documents)} documents against {len(rules)} rules")
        findings.extend(judge_documents([d for d in documents if id(d) not in judged], rules, config, applied, eval_problems,
                                        roles=roles))
        if any(r.target == "project" for r in rules):  # cross-file rules (judge.project)
            partial = bool(scope) or not all(os.path.isdir(p) for p in opts.paths or ["."])
            findings.extend(project_step(documents, rules, config, applied=applied, notes=found.skipped, staged=opts.staged,
                                         partial=partial, targets=opts.targets, display=display_path,
                                         app=app.project_view(rules) if app is not None else None,
                                         consumed=app.references() if app is not None else None))
        problems = [p for doc in documents for p in doc.problems] + eval_problems
        if app is not None:
            problems = app.settle_problems(problems, findings)
        findings.extend(problem_findings(problems))
        # A class of problem the config downgrades by name stays a finding but no longer forces exit 2.
        tolerated = set(config.get("downgrade_problems", []))
        problems = [p for p in problems if p.kind not in tolerated]
        files = [
            FileSummary(doc.display_path or doc.path, doc.target, doc.environment if doc.target == "env" else "", doc.environment_source)
            for doc in documents if doc.target != "app"  # the app model is a document, not a file
        ]
        from velro_policy.settle import baseline as baseline_mod

        baseline_path = baseline_mod.resolve(opts.baseline, config, pack.config_path, root) if opts.use_baseline else None
        findings, notes, fixed = suppress.settle(
            findings, documents, files, rules=rules, known_ids=[r.id for r in pack.rules], config=config,
            config_path=pack.config_path, inline=opts.inline_ignores and config.get("inline_ignores", True) is not False,
            baseline_path=baseline_path)
        if scope:
            scope.close()
        findings = fit_remediation(findings, rules, root)
        if app is not None:
            findings = app.settle_findings(findings, opts.include_undeployed, checked=checked_paths(documents, app),
                                           own_rules={str(r.id) for r in rules if r.target == "app"})
            notes = [*notes, *app.notes()]
    finally:
        for scan in started.values():
            scan.cancel()
    return RunResult(
        findings=tuple(sorted(set(findings))),
        problems=tuple(sorted(set(problems))),
        files=tuple(sorted(set(files))),
        rules=tuple(rules),
        root=root,
        fail_on=opts.fail_on or config.get("fail_on", "low"),
        notes=tuple(pack.notes) + tuple(found.skipped) + tuple(notes),
        fixed=tuple(fixed),
        show_suppressed=opts.show_suppressed,
        applied=tuple(sorted(applied)),
    )


def fit_remediation(findings: list[Finding], rules: list[Rule], root: str) -> list[Finding]:
    """Remediation in the finding's own key names and for its platform (``settle.remediation``)."""
    if not findings:
        return findings
    from velro_policy.inputs._files import deploy_platform
    from velro_policy.settle import remediation

    return remediation.fit(findings, rules, deploy_platform(root))


def find_files(paths: list[str], config: dict[str, Any], targets: list[str] | None,
               classify: Callable[[str, bool], list[str]] | None = None) -> Any:
    """The scope step of a run over the work tree: the files under ``paths`` (default ``.``) that the
    sources of ``targets`` (None: all) read, minus the config's excludes (``inputs.discover.Found``).
    ``classify``: the sources' claims, when the caller has it already."""
    if classify is None:
        sources = sources_for(targets)

        def classify(path: str, explicit: bool) -> list[str]:
            return [name for name, src in sources.items() if src.claims(path, explicit, config)]

    return discover(paths or ["."], classify, exclude=config.get("exclude", []))


def unread_by_targets(found: Any, targets: list[str] | None, config: dict[str, Any], shown: Callable[[str], str]) -> list[Problem]:
    """A file named on the command line that velro-policy reads, but not with the ``--target``s asked
    (``lint --target code .env.production``): a problem (exit 2), never "no findings in 0 files"."""
    if targets is None or not found.explicit:
        return []
    taken = {p for paths in found.files.values() for p in paths}
    out = []
    for path in sorted(found.explicit - taken):
        readers = [name for name in TARGETS if name not in targets and SOURCES[name].claims(path, True, config)]
        if readers:
            out.append(Problem(shown(path), 0, 0, f"not checked: --target {' --target '.join(targets)} does not read it "
                               f"({readers[0]} does); add --target {readers[0]} or drop --target", "not-checked"))
    return out


def app_step(opts: Options, root: str, config: dict[str, Any], rules: list[Rule],
             say: Callable[[str], None] | None = None, found: Any = None) -> Any:
    """The application model of the run: its routes document and the undeployed filter.

    A directory run builds it from that directory.  A partial run (named files, --staged,
    --changed-since, a hook) that checks a Python file builds it from the project (the
    repository's top, else the current folder), so a file gets the same findings in every scope
    (issue 17); its app findings are then kept for the checked files only.  None when the run
    reads no Python (``lint .env``, the env hook: the model would cost a walk of the project).
    """
    if opts.targets is not None and not {"settings", "code", "app"} & set(opts.targets):
        return None
    paths = opts.paths or ["."]
    whole = not (opts.staged or opts.changed_since) and len(paths) == 1 and os.path.isdir(paths[0])
    reads_python = found is not None and any(found.files.get(name) for name in ("settings", "code"))
    if whole and found is not None and not reads_python and (opts.targets is None or "code" in opts.targets):
        return None  # the code source claims every module it may read: none here, so no app (a tree of env files)
    if not whole:
        if not reads_python:
            return None
        from velro_policy.inputs._files import repository_top

        root = repository_top(".") or os.path.abspath(".")
    from velro_policy.commands.app import AppStep

    if say is not None:
        say("reading the application model")
    step = AppStep.build(root, config, display_path, partial=not whole)
    if say is not None:
        m = step.model
        say(f"application model: entry {m.entry or 'not found'} ({m.entry_reason}); {len(m.deployed)} modules deployed, "
            f"{len(m.routes)} routes{'' if m.complete else '; incomplete: nothing dropped'}")
    return step


def checked_paths(documents: list[Document], app: Any) -> set[str] | None:
    """Display paths of the files a partial run checks (None for a directory run: every file)."""
    if not app.partial:
        return None
    return {d.display_path or d.path for d in documents if d.target != "app"}


def parallel_jobs(jobs: int, env_files: int, *, notes: list[str]) -> int:
    """Workers to use for ``--jobs`` (1: serial), with a note when the request is not honoured."""
    if jobs == 1:
        return 1
    from velro_policy.commands import parallel

    wanted = parallel.worker_count(jobs)
    if wanted <= 1 or env_files < parallel.MIN_FILES:
        return 1
    if not parallel.fork_available():
        notes.append("--jobs: this platform cannot fork worker processes; the run was serial")
        return 1
    return min(wanted, env_files // parallel.FILES_PER_WORKER)  # a worker costs a fork: give each enough files


def load_all(found: Any, ctx: LoadContext, opts: Options, started: dict[str, Any], findings: list[Finding], applied: set[str],
             problems: list[Problem], *, real_path: Callable[[str], str], roles: Any,
             say: Callable[[str], None]) -> tuple[list[Document], set[int]]:
    """Every document of the run, and the ids of those already judged: with ``--jobs``, worker
    processes read, mark and judge the env files (their findings go to ``findings``)."""
    env_files = found.files.get("env", [])
    jobs = parallel_jobs(opts.jobs, len(env_files), notes=found.skipped)
    if jobs <= 1:
        return load_documents(found.files, ctx, say=say, started=started), set()
    from velro_policy.commands.parallel import judge_env_files

    done = judge_env_files(env_files, ctx, ctx.rules, ctx.config, jobs, in_index=opts.staged, real_path=real_path, roles=roles)
    findings.extend(done.findings)
    applied.update(done.applied)
    problems.extend(done.problems)
    documents: list[Document] = []
    for name, paths in found.files.items():  # in the order a serial run loads them
        documents.extend(done.documents if name == "env" else load_documents({name: paths}, ctx, started=started))
    return documents, {id(d) for d in done.documents}


def start_scans(files: dict[str, list[str]], ctx: LoadContext, say: Callable[[str], None]) -> dict[str, Any]:
    """Start the sources that work in a process of their own (Semgrep): name -> the started scan."""
    started: dict[str, Any] = {}
    for name, paths in files.items():
        start = getattr(SOURCES[name], "start", None)
        if start is not None and paths:
            rules = sum(1 for r in ctx.rules if r.target == name)
            say(f"Semgrep: scanning {len(paths)} Python files with {rules} code rules (in the background)")
            started[name] = start(paths, ctx)
    return started


def load_documents(files: dict[str, list[str]], ctx: LoadContext, say: Callable[[str], None] | None = None,
                   started: dict[str, Any] | None = None) -> list[Document]:
    """Every source reads all of its files at once (so Semgrep runs once); a started scan is collected."""
    documents: list[Document] = []
    for name, paths in files.items():
        if started and name in started:
            if say is not None:
                say("waiting for Semgrep")
            documents.extend(started[name]())
            continue
        if say is not None:
            say(f"{name}: reading {len(paths)} files")
        documents.extend(SOURCES[name].load(paths, ctx))
    return documents


def project_step(documents: list[Document], rules: list[Rule], config: dict[str, Any], *, applied: set[str],
        notes: list[str], staged: bool, partial: bool, targets: list[str] | None,
        display: Callable[[str], str], app: Any = None, consumed: dict[str, str] | None = None) -> list[Finding]:
    """The project step of a run.

    A whole-project run (directories) judges its own documents.  A partial
    run (named files, ``--staged``, ``--changed-since``, a hook) also reads
    the rest of the project and keeps only findings involving a checked file.
    ``app``: what the application model tells the project checks (``judge.project.AppView``);
    ``consumed``: the env names its project's deployment files consume (a partial run finds them
    beside the checked files instead).
    """
    from velro_policy.inputs.context import ENV_TARGETS, SETTINGS_TARGET, load_context, shown
    from velro_policy.judge.project import evaluate, project_rules

    if not project_rules(rules) or (targets is not None and not {*ENV_TARGETS, SETTINGS_TARGET} & set(targets)):
        return []
    mine = [d for d in documents if d.target in (*ENV_TARGETS, SETTINGS_TARGET)]
    if not partial:  # with the app model's document (CORS middleware options), which only whole-directory runs have
        return evaluate([*mine, *(d for d in documents if d.target == "app")], rules, config, applied=applied, app=app,
                        consumed=consumed)
    if not mine:
        return []
    context, more, cleanup, consumed = load_context(mine, config=config, rules=rules, display=display, staged=staged)
    notes.extend(more)
    for d in context:  # not this run's file to fail on, but its findings cannot be complete
        if d.problems:
            notes.append(f"project rules: {shown(d)} cannot be parsed ({d.problems[0].message.split(';')[0]}); "
                         "cross-file findings involving it are missing until it is fixed")
    primary = {shown(d) for d in mine}
    try:  # settings modules are read again by settings_read: index copies live until then
        return evaluate(mine + context, rules, config, primary=primary, applied=applied, app=app, consumed=consumed)
    finally:
        cleanup()


def finish(result: RunResult, formats: list[tuple[str, str | None]], color: bool | None = None) -> int:
    """The report step: every output asked for, then the exit code."""
    from velro_policy.reporters import emit

    emit(result, formats, color=color)
    return exit_code(result.findings, result.problems, result.fail_on)


def run(opts: Options) -> int:
    import gc

    # A run allocates one small tuple per value of every file and frees nothing until
    # the end: the cyclic GC would rescan them all again and again (a third of the
    # time of linting 10,000 files) to find no garbage.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    progress = None
    if opts.verbosity > 0 or (opts.verbosity == 0 and sys.stderr.isatty()):  # hooks and CI never load it
        from velro_policy.commands.progress import Progress

        progress = Progress(opts.verbosity)
        if progress.active:
            opts = opts._replace(say=progress.say)
    try:
        result = collect(opts)
    finally:
        if gc_was_enabled:
            gc.enable()
        if progress is not None:
            progress.close()
    code = finish(result, opts.formats, opts.color)
    for p in result.problems:  # also on stderr, one line each: the reason for exit 2
        where = p.path + (f":{p.line}:{p.col}" if p.line else "")
        sys.stderr.write(f"velro-policy: error: {where}: {p.message}\n")
    return code


