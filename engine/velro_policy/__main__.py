from __future__ import annotations

import sys

from velro_policy.hookpath import run as run_hook

code = run_hook(sys.argv[1:])  # the hooks' own command lines, without loading click (velro_policy.hookpath)
if code is None:
    from velro_policy.main import main

    code = main()
raise SystemExit(code)
