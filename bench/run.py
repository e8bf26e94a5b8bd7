"""The velro-policy benchmark: scenarios A-E of issue 8, side by side with baselines and peers.

    python bench/run.py            # full run (several minutes: the peers are slow at 10,000 files)
    python bench/run.py --quick    # smoke run: tiny corpora, one timed run, no peers
    python bench/run.py --only A,B --runs 5 --sizes 1000,10000

It generates a deterministic synthetic monorepo under ``bench/out/corpus``
(``bench/corpus.py``), installs the peers (dotenv-linter, detect-secrets)
into their own venv under ``bench/out/peers`` (never into the project's
environment), then times whole processes: each command once to warm the
caches (Python bytecode, the compiled policy pack, the page cache), then
``--runs`` times; the table shows median, min and max wall time, peak RSS
(``wait4``) and the ratios the targets are stated in.  Ratios are taken
against baselines measured in the same run, because absolute numbers drift
from machine to machine.  Results go to ``bench/out/results.json`` and
``bench/out/results.md``.

Run it with the Python of the environment velro-policy is installed in
(``/path/to/venv/bin/python bench/run.py``): that Python, its
``velro-policy``, ``semgrep`` and ``pre-commit`` are what is measured.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402

PEERS = {"dotenv-linter": "dotenv-linter==0.9.0", "detect-secrets": "detect-secrets==1.5.0"}
SLOW_SECONDS = 8.0  # a command slower than this gets no separate warm-up run and at most --slow-runs runs
ENV_FILES = r"(^|/)(\.env(\.[^/]+)?|[^/]+\.env)$"

SCENARIOS = ("A", "B", "B2", "C", "D", "E", "F")
TARGETS = {
    "A.stack": ("A: lint one env file / stack floor (python -c 'import click, dotenv.parser')", 1.5),
    "A.dotenv-linter": ("A: lint one env file / dotenv-linter", 0.6),
    "A.detect-secrets": ("A: lint one env file / detect-secrets", 0.4),
    "B.files_per_s": ("B: env files per second at the largest size (one core)", 10_000),
    "B.baseline": ("B: lint / stdlib-only parse-and-check loop, largest size", 2.5),
    "B.rss_mb": ("B: peak memory at the largest size, MB", 100),
    "B.linear": ("B: time per file, largest size / 10x smaller size (1.0 = linear)", 1.2),
    "B.jobs_identical": ("B: --jobs output byte-identical to one process", True),
    "B2.files_per_s": ("B2: env files per second, 10,000 files where most break several rules (one core)", 2_000),
    "B2.rss_mb": ("B2: peak memory there, MB", 100),
    "B2.gc_trick": ("B2: lint in process with the GC on / with gc.disable() (the trick's gain; informative)", None),
    "C.ms_per_module": ("C: check --target settings, ms per settings module (whole process / modules)", 5),
    "D.semgrep": ("D: check --target code / bare semgrep, same rules and files", 1.10),
    "D.processes": ("D: Semgrep processes per check", 1),
    "D.taint_cost": ("D: Semgrep with / without its taint-mode rules (the taint rules' cost; informative)", None),
    "F.semgrep": ("F: check . on a 600-module app / bare semgrep with the same code rules", 1.15),
    "F.non_semgrep_share": ("F: non-Semgrep work (check --target env --target settings .) / bare semgrep", 0.25),
    "E.overhead_ms": ("E: pre-commit run, the velro-policy-env hook as users install it (language: python) minus a no-op hook, ms", 60),
    "E.plain_overhead_ms": ("E: the plain git pre-commit hook (velro-policy hooks install) minus an empty hook, ms", 60),
    "E.stages": ("E: the env hook's process by stage, instructions (stages total / the hook's own run; informative)", None),
    "E.instructions": ("E: instructions of the env hook's process / of `import click, dotenv` (valgrind; load-independent; informative)", None),
}


# ----------------------------------------------------------------- measuring


def run_once(cmd: list[str], cwd: Path, env: dict[str, str], stdout: Any = subprocess.DEVNULL) -> dict[str, Any]:
    """One whole process: wall seconds, peak RSS (KiB, children included), CPU seconds, exit code."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
    return {"wall": wall, "rss_kb": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
            "rc": proc.returncode, "stderr": tail[-1] if tail else ""}


def measure(name: str, cmd: list[str], cwd: Path, env: dict[str, str], runs: int, slow_runs: int,
            ok_codes: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    """Median/min/max of ``runs`` timed runs after one warm-up run."""
    return measure_group([("it", name, cmd, runs)], cwd, env, slow_runs, ok_codes)["it"]


def measure_group(specs: list[tuple[str, str, list[str], int]], cwd: Path, env: dict[str, str], slow_runs: int,
                  ok_codes: tuple[int, ...] = (0, 1)) -> dict[str, dict[str, Any]]:
    """Commands that are compared with each other, measured round-robin.

    ``specs``: (key, name, command, runs).  One warm-up run each, then the timed
    runs interleaved (A B C A B C ...), so a change of machine load during the
    measurement falls on every command alike instead of on whichever ran last.
    """
    samples: dict[str, list[dict[str, Any]]] = {}
    wanted: dict[str, int] = {}
    for key, name, cmd, runs in specs:
        print(f"  {name}: {shlex.join(cmd)[:140]}", flush=True)
        first = run_once(cmd, cwd, env)
        samples[key] = [first] if first["wall"] > SLOW_SECONDS else []
        wanted[key] = min(runs, slow_runs) if first["wall"] > SLOW_SECONDS else runs
    for _round in range(max(wanted.values(), default=0)):
        for key, _, cmd, _ in specs:
            if len(samples[key]) < wanted[key]:
                samples[key].append(run_once(cmd, cwd, env))
    return {key: summarize(name, cmd, samples[key], ok_codes) for key, name, cmd, _ in specs}


def summarize(name: str, cmd: list[str], samples: list[dict[str, Any]], ok_codes: tuple[int, ...]) -> dict[str, Any]:
    walls = [s["wall"] for s in samples]
    rcs = sorted({s["rc"] for s in samples})
    result = {
        "name": name, "cmd": shlex.join(cmd), "n": len(samples),
        "median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
        "cpu_median_s": statistics.median(s["cpu"] for s in samples),
        "rss_max_mb": max(s["rss_kb"] for s in samples) / 1024, "exit_codes": rcs,
    }
    bad = [rc for rc in rcs if rc not in ok_codes]
    if bad:
        result["error"] = f"exit {bad[0]}: {next(s['stderr'] for s in samples if s['rc'] == bad[0])}"
        print(f"    ! {result['error']}", flush=True)
    return result


def child_env(out: Path) -> dict[str, str]:
    """The environment of every measured process.

    Bytecode may be written (users' installs have .pyc files; PYTHONDONTWRITEBYTECODE
    would make every run recompile velro-policy), the compiled policy pack lives in a
    cache of its own, no colour.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV")}
    env.update({"VELRO_POLICY_CACHE_DIR": str(out / "cache"), "NO_COLOR": "1", "PRE_COMMIT_HOME": str(out / "pre-commit-home"),
                "SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0", "PYTHONWARNINGS": "ignore"})
    return env


# -------------------------------------------------------------- environment


def machine() -> dict[str, Any]:
    def cpu_model() -> str:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or platform.machine()

    def mem_gb() -> float | None:
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
        except OSError:
            pass
        return None

    def git_head() -> str:
        try:
            out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False)
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True, check=False)
            return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
        except OSError:
            return "?"

    version = subprocess.run([sys.executable, "-c", "import velro_policy; print(velro_policy.__version__)"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu_model(), "memory_gb": mem_gb(), "python": platform.python_version(),
        "platform": platform.platform(), "velro_policy": version, "commit": git_head(),
        "load_avg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def install_peers(out: Path) -> dict[str, str]:
    """name -> executable, from a venv of their own under ``out`` (created once)."""
    venv = out / "peers"
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    found = {name: str(bin_dir / name) for name in PEERS if (bin_dir / name).exists()}
    if len(found) == len(PEERS):
        return found
    print("installing the peers into", venv, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS.values()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        print(f"  ! peers not installed: {exc} {detail.decode('utf-8', 'replace')[-300:]}", flush=True)
    return {name: str(bin_dir / name) for name in PEERS if (bin_dir / name).exists()}


def available_targets(env: dict[str, str]) -> set[str]:
    code = "from velro_policy.inputs import sources_for; print(' '.join(sorted({s.TARGET for s in sources_for(None).values()})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    return set(out.stdout.split())


def velro() -> list[str]:
    script = tool("velro-policy")
    return [script] if script else [sys.executable, "-m", "velro_policy"]


def ratio(a: dict[str, Any], b: dict[str, Any] | None, field: str = "median_s") -> float | None:
    if not b or a.get("error") or b.get("error") or not b[field]:
        return None
    return a[field] / b[field]


def cpu_note(a: dict[str, Any], b: dict[str, Any] | None) -> str:
    """The same ratio in CPU time (user+sys), which a loaded machine disturbs less than wall time."""
    r = ratio(a, b, "cpu_median_s")
    return "" if r is None else f"CPU-time ratio {r:.2f}"


# ---------------------------------------------------------------- scenarios


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.env = child_env(self.out)
        self.results: dict[str, Any] = {}
        self.checks: list[dict[str, Any]] = []
        self.peers: dict[str, str] = {} if args.no_peers else install_peers(self.out)
        self.targets = available_targets(self.env)

    def corpus(self, kind: str, count: int, git: bool = True) -> tuple[Path, list[str]]:
        root = self.out / "corpus" / f"{kind}-{count}"
        started = time.perf_counter()
        paths = corpus.generate(str(root), kind, count, self.args.seed, git=git)
        took = time.perf_counter() - started
        if took > 1:
            print(f"  corpus {root.name}: {len(paths)} files ({took:.1f} s)", flush=True)
        return root, paths

    def measure(self, name: str, cmd: list[str], cwd: Path, *, runs: int | None = None, ok: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
        return measure(name, cmd, cwd, self.env, runs or self.args.runs, self.args.slow_runs, ok)

    def target(self, key: str, value: Any, *, lower_is_better: bool = True, note: str = "") -> None:
        what, limit = TARGETS[key]
        if value is None:
            verdict = "n/a"
        elif limit is None:
            verdict = "informative"
        elif isinstance(limit, bool):
            verdict = "met" if value == limit else "MISSED"
        elif lower_is_better:
            verdict = "met" if value <= limit else f"MISSED by {value / limit:.2f}x"
        else:
            verdict = "met" if value >= limit else f"MISSED by {limit / value:.2f}x"
        self.checks.append({"key": key, "what": what, "limit": limit, "value": value, "verdict": verdict, "note": note})

    # A ------------------------------------------------------------------
    def scenario_a(self) -> None:
        root, paths = self.corpus("env", 1)  # a git work tree, the env file ignored (as in a real repository)
        target = os.path.relpath(paths[0], root)
        runs = self.args.runs_fast
        specs = [
            ("interpreter floor", "python -c pass", [sys.executable, "-c", "pass"], runs),
            ("stack floor", "python -c 'import click, dotenv.parser'", [sys.executable, "-c", "import click, dotenv.parser"], runs),
            ("velro-policy lint", "velro-policy lint FILE", [*velro(), "lint", target], runs),
            # The same without the compiled pack cache: what the cache saves on every commit.
            ("velro-policy lint --no-cache", "velro-policy lint --no-cache FILE", [*velro(), "lint", "--no-cache", target], max(1, runs // 3)),
        ]
        for name in ("dotenv-linter", "detect-secrets"):
            if name in self.peers:
                cmd = [self.peers[name], target] if name == "dotenv-linter" else [self.peers[name], "scan", target]
                specs.append((name, f"{name} FILE", cmd, runs))
        m = measure_group(specs, root, self.env, self.args.slow_runs)
        lint = m["velro-policy lint"]
        self.results["A"] = {"file": target, "measurements": m, "importtime_ms": self.importtime(root, target)}
        self.target("A.stack", ratio(lint, m["stack floor"]), note=cpu_note(lint, m["stack floor"]))
        self.target("A.dotenv-linter", ratio(lint, m.get("dotenv-linter")), note=cpu_note(lint, m.get("dotenv-linter")) if "dotenv-linter" in m else "peer not measured")
        self.target("A.detect-secrets", ratio(lint, m.get("detect-secrets")), note=cpu_note(lint, m.get("detect-secrets")) if "detect-secrets" in m else "peer not measured")

    def importtime(self, cwd: Path, target: str) -> dict[str, float]:
        """Cumulative import time (ms) of the top-level modules ``lint FILE`` imports."""
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "velro_policy", "lint", target], cwd=cwd, env=self.env,
                              capture_output=True, text=True, check=False)
        top: dict[str, float] = {}
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, cumulative, name = line.split("|", 2)
            if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
                top[name.strip()] = round(int(cumulative) / 1000, 2)
        return dict(sorted(top.items(), key=lambda kv: -kv[1])[:12])

    # B ------------------------------------------------------------------
    def scenario_b(self) -> None:
        sizes = self.args.sizes
        rows: dict[str, Any] = {}
        for size in sizes:
            root, paths = self.corpus("env", size)
            rels = [os.path.relpath(p, root) for p in paths]
            specs = [
                ("velro-policy lint", f"velro-policy lint DIR ({size} files)", [*velro(), "lint", "."], self.args.runs),
                ("stdlib loop", f"stdlib parse-and-check loop ({size} files)", [sys.executable, str(HERE / "baseline_stdlib.py"), "."], self.args.runs),
            ]
            if "dotenv-linter" in self.peers:
                specs.append(("dotenv-linter", f"dotenv-linter FILES ({size})", [self.peers["dotenv-linter"], *rels], self.args.runs))
            if "detect-secrets" in self.peers:
                specs.append(("detect-secrets", f"detect-secrets scan --all-files DIR ({size})", [self.peers["detect-secrets"], "scan", "--all-files", "."], self.args.runs))
            m = measure_group(specs, root, self.env, self.args.slow_runs)
            for item in m.values():
                item["files_per_s"] = size / item["median_s"] if item["median_s"] else None
            jobs = self.jobs_check(root, m["velro-policy lint"]) if self.lint_has_jobs() else None
            if jobs:
                m["velro-policy lint --jobs 2"] = jobs["measurement"]
            rows[str(size)] = {"measurements": m, "jobs": jobs and {k: v for k, v in jobs.items() if k != "measurement"}}
        self.results["B"] = rows
        big, small = str(max(sizes)), str(min(sizes))
        lint = rows[big]["measurements"]["velro-policy lint"]
        self.target("B.files_per_s", None if lint.get("error") else lint["files_per_s"], lower_is_better=False,
                    note=f"{int(big) / lint['cpu_median_s']:,.0f} files per CPU-second" if lint.get("cpu_median_s") else "")
        self.target("B.baseline", ratio(lint, rows[big]["measurements"]["stdlib loop"]), note=cpu_note(lint, rows[big]["measurements"]["stdlib loop"]))
        self.target("B.rss_mb", None if lint.get("error") else lint["rss_max_mb"])
        if big != small:
            small_lint = rows[small]["measurements"]["velro-policy lint"]
            one = self.results.get("A", {}).get("measurements", {}).get("velro-policy lint", {}).get("median_s", 0.0)
            per_big = (lint["median_s"] - one) / (int(big) - 1)
            per_small = (small_lint["median_s"] - one) / max(1, int(small) - 1)
            self.target("B.linear", per_big / per_small if per_small > 0 else None,
                        note="start-up (scenario A) subtracted" if one else "start-up not subtracted (run A too)")
        jobs = rows[big]["jobs"]
        self.target("B.jobs_identical", None if jobs is None else jobs["identical"], note="" if jobs else "lint has no --jobs")

    def scenario_b2(self) -> None:
        """Like B at the largest size, but 90% of the files break rules (issue 13's B2)."""
        size = max(self.args.sizes)
        root, _ = self.corpus("env-bad", size)
        trick = [sys.executable, str(HERE / "trick_gc.py")]
        m = measure_group([("velro-policy lint", f"velro-policy lint DIR, most files failing ({size} files)",
                            [*velro(), "lint", "."], self.args.runs),
                           ("gc off", "the same run in process, gc.disable() around it (as shipped)", trick, self.args.runs),
                           ("gc on", "the same run in process, the cyclic GC left on", [*trick, "--gc-on"], self.args.runs)],
                          root, self.env, max(3, self.args.slow_runs))
        self.target("B2.gc_trick", ratio(m["gc on"], m["gc off"]),
                    note="what gc.disable() buys on B2: time with the GC on / with it off (kept if > 1.1)")
        lint = m["velro-policy lint"]
        lint["files_per_s"] = size / lint["median_s"] if lint.get("median_s") else None
        out = subprocess.run([*velro(), "lint", "."], cwd=root, env=self.env, capture_output=True, check=False)
        self.results["B2"] = {"measurements": m, "findings_lines": out.stdout.count(b"\n"), "output_bytes": len(out.stdout)}
        self.target("B2.files_per_s", None if lint.get("error") else lint["files_per_s"], lower_is_better=False,
                    note=f"{len(out.stdout) / 1e6:.1f} MB of text output")
        self.target("B2.rss_mb", None if lint.get("error") else lint["rss_max_mb"])

    def lint_has_jobs(self) -> bool:
        out = subprocess.run([*velro(), "lint", "--help"], capture_output=True, text=True, env=self.env, check=False)
        return "--jobs" in out.stdout

    def jobs_check(self, root: Path, single: dict[str, Any]) -> dict[str, Any]:
        outputs = []
        for jobs in ("1", "2"):
            with open(self.out / f"jobs-{jobs}.txt", "wb") as fh:
                run_once([*velro(), "lint", "--jobs", jobs, "."], root, self.env, stdout=fh)
            outputs.append((self.out / f"jobs-{jobs}.txt").read_bytes())
        m = self.measure("velro-policy lint --jobs 2 DIR", [*velro(), "lint", "--jobs", "2", "."], root)
        return {"identical": outputs[0] == outputs[1], "bytes": len(outputs[0]), "measurement": m}

    # C ------------------------------------------------------------------
    def scenario_c(self) -> None:
        if "settings" not in self.targets:
            self.results["C"] = {"skipped": "target not available (no settings source in velro_policy.inputs)"}
            print("  C skipped: target not available", flush=True)
            return
        size = self.args.settings
        root, _ = self.corpus("settings", size)
        m = self.measure(f"velro-policy check --target settings DIR ({size} modules)", [*velro(), "check", "--target", "settings", "."], root)
        m["files_per_s"] = size / m["median_s"] if m["median_s"] else None
        self.results["C"] = {"measurements": {"velro-policy check --target settings": m},
                             "ms_per_module": m["median_s"] * 1000 / size if m["median_s"] else None}
        self.target("C.ms_per_module", self.results["C"]["ms_per_module"], note=f"CPU {m['cpu_median_s'] * 1000 / size:.1f} ms a module")

    # D ------------------------------------------------------------------
    def scenario_d(self) -> None:
        semgrep = tool("semgrep")
        if "code" not in self.targets or not semgrep:
            self.results["D"] = {"skipped": "target not available" + ("" if semgrep else " (no semgrep)")}
            print("  D skipped: target not available", flush=True)
            return
        # The rules exactly as velro-policy hands them to Semgrep (YAML, one JSON-flow rule a line).
        rules_file = self.out / "semgrep-rules.yaml"
        all_rules = self.semgrep_rules()["rules"]
        rules_file.write_text("rules:\n" + "".join(f"- {json.dumps(r, ensure_ascii=False)}\n" for r in all_rules), encoding="utf-8")
        # The taint rules' cost (issue 15): the same scan without the rules in taint mode.
        plain_file = self.out / "semgrep-rules-no-taint.yaml"
        plain = [r for r in all_rules if r.get("mode") != "taint"]
        plain_file.write_text("rules:\n" + "".join(f"- {json.dumps(r, ensure_ascii=False)}\n" for r in plain), encoding="utf-8")
        rows = {}
        worst = None
        processes = None
        for size in self.args.code_sizes:
            root, paths = self.corpus("code", size)
            rels = [os.path.relpath(p, root) for p in paths]
            bare = [semgrep, "scan", "--config", str(rules_file), "--json", "--metrics=off", "--disable-version-check",
                    "--no-git-ignore", "--max-target-bytes", "0", "--", *rels]
            # Both take seconds and the difference is small: at least 3 runs each, however slow.
            runs = max(3, self.args.runs if size <= 100 else self.args.slow_runs)
            specs = [
                ("velro-policy check --target code", f"velro-policy check --target code DIR ({size} files)", [*velro(), "check", "--target", "code", "."], runs),
                ("semgrep scan", f"semgrep scan --config RULES FILES ({size} files)", bare, runs),
            ]
            taint = len(all_rules) - len(plain)
            if size == max(self.args.code_sizes) and taint:
                specs.append(("no taint", f"semgrep scan without the {taint} taint rules ({size} files)",
                              [semgrep, "scan", "--config", str(plain_file), *bare[4:]], runs))
            m = measure_group(specs, root, self.env, runs)
            if "no taint" in m:
                self.target("D.taint_cost", ratio(m["semgrep scan"], m["no taint"]),
                            note=f"{taint} of {len(all_rules)} Semgrep rules are in taint mode; whole scan / scan without them")
            r = ratio(m["velro-policy check --target code"], m["semgrep scan"])
            worst = r if worst is None or (r is not None and r > worst) else worst
            processes = self.count_semgrep(root, semgrep)
            rows[str(size)] = {"measurements": m, "ratio": r, "semgrep_processes": processes}
        self.results["D"] = rows
        self.target("D.semgrep", worst, note="worst of the sizes; " + "; ".join(
            f"{size}: {cpu_note(r['measurements']['velro-policy check --target code'], r['measurements']['semgrep scan'])}" for size, r in rows.items()))
        self.target("D.processes", processes)

    def semgrep_rules(self) -> dict[str, Any]:
        """The Semgrep config velro-policy builds from the code rules in force."""
        code = ("import json; from velro_policy.policy import config, pack; from velro_policy.inputs.code import build_config\n"
                "p = pack.load(config.find('.'), [])\n"
                "rules, _ = build_config([r for r in p.rules if r.target == 'code'])\n"
                "print(json.dumps({'rules': rules}))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=self.env, cwd=self.out, check=True)
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def count_semgrep(self, root: Path, semgrep: str) -> int:
        """Semgrep processes one ``check --target code`` starts (a logging shim, one untimed run)."""
        log = self.out / "semgrep-calls.log"
        log.write_text("")
        shim = self.out / "semgrep-shim"
        shim.write_text(f"#!/bin/sh\necho \"$$\" >> {shlex.quote(str(log))}\nexec {shlex.quote(semgrep)} \"$@\"\n")
        shim.chmod(0o755)
        env = {**self.env, "VELRO_POLICY_SEMGREP": str(shim)}
        run_once([*velro(), "check", "--target", "code", "."], root, env)
        return len(log.read_text().split())

    # F ------------------------------------------------------------------
    def scenario_f(self) -> None:
        """``check .`` on a generated application (issue 20): total against bare Semgrep with
        the same code rules on the same Python files, and the non-Semgrep targets' share."""
        semgrep = tool("semgrep")
        if not semgrep:
            self.results["F"] = {"skipped": "no semgrep"}
            return
        root, paths = self.corpus("app", 620)
        rules_file = self.out / "semgrep-rules-f.yaml"
        rules_file.write_text("rules:\n" + "".join(f"- {json.dumps(r, ensure_ascii=False)}\n" for r in self.semgrep_rules()["rules"]),
                              encoding="utf-8")
        py = [os.path.relpath(p, root) for p in paths if p.endswith(".py") and "/tests/" not in p and not os.path.basename(p).startswith("test_")]
        bare = [semgrep, "scan", "--config", str(rules_file), "--json", "--metrics=off", "--disable-version-check",
                "--no-git-ignore", "--max-target-bytes", "0", "--", *py]
        runs = max(3, self.args.slow_runs)
        m = measure_group([
            ("velro-policy check .", "velro-policy check . (620 files: 600 modules, 20 env files)", [*velro(), "check", "."], runs),
            ("velro-policy env+settings", "velro-policy check --target env --target settings .", [*velro(), "check", "--target", "env", "--target", "settings", "."], runs),
            ("semgrep scan", f"semgrep scan --config RULES FILES ({len(py)} files)", bare, runs),
        ], root, self.env, runs)
        self.results["F"] = {"measurements": m}
        self.target("F.semgrep", ratio(m["velro-policy check ."], m["semgrep scan"]),
                    note=cpu_note(m["velro-policy check ."], m["semgrep scan"]))
        self.target("F.non_semgrep_share", ratio(m["velro-policy env+settings"], m["semgrep scan"]))
        self.real_repositories(runs)

    def real_repositories(self, runs: int) -> None:
        """F on real backends fetched beside the project (--real DIR, repeatable): total, the code
        target alone (Semgrep's share) and env+settings (the rest), never committed, only figures."""
        for folder in self.args.real:
            root = Path(folder)
            if not root.is_dir():
                continue
            m = measure_group([
                ("check .", f"velro-policy check . ({root.name})", [*velro(), "check", "."], runs),
                ("code", f"velro-policy check --target code . ({root.name})", [*velro(), "check", "--target", "code", "."], runs),
                ("env+settings", f"velro-policy check --target env --target settings . ({root.name})",
                 [*velro(), "check", "--target", "env", "--target", "settings", "."], runs),
            ], root, self.env, runs)
            total = m["check ."]["median_s"]
            self.results[f"F ({root.name})"] = {
                "measurements": m,
                "code_share": m["code"]["median_s"] / total if total else None,
                "env_settings_share": m["env+settings"]["median_s"] / total if total else None,
            }

    # E ------------------------------------------------------------------
    def scenario_e(self) -> None:
        pre_commit = tool("pre-commit")
        if not pre_commit:
            self.results["E"] = {"skipped": "pre-commit not installed"}
            return
        root = self.out / "corpus" / "hook-repo"
        self.hook_repo(root)
        env = {**self.env, "PRE_COMMIT_HOME": str(self.out / "pre-commit-home")}
        # The hook as users install it: this checkout's committed .pre-commit-hooks.yaml at HEAD,
        # its environment built by pre-commit (untimed, once).
        # --quick (the test suite's smoke run) skips that build: the system-language hook stands in.
        installed = "noop.yaml" if self.args.quick else "installed.yaml"
        if not self.args.quick:
            subprocess.run([pre_commit, "install-hooks", "--config", installed], cwd=root, env=env, check=True,
                           capture_output=True, timeout=900)
        files = ["--files", ".env.production"]
        m = measure_group([
            ("no-op hook", "pre-commit run --files (no-op hook, language: system)", [pre_commit, "run", "--config", "noop.yaml", *files], self.args.runs_fast),
            ("velro-policy hook", "pre-commit run --files (velro-policy-env as installed, language: python)"
             + (" [--quick: not built, the system hook below stands in]" if self.args.quick else ""),
             [pre_commit, "run", "--config", "velro.yaml" if self.args.quick else installed, *files], self.args.runs_fast),
            ("velro-policy system hook", "pre-commit run --files (velro-policy lint, language: system)",
             [pre_commit, "run", "--config", "velro.yaml", *files], self.args.runs_fast),
            ("empty git hook", "the empty git hook (sh)", ["sh", "empty-hook"], self.args.runs_fast),
            ("plain git hook", "the plain git pre-commit hook (velro-policy hooks install; sh)", ["sh", ".git/hooks/pre-commit"], self.args.runs_fast),
        ], root, env, self.args.slow_runs)
        over = plain = None
        if not any(x.get("error") for x in m.values()):
            over = (m["velro-policy hook"]["median_s"] - m["no-op hook"]["median_s"]) * 1000
            plain = (m["plain git hook"]["median_s"] - m["empty git hook"]["median_s"]) * 1000
        self.results["E"] = {"measurements": m, "overhead_ms": over, "plain_overhead_ms": plain}
        self.target("E.overhead_ms", over)
        self.target("E.plain_overhead_ms", plain)
        counts = self.hook_instructions(root, env)
        if counts:
            self.results["E"]["instructions"] = counts
            self.target("E.instructions", counts["hook"] / counts["click+dotenv"],
                        note=", ".join(f"{name} {n / 1e6:.0f} M" for name, n in counts.items() if not name.startswith("stage")))
            if all(f"stage {n}" in counts for n in range(4)):
                parts = {"interpreter": counts["python -c pass"], "imports": counts["stage 0"] - counts["python -c pass"],
                         "pack": counts["stage 1"] - counts["stage 0"], "collect": counts["stage 2"] - counts["stage 1"],
                         "report": counts["stage 3"] - counts["stage 2"]}
                self.results["E"]["instruction_stages"] = parts
                self.target("E.stages", counts["stage 3"] / counts["hook"],
                            note="the hook's process by stage (bench/hook_stages.py), of its instructions: "
                            + ", ".join(f"{name} {n / 1e6:.0f} M ({n / counts['hook']:.0%})" for name, n in parts.items()))

    def hook_instructions(self, root: Path, env: dict[str, str]) -> dict[str, int] | None:
        """Instructions executed (valgrind callgrind, children not followed) by the env hook's own
        process, by `python -c pass` and by the click+dotenv import floor: unlike times, these do
        not move with the load of a shared machine.  None without valgrind."""
        valgrind = shutil.which("valgrind")
        if not valgrind or self.args.quick:
            return None
        py = [sys.executable, "-I"]
        stages = str(REPO / "bench" / "hook_stages.py")
        commands = {"python -c pass": [*py, "-c", "pass"], "click+dotenv": [*py, "-c", "import click, dotenv"],
                    "hook": [*py, "-m", "velro_policy", "lint", "--target", "env", ".env.production"],
                    # the profile of the hook's process by stage (bench/hook_stages.py)
                    **{f"stage {n}": [*py, stages, str(n), ".env.production"] for n in range(4)}}
        out: dict[str, int] = {}
        for name, cmd in commands.items():
            run = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd], cwd=root, env=env,
                                 capture_output=True, text=True, check=False, timeout=600)
            found = re.search(r"Collected : (\d+)", run.stderr)
            if not found:
                return None
            out[name] = int(found.group(1))
        return out

    def hook_repo(self, root: Path) -> None:
        """A git repo with two pre-commit configs (committed) and one staged env file."""
        entry = "velro-policy lint"
        try:
            import yaml  # type: ignore[import-untyped]

            hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
            entry = next(h["entry"] for h in hooks if h["id"] == "velro-policy-env")
        except Exception:  # noqa: BLE001 - fall back to the plain command
            pass
        # the manifest's entry is `python -I -m velro_policy lint ...`: keep what follows the program
        args = entry.split()
        start = next((i for i, a in enumerate(args) if a in ("velro_policy", "velro-policy")), -1) + 1
        command = shlex.join([*velro(), *args[start:]])
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        env = {**self.env, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.invalid",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.invalid"}
        git = ["git", "-c", "core.hooksPath=/dev/null"]
        subprocess.run([*git, "init", "-q"], cwd=root, env=env, check=True)

        def config(hook_id: str, hook_entry: str) -> str:
            return ("repos:\n- repo: local\n  hooks:\n"
                    f"  - id: {hook_id}\n    name: {hook_id}\n    entry: {json.dumps(hook_entry)}\n"
                    f"    language: system\n    files: '{ENV_FILES}'\n")

        (root / "noop.yaml").write_text(config("noop", "true"))
        (root / "velro.yaml").write_text(config("velro-policy-env", command))
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        (root / "installed.yaml").write_text(f"repos:\n- repo: {REPO}\n  rev: {head}\n  hooks:\n  - id: velro-policy-env\n")
        (root / "empty-hook").write_text("#!/bin/sh\nexit 0\n")
        (root / "README.md").write_text("hook benchmark\n")
        subprocess.run([*git, "add", "-A"], cwd=root, env=env, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=root, env=env, check=True)
        _, data = corpus.env_file(self.args.seed, 0)
        (root / ".env.production").write_bytes(data)
        subprocess.run([*git, "add", "-f", ".env.production"], cwd=root, env=env, check=True)
        subprocess.run([*velro(), "hooks", "install"], cwd=root, env=env, check=True, capture_output=True)

    # report -------------------------------------------------------------
    def table(self) -> str:
        lines = ["| scenario | command | runs | median ms | min ms | max ms | CPU ms | peak MB | files/s | note |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]

        def row(scenario: str, m: dict[str, Any]) -> None:
            fps = m.get("files_per_s")
            lines.append(
                f"| {scenario} | {m['name']} | {m['n']} | {m['median_s'] * 1000:.0f} | {m['min_s'] * 1000:.0f} | {m['max_s'] * 1000:.0f} "
                f"| {m['cpu_median_s'] * 1000:.0f} | {m['rss_max_mb']:.0f} | {f'{fps:,.0f}' if fps else ''} | {m.get('error', '')} |")

        for scenario in [*SCENARIOS, *(k for k in self.results if k.startswith("F ("))]:
            data = self.results.get(scenario)
            if data is None:
                continue
            if "skipped" in data:
                lines.append(f"| {scenario} | skipped: {data['skipped']} | | | | | | | | |")
                continue
            if "measurements" in data:
                for m in data["measurements"].values():
                    row(scenario, m)
            else:
                for size, sub in data.items():
                    for m in sub["measurements"].values():
                        row(f"{scenario} ({size})", m)
        lines += ["", "| target | limit | measured | verdict | note |", "|---|---:|---:|---|---|"]
        for c in self.checks:
            value = c["value"]
            shown = "-" if value is None else (f"{value:,.2f}" if isinstance(value, float) else str(value))
            lines.append(f"| {c['what']} | {c['limit']} | {shown} | {c['verdict']} | {c['note']} |")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark velro-policy (issue 8 scenarios A-E).")
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny corpora, one run each, no peers")
    ap.add_argument("--only", default="A,B,B2,C,D,E,F", help="scenarios to run, e.g. A,B")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    ap.add_argument("--runs-fast", type=int, default=15, help="timed runs for the start-up scenarios A and E (default 15)")
    ap.add_argument("--slow-runs", type=int, default=1, help=f"timed runs of a command slower than {SLOW_SECONDS:.0f} s (default 1)")
    ap.add_argument("--sizes", default="1000,10000", help="env-file counts for B (default 1000,10000)")
    ap.add_argument("--settings", type=int, default=1000, help="settings modules for C (default 1000)")
    ap.add_argument("--code-sizes", default="100,1000", help="source files for D (default 100,1000)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (same seed, same bytes)")
    ap.add_argument("--no-peers", action="store_true", help="do not install or measure dotenv-linter and detect-secrets")
    ap.add_argument("--out", default=str(HERE / "out"), help="work and result directory (default bench/out)")
    ap.add_argument("--real", action="append", default=[], metavar="DIR",
                    help="F also on this real repository checked out locally (repeatable; figures only, never its code)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.runs_fast, args.slow_runs, args.no_peers = 1, 1, 1, True
        args.sizes, args.settings, args.code_sizes = "10,100", 10, "5"
    args.sizes = sorted(int(s) for s in str(args.sizes).split(","))
    args.code_sizes = sorted(int(s) for s in str(args.code_sizes).split(","))
    wanted = {s.strip().upper() for s in args.only.split(",")}

    bench = Bench(args)
    info = machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gb']} GB, Python {info['python']}, "
          f"velro-policy {info['velro_policy']} ({info['commit']}), load {info['load_avg']}", flush=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for scenario in SCENARIOS:
        if scenario in wanted:
            print(f"scenario {scenario}", flush=True)
            getattr(bench, f"scenario_{scenario.lower()}")()
    table = bench.table()
    print()
    print(table)
    report = {"started": started, "machine": info, "quick": args.quick, "seed": args.seed,
              "results": bench.results, "targets": bench.checks}
    (bench.out / "results.json").write_text(json.dumps(report, indent=2, default=str))
    (bench.out / "results.md").write_text(
        f"Run {started}: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gb']} GB RAM, Python {info['python']}, "
        f"{info['platform']}, velro-policy {info['velro_policy']} ({info['commit']}), load average at start {info['load_avg']}\n\n"
        + table + "\n")
    print(f"\nwritten: {bench.out / 'results.json'}, {bench.out / 'results.md'}")
    errors = [m for data in bench.results.values() if isinstance(data, dict) for m in _all_measurements(data) if m.get("error")]
    return 1 if errors and any(m["name"].startswith("velro-policy") for m in errors) else 0


def _all_measurements(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "measurements" in data:
        return list(data["measurements"].values())
    return [m for sub in data.values() if isinstance(sub, dict) and "measurements" in sub for m in sub["measurements"].values()]


if __name__ == "__main__":
    raise SystemExit(main())
