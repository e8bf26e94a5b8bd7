"""``velro-policy report [DIR]``: the security posture of a project, as the guide draws it.

run (``commands.run.collect``, the pipeline of ``check``) -> optional probe recording (the
same pipeline over a ``*.probe.json``) -> ``commands.posture.build`` -> a renderer of
``reporters`` (``posture_html``, ``posture_markdown``) -> file or stdout.

Exit code: 0 when the report was written, findings or not (``check`` is the gate);
2 when it could not be (DIR missing, an unusable recording, bad config or policy, a file
that cannot be written), with one line on stderr.  Files that could not be checked are
named in the report and on stderr, as ``check`` names them.
"""
from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

from velro_policy.commands.posture import Run
from velro_policy.errors import InputError
from velro_policy.posture import Posture


class ReportOptions(NamedTuple):
    directory: str
    html: str | None = None  # --html FILE
    fmt: str | None = None  # --format html|markdown (to --output or stdout)
    output: str | None = None
    probe_recording: str | None = None
    live_vars: str | None = None  # --live-vars NAME: the platform's variables on stdin, one more column
    config: str | None = None
    policies: list[str] = []
    use_cache: bool = True
    locked_policy: bool = False  # --locked-policy (as check's)


def report(opts: ReportOptions) -> int:
    from velro_policy import __version__
    from velro_policy.commands.posture import build
    from velro_policy.commands.run import Options, collect, display_path

    if not os.path.isdir(opts.directory):
        raise InputError("directory not found", path=opts.directory)
    writes = _writes(opts)
    if opts.probe_recording:
        _check_recording(opts.probe_recording)
    live_text = _live_text(opts) if opts.live_vars else None  # stdin checked before the run too: bad input costs no scan
    config = opts.config or _config_for(opts.directory)
    seen: dict[str, Any] = {}
    result = collect(Options(paths=[opts.directory], policies=list(opts.policies), config=config, use_cache=opts.use_cache,
                             locked_policy=opts.locked_policy), seen=seen)
    app = getattr(seen.get("app"), "model", None)
    run = Run(result, list(seen.get("loaded") or []), list(seen.get("documents") or []), app)
    if live_text is not None:
        run = _with_live(run, opts, config, live_text)
    probe: Run | None = None
    label = ""
    if opts.probe_recording:
        probe, label = _probe(opts, config)
    posture = build(run, root=display_path(opts.directory), version=__version__, probe=probe, probe_label=label)
    for fmt, target in writes:
        text = _render(fmt, posture)
        if target is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            continue
        from velro_policy.outfiles import write_text

        write_text(target, text, what=f"the {fmt} report")
    for p in result.problems:  # as check does: the reason the report is incomplete, one line each
        where = p.path + (f":{p.line}:{p.col}" if p.line else "")
        sys.stderr.write(f"velro-policy: could not check {where}: {p.message}\n")
    return 0


def _live_text(opts: ReportOptions) -> str:
    """The live platform's variables (stdin) as env text, or InputError (exit 2) for input that is not."""
    from velro_policy.commands.stdin import as_env_text

    return as_env_text(sys.stdin.buffer.read(), str(opts.live_vars))


def _with_live(run: Run, opts: ReportOptions, config: str | None, text: str) -> Run:
    """The run with the live platform's variables (``text``, from stdin) judged as one more env file, named
    ``NAME (live)``: the same pipeline as ``lint -`` with ``--stdin-filename NAME``."""
    from velro_policy.commands.run import Options, collect
    from velro_policy.commands.stdin import env_file

    name = str(opts.live_vars)
    seen: dict[str, Any] = {}
    with env_file(text, name) as path:
        live = collect(Options(paths=[path], policies=list(opts.policies), config=config, use_cache=opts.use_cache,
                               locked_policy=opts.locked_policy, read_as="env", targets=["env"],
                               shown_as={os.path.normpath(path): f"{name} (live)"}), seen=seen)
    result = run.result._replace(findings=tuple(sorted({*run.result.findings, *live.findings})),
                                 problems=tuple(sorted({*run.result.problems, *live.problems})),
                                 files=tuple(sorted({*run.result.files, *live.files})))
    return Run(result, [*run.loaded, *(seen.get("loaded") or [])], [*run.documents, *(seen.get("documents") or [])], run.app)


def _writes(opts: ReportOptions) -> list[tuple[str, str | None]]:
    """(format, file or None for stdout) pairs; checked before the run so a bad option costs nothing."""
    writes: list[tuple[str, str | None]] = []
    if opts.html:
        writes.append(("html", opts.html))
    if opts.fmt or not opts.html:
        writes.append((opts.fmt or "markdown", opts.output))
    elif opts.output:
        raise InputError("--output needs --format (html or markdown); --html FILE names its own file")
    targets = [t for _, t in writes if t]
    if len(targets) != len(set(os.path.abspath(t) for t in targets)):
        raise InputError("--html and --output name the same file; give two files")
    from velro_policy.outfiles import target_of

    for target in targets:
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise InputError("cannot write the report: its folder does not exist", path=target)
        target_of(target)  # a symlink out of the repository is refused before the run
    return writes


def _config_for(directory: str) -> str | None:
    from velro_policy.policy import config as config_mod

    found = config_mod.find(directory)
    return str(found) if found else None


def _check_recording(path: str) -> None:
    from velro_policy.inputs import http

    if not os.path.basename(path).endswith(http.SUFFIX):
        raise InputError(f"--probe-recording needs a file written by `velro-policy probe --record` (name ending in {http.SUFFIX})",
                         path=path)
    if not os.path.isfile(path):
        raise InputError("probe recording not found", path=path)


def _probe(opts: ReportOptions, config: str | None) -> tuple[Run, str]:
    """The recording judged by the pipeline (``lint FILE.probe.json``), and how the report names it."""
    from velro_policy.commands.run import Options, collect, display_path
    from velro_policy.inputs import http

    path = opts.probe_recording or ""
    seen: dict[str, Any] = {}
    result = collect(Options(paths=[path], policies=list(opts.policies), config=config, use_cache=opts.use_cache,
                             targets=[http.NAME], locked_policy=opts.locked_policy), seen=seen)
    if result.problems:
        raise InputError(f"unusable probe recording: {result.problems[0].message}", path=path)
    loaded = list(seen.get("loaded") or [])
    urls = [d.path for d in loaded if d.target == http.TARGET]
    base = ""
    if urls:
        from urllib.parse import urlsplit

        parts = urlsplit(urls[0])
        base = f"{parts.scheme}://{parts.netloc}"
    label = display_path(path) + (f" ({base})" if base else "")
    return Run(result, loaded, list(seen.get("documents") or []), None), label


def _render(fmt: str, posture: Posture) -> str:
    if fmt == "html":
        from velro_policy.reporters import posture_html

        return posture_html.render(posture)
    from velro_policy.reporters import posture_markdown

    return posture_markdown.render(posture)
