"""The env hook's run cut into stages, for the E profile (bench/run.py counts the instructions of each).

``python -I bench/hook_stages.py N FILE`` runs what the hook's process does up to stage N:

    0  import what a run needs (hookpath's imports: the run command, the error funnel)
    1  + load the compiled policy pack (cache key: read and hash the pack's files; JSON)
    2  + collect: discover, read the env file, judge, the committed-secret and project steps
    3  + report (the text reporter writes the findings)

The difference between two stages is what that stage costs; stage 3 minus ``python -c pass``
is the whole process's own work.  Measured with the same options the hook's command line gives
(``lint --target env FILE``).
"""
from __future__ import annotations

import sys


def main(stage: int, path: str) -> None:
    from velro_policy.commands.run import Options, collect, finish, load_pack
    from velro_policy.error_handler import error_handler  # noqa: F401 - imported by the hook as well

    opts = Options(paths=[path], targets=["env"], staged=False)
    if stage < 1:
        return
    pack = load_pack(opts)
    if stage < 2:
        return
    import gc

    gc.disable()  # as commands.run.run does
    result = collect(opts, pack)
    if stage < 3:
        return
    finish(result, opts.formats, opts.color)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
