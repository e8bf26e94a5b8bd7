"""The probe's HTTP client: httpx with the safety rules built in.

- Only BASE_URL's host: a URL (plan path or redirect target) on another
  host is refused; a redirect to another host is not followed and is noted.
- Bounded: a per-request timeout, an overall deadline, at most
  ``MAX_REQUESTS`` requests and ``MAX_BODY`` bytes read of any body.
- No credentials: ``trust_env=False`` so no ~/.netrc, proxy or env
  settings add an Authorization header; BASE_URL may not carry user:password
  or a query string; the only bearer values are the probe's fake ones.
- TLS verified unless ``--insecure`` (a self-signed staging certificate).
- Redirects off unless ``--follow-redirects``.
- ``--verbose`` logs every request (method, URL, what is special about it,
  status, time) to stderr; never a header value the service sent.

A request that cannot complete (refused, timeout, TLS) stops the probe with
``ProbeError`` (exit 2): half a probe must not pass as a clean one.
"""
from __future__ import annotations

import sys
import time
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import httpx

from velro_policy import __version__
from velro_policy.errors import VelroError

USER_AGENT = f"velro-policy/{__version__} (post-deployment probe; +https://github.com/velro/velro-policy)"
MAX_REQUESTS = 100
MAX_BODY = 64 * 1024
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class ProbeError(VelroError):
    """The service could not be probed (down, timeout, TLS, refused URL)."""


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash, or ProbeError saying what to fix."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"BASE_URL {base_url!r} must be an http:// or https:// URL with a host, e.g. https://api.example.com")
    if parts.username or parts.password:
        raise ProbeError("BASE_URL must not carry credentials (user:password@); the probe never sends real credentials")
    if parts.query or parts.fragment:
        raise ProbeError("BASE_URL must not carry a query string or fragment; give the service's root URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ProbeError(f"BASE_URL {base_url!r} has an invalid port") from None
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class Client:
    """One probe session against one host."""

    def __init__(self, base_url: str, *, timeout: float, verify: bool, follow_redirects: bool,
                 verbose: bool, budget: float = 120.0, log: IO[str] | None = None) -> None:
        self.base = check_base_url(base_url)
        self.host = (urlsplit(self.base).hostname or "").lower()
        self.timeout = timeout
        self.follow_redirects = follow_redirects
        self.verbose = verbose
        self.log = log or sys.stderr
        self.deadline = time.monotonic() + budget
        self.count = 0
        self.notes: list[str] = []
        # No keep-alive: a service that drops the connection after an error (a debug 500)
        # must not make the next probe request fail on a dead pooled connection.
        self._http = httpx.Client(verify=verify, follow_redirects=False, trust_env=False,
                                  timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT},
                                  limits=httpx.Limits(max_keepalive_connections=0))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        """BASE_URL + path, refused when it would leave BASE_URL's host."""
        url = self.base + path if path.startswith("/") else path
        self.check_host(url)
        return url

    def check_host(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        if host != self.host:
            raise ProbeError(f"refusing to probe {url}: only BASE_URL's host {self.host} is probed")

    def request(self, method: str, path: str, *, probe: str, headers: dict[str, str] | None = None,
                content: bytes | None = None, note: str = "", keep_body: bool = False) -> dict[str, Any]:
        """Send one request (following same-host redirects when asked); the exchange as a record."""
        url = self.url(path)
        for _ in range(MAX_REDIRECTS + 1):
            status, resp_headers, body = self._send(method, url, headers or {}, content, note)
            location = dict((k.lower(), v) for k, v in resp_headers).get("location")
            if not (self.follow_redirects and status in REDIRECTS and location):
                break
            target = urljoin(url, location)
            if (urlsplit(target).hostname or "").lower() != self.host:
                self.notes.append(f"{method} {url} redirects to another host ({urlsplit(target).hostname}); not followed")
                break
            url = target
            if status == 303:
                method, content = "GET", None
        else:
            self.notes.append(f"{method} {url}: more than {MAX_REDIRECTS} redirects; stopped following")
        record: dict[str, Any] = {"probe": probe, "method": method, "url": url, "status": status, "headers": resp_headers}
        if note:
            record["request"] = note
        if keep_body:
            record["body"] = body
        return record

    def _send(self, method: str, url: str, headers: dict[str, str], content: bytes | None,
              note: str) -> tuple[int, list[list[str]], str]:
        if self.count >= MAX_REQUESTS:
            raise ProbeError(f"the probe plan needs more than {MAX_REQUESTS} requests; shorten it")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeError("the probe ran out of time (overall budget); shorten the plan or check the service")
        self.count += 1
        shown = f"{method} {url}" + (f" ({note})" if note else "")
        started = time.monotonic()
        timeout = httpx.Timeout(min(self.timeout, remaining))
        try:
            request = self._http.build_request(method, url, headers=headers, content=content, timeout=timeout)
            response = self._http.send(request, stream=True)
            try:
                body = self._read(response)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise ProbeError(f"{method} {url} timed out after {min(self.timeout, remaining):g}s; is the service up? (raise --timeout for a slow one)") from None
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
                raise ProbeError(f"TLS verification failed for {url}; for a self-signed staging certificate pass --insecure") from None
            raise ProbeError(f"cannot connect to {url} ({_short(text)}); is the service running and BASE_URL right?") from None
        except httpx.HTTPError as exc:
            raise ProbeError(f"{method} {url} failed ({exc.__class__.__name__}: {_short(str(exc))}); check the service") from None
        if self.verbose:
            ms = (time.monotonic() - started) * 1000
            self.log.write(f"velro-policy: probe: {shown} -> {response.status_code} ({ms:.0f} ms)\n")
            self.log.flush()
        raw = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.headers.raw]
        return response.status_code, raw, body

    def _read(self, response: httpx.Response) -> str:
        """At most MAX_BODY bytes, within the deadline."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_BODY or time.monotonic() > self.deadline:
                break
        data = b"".join(chunks)[:MAX_BODY]
        try:
            return data.decode(response.charset_encoding or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return data.decode("utf-8", errors="replace")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."
