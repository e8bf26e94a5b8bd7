"""Open a page in a real headless Chromium and record what it did (stdlib only).

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: it
reads commands on fd 3 and writes answers on fd 4, each a JSON text ended by NUL), so no
port, no websocket library and no browser download: Debian's ``chromium`` package
(``apt-get install chromium``; ``.ci/run`` installs it).

``open_page(path)`` returns the console messages, uncaught exceptions, log entries
(CSP violations among them) and every request the page made, and optionally a PNG
screenshot and a PDF (print) rendering.  Every step has a deadline: a browser that hangs
fails the test, never blocks it.

Without Chromium, ``find_chromium()`` raises: a test that needs the browser fails unless
VELRO_SKIP_BROWSER=1 is set (then it is skipped, explicitly).
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-quic", "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe",
    # Nothing may reach the network even if a page tried: every host name fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


class BrowserMissing(RuntimeError):
    pass


class PageRun(NamedTuple):
    url: str
    console: list[dict[str, Any]]  # Runtime.consoleAPICalled params
    exceptions: list[dict[str, Any]]  # Runtime.exceptionThrown params
    log: list[dict[str, Any]]  # Log.entryAdded entries (CSP violations, failed loads, ...)
    requests: list[str]  # URL of every request the page made (the page itself included)
    screenshot: bytes = b""
    pdf: bytes = b""

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries, as text."""
        out = [" ".join(str(a.get("value", a.get("description", ""))) for a in c.get("args", []))
               for c in self.console if c.get("type") in ("error", "assert")]
        out += [str(e.get("exceptionDetails", {}).get("text", "exception")) for e in self.exceptions]
        out += [f"{e.get('source')}: {e.get('text')}" for e in self.log if e.get("level") == "error"]
        return out


def find_chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing("no Chromium on PATH: apt-get install -y chromium (or set VELRO_SKIP_BROWSER=1 to skip browser tests)")


class _Pipe:
    def __init__(self, chromium: str, profile: str) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # The child must see them as fds 3 and 4: move them above 10 first, so that putting one
        # in place cannot clobber the other (subprocess closes every other fd after preexec_fn).
        a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def as_3_and_4() -> None:
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"], pass_fds=(3, 4, a, b), preexec_fn=as_3_and_4,
            # stderr to a file, never a pipe nobody reads while the page runs: Chromium (its renderers
            # too) would block once the pipe is full.
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        os.close(a)
        os.close(b)
        self.w, self.r = to_child_w, from_child_r
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        want = self.next_id
        deadline = time.monotonic() + timeout
        while True:
            for m in self._read(deadline):
                if m.get("id") == want:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return dict(m.get("result", {}))
                self.events.append(m)

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(i)
            self.events.extend(self._read(deadline))

    def settle(self, session: str, quiet: float = 0.5, most: float = 10) -> None:
        """Collect the page's late events: a round trip through the page's renderer first (what it
        sent before the answer, console calls and exceptions, is read by then), then every event
        until none has come for ``quiet`` seconds (log entries of failed loads come from the browser
        process, in no fixed order), for at most ``most`` seconds.  A loaded machine slows both;
        neither ends early on it."""
        self.send("Runtime.evaluate", {"expression": "0"}, session=session)
        end = time.monotonic() + most
        while time.monotonic() < end:
            before = len(self.events)
            self.drain(min(quiet, end - time.monotonic()))
            if len(self.events) == before:
                return

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.extend(self._read(deadline))
        except TimeoutError:
            pass

    def _read(self, deadline: float) -> list[dict[str, Any]]:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                err = self.stderr_tail()
                raise RuntimeError(f"Chromium closed the pipe (exit {self.proc.poll()}): {err}")
            self.buf += chunk
        *done, self.buf = self.buf.split(b"\0")
        return [json.loads(d) for d in done if d]

    def close(self) -> None:
        try:
            os.write(self.w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self.w, self.r):
            os.close(fd)
        self.log.close()

    def stderr_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]


class NeverLoaded(TimeoutError):
    """Chromium started the navigation but the page's load never came."""


def open_page(path: Path, *, width: int = 1280, height: int = 900, screenshot_height: int = 0, pdf: bool = False,
              timeout: float = 60, load_timeout: float = 20, attempts: int = 3) -> PageRun:
    """Load ``path`` (a local file) and record what the page did.  ``screenshot_height``: also
    take a PNG of the top of the page that tall (0: none); ``pdf``: also print it.

    On a loaded machine Chromium now and then starts the navigation (the document is fetched) and
    then sends nothing more for that page: no load, no console, no further request (seen for 60 s).
    That browser is closed and the page opened again in a new one, ``attempts`` times at most; only
    a page whose load came is recorded, so what a run reports is all a complete load did."""
    for attempt in range(1, attempts + 1):
        try:
            return _open_once(path, width, height, screenshot_height, pdf, timeout, load_timeout)
        except NeverLoaded:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _open_once(path: Path, width: int, height: int, screenshot_height: int, pdf: bool, timeout: float,
               load_timeout: float) -> PageRun:
    chromium = find_chromium()
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="velro-chromium-") as profile:
        pipe = _Pipe(chromium, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Page.setLifecycleEventsEnabled", {"enabled": True}, session=session)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            pipe.events.clear()  # about:blank's own events (more of them may still come: see the loader below)
            navigated = pipe.send("Page.navigate", {"url": url}, session=session, timeout=timeout)
            if navigated.get("errorText"):
                raise RuntimeError(f"Chromium could not open {url}: {navigated['errorText']}")
            # The load of THIS navigation (its loader), not a late load event of about:blank: on a loaded
            # machine that one can come after the navigation started, and waiting for it read the page
            # before it had run (its requests and errors missing).
            deadline = time.monotonic() + load_timeout
            while True:
                try:
                    event = pipe.wait_event("Page.lifecycleEvent", timeout=max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    raise NeverLoaded(f"{url}: no load event in {load_timeout:.0f} s") from None
                got = event.get("params", {})
                if event.get("sessionId") == session and got.get("name") == "load" and got.get("loaderId") == navigated.get("loaderId"):
                    break
            pipe.settle(session)  # late console or log entries
            events = [e for e in pipe.events if e.get("sessionId") == session]
            shot = b""
            if screenshot_height:
                pipe.send("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": screenshot_height, "deviceScaleFactor": 1, "mobile": False}, session=session)
                shot = base64.b64decode(pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
            printed = b""
            if pdf:
                printed = base64.b64decode(pipe.send("Page.printToPDF", {"landscape": True}, session=session, timeout=timeout)["data"])
            pipe.settle(session)
            events += [e for e in pipe.events if e.get("sessionId") == session and e not in events]
        finally:
            pipe.close()

    def params(method: str) -> list[dict[str, Any]]:
        return [dict(e.get("params", {})) for e in events if e.get("method") == method]

    return PageRun(
        url=url,
        console=params("Runtime.consoleAPICalled"),
        exceptions=params("Runtime.exceptionThrown"),
        log=[p.get("entry", {}) for p in params("Log.entryAdded")],
        requests=[p.get("request", {}).get("url", "") for p in params("Network.requestWillBeSent")],
        screenshot=shot,
        pdf=printed,
    )
