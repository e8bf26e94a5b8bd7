from __future__ import annotations

from velro_policy.hookpath import main

raise SystemExit(main())  # a hook's command line runs without loading click (velro_policy.hookpath)
