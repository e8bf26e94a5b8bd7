"""`velro-policy probe` against real local services (uvicorn + Starlette on 127.0.0.1).

The hardened app passes; the weak app yields exactly one finding per
weakness of the guide's post-deployment checklist.  The CLI runs in a child
process, as users run it; the servers run in a thread of the test process,
behind a recorder that sees every request the probe sends.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from ruamel.yaml import YAML

from conftest import REPO, cli, write

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "probe"
ALLOWED = "https://app.velro.example"

WEAKNESSES = sorted([
    "velro/http-header-hsts",  # max-age=3600
    "velro/http-header-csp",  # missing
    "velro/http-header-content-type-options",  # missing
    "velro/http-header-frame-options",  # SAMEORIGIN
    "velro/http-header-xss-protection",  # missing
    "velro/http-header-referrer-policy",  # unsafe-url
    "velro/http-cors-untrusted-origin",  # reflects any origin, with credentials
    "velro/http-auth-invalid-token",  # accepts Bearer invalid-token
    "velro/http-auth-mock-token",  # accepts mock_token_...
    "velro/http-error-disclosure",  # traceback on malformed JSON
    "velro/http-rate-limit-login",  # no 429 (with --rate-limit-check)
])


def _app(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"probe_fixture_{name}", FIXTURES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_app()  # fresh state (rate-limit counters) per server


class Recorder:
    """ASGI wrapper that keeps (method, path, headers, body) of every request."""

    def __init__(self, app: Any) -> None:
        self.app, self.seen = app, []  # type: ignore[var-annotated]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], headers, body))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@contextlib.contextmanager
def serve(app: Any, **tls: str) -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder(app)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(recorder, log_level="critical", lifespan="off", access_log=False, **tls))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "test server did not start"
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", recorder
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def probe_json(url: str, *args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    res = cli(["probe", url, "-f", "json", *args], cwd=cwd)
    data = json.loads(res.stdout) if res.stdout.strip() else {}
    return res.returncode, data, res.stderr


def test_hardened_app_passes_every_probe(tmp_path: Path) -> None:
    record = tmp_path / "hardened.probe.json"
    with serve(_app("hardened_app")) as (url, rec):
        code, data, err = probe_json(url, "--rate-limit-check", "--allowed-origin", ALLOWED, "--record", str(record), cwd=tmp_path)
    assert code == 0, err + json.dumps(data["findings"], indent=1)
    assert data["findings"] == []
    # Not a vacuous pass: every probe ran and saw what a hardened service answers.
    exchanges = json.loads(record.read_text())["exchanges"]
    from velro_policy.inputs.http import PROBES

    assert {ex["probe"] for ex in exchanges} == set(PROBES)
    assert {ex["status"] for ex in exchanges if ex["probe"].startswith("auth-")} == {401}
    assert [ex["statuses"][-1] for ex in exchanges if ex["probe"] == "rate-limit"] == [429]
    logins = [s for s in rec.seen if s[:2] == ("POST", "/api/v1/auth/login")]
    assert logins and any(True for _ in logins)
    assert f"probed {url} with {len(rec.seen)} requests" in " ".join(data["notes"])


def test_weak_app_yields_one_finding_per_weakness(tmp_path: Path) -> None:
    with serve(_app("weak_app")) as (url, _):
        code, data, err = probe_json(url, "--rate-limit-check", cwd=tmp_path)
    assert code == 1, err
    assert sorted(f["rule_id"] for f in data["findings"]) == WEAKNESSES
    by_rule = {f["rule_id"]: f for f in data["findings"]}
    for f in data["findings"]:  # the URL is the finding's path; the request is named in the message
        assert f["path"].startswith(url + "/"), f
        assert "[" in f["message"] and ("GET " in f["message"] or "POST " in f["message"] or "OPTIONS " in f["message"])
    assert by_rule["velro/http-auth-invalid-token"]["path"] == url + "/api/v1/auth/me"
    assert "Authorization: Bearer invalid-token" in by_rule["velro/http-auth-invalid-token"]["message"]
    assert "mock_token_" in by_rule["velro/http-auth-mock-token"]["message"]
    assert "echoed with credentials" in by_rule["velro/http-cors-untrusted-origin"]["message"]
    assert "malformed JSON body" in by_rule["velro/http-error-disclosure"]["message"]
    assert "max-age=3600" in by_rule["velro/http-header-hsts"]["message"]
    assert "5 fake logins" in by_rule["velro/http-rate-limit-login"]["message"]


def test_rate_limit_probe_is_opt_in_and_bounded(tmp_path: Path) -> None:
    with serve(_app("weak_app")) as (url, rec):
        code, data, _ = probe_json(url, cwd=tmp_path)
        without = [s for s in rec.seen if s[0] == "POST"]
        rec.seen.clear()
        probe_json(url, "--rate-limit-check", cwd=tmp_path)
        with_check = [s for s in rec.seen if s[0] == "POST" and s[3].startswith(b'{"email"') and s[3].endswith(b"}")]
    assert code == 1
    assert "velro/http-rate-limit-login" not in {f["rule_id"] for f in data["findings"]}
    assert any("--rate-limit-check" in n for n in data["notes"])
    assert len(without) == 1  # only the malformed-JSON error probe
    assert len(with_check) == 3 + 2  # limit+2 fake logins, no more


def test_hardened_app_stops_at_the_first_429(tmp_path: Path) -> None:
    with serve(_app("hardened_app")) as (url, rec):
        code, data, _ = probe_json(url, "--rate-limit-check", cwd=tmp_path)
    assert code == 0, data["findings"]
    bursts = [s for s in rec.seen if s[0] == "POST" and s[3].endswith(b"}")]
    # The malformed-JSON probe used 1 of the 3 attempts, two fake logins the rest; the third
    # fake login got 429 and the probe stopped there instead of sending limit+2 = 5.
    assert len(bursts) == 3


def test_requests_carry_no_real_credentials_and_name_velro_policy(tmp_path: Path) -> None:
    from velro_policy import __version__

    with serve(_app("weak_app")) as (url, rec):
        probe_json(url, "--rate-limit-check", "--allowed-origin", ALLOWED, cwd=tmp_path)
    assert rec.seen
    for _method, _path, headers, body in rec.seen:
        assert headers["user-agent"].startswith(f"velro-policy/{__version__} "), headers
        assert headers.get("authorization") in (None, "Bearer invalid-token", "Bearer mock_token_velro_policy_probe")
        assert "cookie" not in headers
        if body:
            assert b"@example.invalid" in body and b"velro-policy-probe" in body, body


def test_every_output_format_carries_the_url(tmp_path: Path) -> None:
    from velro_policy.reporters import REPORTERS

    outs = {name: tmp_path / f"out.{name}" for name in REPORTERS}
    with serve(_app("weak_app")) as (url, _):
        args = [a for name, p in outs.items() for a in ("-f", f"{name}={p}")]
        res = cli(["probe", url, *args], cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    target = url + "/api/v1/auth/me"
    from velro_policy.reporters.github import escape_property

    for name, path in outs.items():
        text = path.read_text()
        assert (escape_property(target) if name == "github" else target) in text, name
    sarif = json.loads(outs["sarif"].read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert target in uris and all(u.startswith(url + "/") for u in uris), uris
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    assert not [e.message for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(sarif)]
    results = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert results == set(WEAKNESSES) - {"velro/http-rate-limit-login"}


def test_verbose_logs_every_request_without_header_values(tmp_path: Path) -> None:
    with serve(_app("weak_app")) as (url, rec):
        res = cli(["probe", url, "--verbose"], cwd=tmp_path)
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("velro-policy: probe: ")]
    assert len(lines) == len(rec.seen)
    assert all(url in ln and " -> " in ln for ln in lines)
    assert "max-age=3600" not in res.stderr  # response header values are not logged


def test_server_down_exits_2_with_one_line(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    res = cli(["probe", f"http://127.0.0.1:{port}"], cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "cannot connect to" in res.stderr and "is the service running" in res.stderr


def test_a_server_that_never_answers_times_out_with_exit_2(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # the kernel accepts connections; nobody ever reads or answers
    try:
        started = time.monotonic()
        res = cli(["probe", f"http://127.0.0.1:{sock.getsockname()[1]}", "--timeout", "0.5"], cwd=tmp_path)
        took = time.monotonic() - started
    finally:
        sock.close()
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "timed out after 0.5s" in res.stderr, res.stderr
    assert took < 30


@pytest.mark.parametrize("bad", ["ftp://127.0.0.1/", "http://user:pw@127.0.0.1:1/", "http://127.0.0.1:1/?token=x", "not a url"])
def test_bad_base_urls_are_refused(tmp_path: Path, bad: str) -> None:
    res = cli(["probe", bad], cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("velro-policy: error: BASE_URL") and res.stderr.count("\n") == 1
    assert "pw" not in res.stderr.replace("password", "")


def test_a_bad_allowed_origin_is_refused(tmp_path: Path) -> None:
    res = cli(["probe", "http://127.0.0.1:9", "--allowed-origin", "app.velro.example/login"], cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "must be an origin" in res.stderr


def _redirect_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.routing import Route

    async def away(request: Any) -> Any:
        return RedirectResponse("http://evil.example/steal", status_code=302)

    async def moved(request: Any) -> Any:
        return RedirectResponse("/health", status_code=301)

    async def health(request: Any) -> Any:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/away", away), Route("/moved", moved), Route("/health", health)])


def test_redirects_are_off_by_default_and_never_leave_the_host(tmp_path: Path) -> None:
    plan = write(tmp_path / "p.plan.yaml", "apiVersion: velro-policy/v1\nkind: ProbePlan\npaths: [/away, /moved]\nerrors: {unknown_path: false}\n")
    with serve(_redirect_app()) as (url, rec):
        code, data, err = probe_json(url, "--plan", str(plan), cwd=tmp_path)
        assert [s[1] for s in rec.seen] == ["/away", "/moved"]
        rec.seen.clear()
        code, data, err = probe_json(url, "--plan", str(plan), "--follow-redirects", cwd=tmp_path)
        assert [s[1] for s in rec.seen] == ["/away", "/moved", "/health"]
    assert any("redirects to another host (evil.example); not followed" in n for n in data["notes"]), data["notes"]
    assert all(f["path"].startswith(url) for f in data["findings"])


def test_a_bad_plan_names_file_and_line(tmp_path: Path) -> None:
    plan = write(tmp_path / "p.plan.yaml", "apiVersion: velro-policy/v1\nkind: ProbePlan\npaths:\n  - /health\n  - https://elsewhere.example/\n")
    res = cli(["probe", "http://127.0.0.1:9", "--plan", str(plan)], cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "p.plan.yaml:5:" in res.stderr and "probe plan" in res.stderr


def test_configured_plan_and_allowed_origin(tmp_path: Path) -> None:
    write(tmp_path / "plans" / "mine.plan.yaml",
          "apiVersion: velro-policy/v1\nkind: ProbePlan\npaths: [/health]\ncors: {paths: [/health]}\n"
          "errors: {unknown_path: false}\n")
    write(tmp_path / "velro-policy.yaml", "probe_plan: plans/mine.plan.yaml\nprobe_allowed_origins: ['https://wrong.velro.example']\n")
    with serve(_app("hardened_app")) as (url, rec):
        code, data, _ = probe_json(url, cwd=tmp_path)
    assert {s[1] for s in rec.seen} == {"/health"}
    assert [f["rule_id"] for f in data["findings"]] == ["velro/http-cors-allowed-origin"]
    assert code == 1


def test_a_recorded_probe_lints_to_the_same_rules(tmp_path: Path) -> None:
    with serve(_app("weak_app")) as (url, _):
        code, live, _ = probe_json(url, "--record", str(tmp_path / "weak.probe.json"), cwd=tmp_path)
    recorded = json.loads((tmp_path / "weak.probe.json").read_text())
    assert all(h[0].lower() != "set-cookie" for ex in recorded["exchanges"] for h in ex["headers"])
    res = cli(["lint", "weak.probe.json", "-f", "json"], cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    linted = json.loads(res.stdout)
    assert {f["rule_id"] for f in linted["findings"]} == {f["rule_id"] for f in live["findings"]}
    bad = write(tmp_path / "broken.probe.json", '{"velro_probe": 1, "exchanges": [{"probe": "page"}]}\n')
    res = cli(["lint", bad.name], cwd=tmp_path)
    assert res.returncode == 2 and "exchange 1: url must be an absolute URL" in res.stderr


def test_http_header_rules_are_the_settings_header_rules() -> None:
    """The same checks as settings-headers.yaml, plus `required`, so live and declared headers agree."""
    yaml = YAML(typ="safe")
    http = {r["id"]: r for r in yaml.load((REPO / "policies" / "velro" / "http-headers.yaml").read_text())["rules"]}
    settings = {r["id"]: r for r in yaml.load((REPO / "policies" / "velro" / "settings-headers.yaml").read_text())["rules"]}
    assert http
    for rid, rule in http.items():
        twin = settings[rid.replace("velro/http-header-", "velro/header-")]
        check = {k: v for k, v in rule["check"].items() if k != "required"}
        assert rule["check"]["required"] is True
        assert check == twin["check"], rid
        assert rule["severity"] == twin["severity"], rid


def test_lint_path_never_imports_httpx(tmp_path: Path) -> None:
    write(tmp_path / ".env", "DEBUG=false\n")
    import subprocess

    code = ("import sys\nfrom velro_policy.main import main\nrc = main(['lint', '.env', '-f', 'json'])\n"
            "assert 'httpx' not in sys.modules, 'httpx imported on the lint path'\nprint('ok', rc)\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.stdout.strip().endswith(("ok 0", "ok 1")), res.stdout + res.stderr


def test_tls_is_verified_unless_insecure(tmp_path: Path) -> None:
    """A self-signed certificate (as on a staging host) fails closed; --insecure accepts it and says so."""
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=60)
    with serve(_app("hardened_app"), ssl_keyfile=str(key), ssl_certfile=str(cert)) as (url, rec):
        assert url.startswith("https://")
        res = cli(["probe", url], cwd=tmp_path)
        assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
        assert "TLS verification failed" in res.stderr and "--insecure" in res.stderr
        assert rec.seen == []  # nothing was sent over an unverified connection
        code, data, err = probe_json(url, "--insecure", cwd=tmp_path)
    assert code == 0, err + json.dumps(data.get("findings"))
    assert any("--insecure" in n for n in data["notes"])
