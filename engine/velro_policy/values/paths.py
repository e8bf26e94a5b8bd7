"""Path arithmetic on strings (no file system access)."""
from __future__ import annotations

import os
from collections.abc import Iterator


def parent_folders(folder: str) -> Iterator[str]:
    """Every folder above ``folder``, nearest first, up to the root."""
    while True:
        up = os.path.dirname(folder)
        if up == folder:
            return
        yield up
        folder = up
