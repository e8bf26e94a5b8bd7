"""What ``gc.disable()`` around a run buys (bench B2; issue 13 asks each kept speed trick to be
measured): ``lint .`` in process, exactly as ``commands.run.run`` does it, with the trick on
(the shipped behaviour) or off (``--gc-on``: the collector left running).

    python bench/trick_gc.py [--gc-on]      # in the folder to lint; prints the text report
"""
from __future__ import annotations

import gc
import sys

from velro_policy.commands import run as run_mod

if "--gc-on" in sys.argv:
    gc.disable = lambda: None  # type: ignore[assignment]  # run() calls gc.disable(): make it a no-op
code = run_mod.run(run_mod.Options(paths=["."]))  # the report goes to stdout, which the benchmark discards
sys.exit(code if code in (0, 1) else 2)
