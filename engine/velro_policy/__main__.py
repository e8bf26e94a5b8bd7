from __future__ import annotations

from velro_policy.main import main

raise SystemExit(main())
