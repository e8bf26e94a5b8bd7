"""Human output: findings grouped by file, ``file:line:col``, a summary line.

Colour only on a terminal, never when NO_COLOR is set.
"""
from __future__ import annotations

from typing import IO

from velro_policy.model import SEVERITIES, RunResult

NAME = "text"

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
_RESET = "\033[0m"
_DIM = "\033[2m"


def report(result: RunResult, out: IO[str], *, color: bool) -> None:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    by_file: dict[str, list] = {}
    for f in result.findings:
        if f.suppressed and not result.show_suppressed:
            continue  # counted on the summary line: a baseline of 200 must not bury the 2 new ones
        by_file.setdefault(f.path, []).append(f)
    envs = {s.path: s for s in result.files}
    for path in sorted(by_file):
        summary = envs.get(path)
        header = path
        if summary and summary.environment:
            header += f"  [{summary.environment}: {summary.environment_source}]"
        out.write(paint(header, "\033[1m") + "\n")
        for f in by_file[path]:
            sev = paint(f.severity, _COLORS.get(f.severity, ""))
            tag = " (suppressed: " + f.suppressed + ")" if f.suppressed else ""
            out.write(f"  {f.path}:{f.line}:{f.col}: {sev} {f.rule_id}: {f.message}{tag}\n")
            if f.remediation:
                out.write(paint(f"      fix: {f.remediation.splitlines()[0]}", _DIM) + "\n")
        out.write("\n")
    for s in result.files:
        if s.path not in by_file and s.environment_source.startswith("unknown"):
            out.write(f"{s.path}  [{s.environment}: {s.environment_source}]\n")
    for note in result.notes:
        out.write(paint(f"note: {note}", _DIM) + "\n")
    active = [f for f in result.findings if not f.suppressed]
    counts = {s: sum(1 for f in active if f.severity == s) for s in SEVERITIES}
    parts = [f"{counts[s]} {s}" for s in reversed(SEVERITIES) if counts[s]]
    n_files = len({s.path for s in result.files} | set(by_file))  # a project finding may point at a file read only as context
    if active:
        line = f"{len(active)} finding{'s' if len(active) != 1 else ''} ({', '.join(parts)}) in {len(by_file)} of {n_files} file{'s' if n_files != 1 else ''} checked"
    elif n_files == 0 and not result.problems:
        line = "warning: nothing was checked: no env file, settings module or Python file was found (check the path, --target and exclude)"
    else:
        line = f"no findings in {n_files} file{'s' if n_files != 1 else ''} checked"
    suppressed = [f for f in result.findings if f.suppressed]
    if suppressed:
        baselined = sum(1 for f in suppressed if f.suppressed == "baseline")
        kinds = ", ".join(part for part in (f"{baselined} by the baseline" if baselined else "",
                                            f"{len(suppressed) - baselined} by ignores/exceptions" if len(suppressed) > baselined else "") if part)
        line += f"; {len(suppressed)} suppressed ({kinds}){'' if result.show_suppressed else ', not listed: --show-suppressed lists them'}"
    if result.problems:
        line += f"; {len(result.problems)} could not be checked (exit 2)"
    out.write(line + "\n")
