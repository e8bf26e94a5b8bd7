"""What a run is doing, on stderr, for people waiting at a terminal.

Three levels: ``-q`` nothing; default: one transient status line on stderr
(rewritten in place, erased at the end) and only when stderr is a terminal,
so hooks, CI logs and every output format stay exactly as they were; ``-v``:
one line per step with the time since the start, also when stderr is not a
terminal (entry point, scope, how many files each input reads, Semgrep's
share).  The pipeline calls ``say(text)``; it never decides where text goes.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO

Say = Callable[[str], None]


def silent(_text: str) -> None:
    """The default ``say``: a run without a reporter of progress."""


class Progress:
    def __init__(self, verbosity: int, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.verbose = verbosity > 0
        self.live = verbosity == 0 and bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.shown = False

    @property
    def active(self) -> bool:
        return self.verbose or self.live

    def say(self, text: str) -> None:
        if self.verbose:
            self.stream.write(f"velro-policy: [{time.monotonic() - self.start:6.2f}s] {text}\n")
            self.stream.flush()
        elif self.live:
            self.stream.write("\r\033[K" + f"velro-policy: {text}"[:150])
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        """Erase the status line (the run's own output follows on a clean line)."""
        if self.live and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
        elif self.verbose:
            self.say("done")
