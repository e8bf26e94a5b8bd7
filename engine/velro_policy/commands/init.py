"""``velro-policy init``: adopt velro-policy in a repository in one command.

Writes three things into DIRECTORY (default: .):

- ``velro-policy.yaml``: a commented config whose every key is optional and
  valid against ``config.schema.json`` (a test parses it);
- ``.pre-commit-config.yaml``: the velro-policy hooks, in a new file or
  merged into an existing one through a ruamel.yaml round trip, so its
  comments, key order and indentation stay as they were;
- ``.github/workflows/velro-policy.yml``: the pull-request gate (text log,
  annotations, SARIF uploaded to code scanning).

It never overwrites: when ``velro-policy.yaml`` or the workflow exists, or
the pre-commit config already lists the velro-policy repository, nothing
is written unless ``--force`` is given (then those are replaced / updated).
The check happens before any write, so a refusal leaves the tree untouched.
"""
from __future__ import annotations

import io
import os
import sys
from typing import IO, Any, NamedTuple

from velro_policy import __version__
from velro_policy.errors import InputError

REPO_URL = "https://github.com/velro/velro-policy"
HOOK_IDS = ("velro-policy", "velro-policy-env", "velro-policy-settings", "velro-policy-code")
CONFIG_NAME = "velro-policy.yaml"
PRE_COMMIT_NAME = ".pre-commit-config.yaml"
WORKFLOW_NAME = os.path.join(".github", "workflows", "velro-policy.yml")

CONFIG_TEXT = """\
# velro-policy.yaml: project config for velro-policy (written by `velro-policy init`).
# Every key is optional. Schema: config.schema.json in the velro-policy package.
# See the rules in force: velro-policy policies list; one rule: velro-policy explain RULE_ID.

# Lowest severity that fails a run: info, low, medium, high or critical.
fail_on: low

# Extra policy files or folders (relative to this file), checked with `velro-policy test`.
policies: []

# Rule ids never evaluated (globs allowed), e.g. [velro/project-template-unused-key].
disable: []

# Severity overrides by rule id, e.g. {velro/project-environment-parity: high}.
severity: {}

# Paths never scanned, on top of what .gitignore ignores.
exclude: []

# Your environment names, mapped to production, staging, development or test.
# environment_aliases: {live: production, preview: staging}

# Security keys that production and staging must both define (project rules).
# parity_keys: [DEBUG, "JWT_*", "*CORS*", ALLOWED_ORIGINS, "*RATE_LIMIT*"]

# What `velro-policy fix` may do beyond the policy's own values: the exact CORS
# origins that replace a wildcard. Without them fix leaves wildcards alone.
# fix:
#   allowed_origins:
#     production: ["https://app.example.com"]
#     staging: ["https://staging.example.com"]

# Accepted findings, each with a reason and an expiry date (an expired one is a finding).
# exceptions:
#   - rule: velro/cors-https-only
#     path: .env.staging
#     reason: the staging front-end moves to https next sprint
#     expires: 2026-12-31
"""

PRE_COMMIT_TEXT = """\
# .pre-commit-config.yaml (velro-policy hooks added by `velro-policy init`).
# Install once per clone: pre-commit install
repos:
"""

WORKFLOW_TEXT = """\
# The velro-policy gate on pull requests (written by `velro-policy init`).
# Findings go to the log, to annotations on the diff and, as SARIF, to code scanning.
name: velro-policy
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
  security-events: write   # upload SARIF
jobs:
  velro-policy:
    runs-on: ubuntu-latest
    steps:
      # Actions pinned to commit SHAs (a tag can be moved); the checkout keeps no token.
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with:
          fetch-depth: 0   # --changed-since needs the base branch's history
          persist-credentials: false
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b  # v5.3.0
        with:
          python-version: "3.11"
      - run: pip install "{pip_spec}"
      # Pull requests: the files the PR changes (project rules still read the rest
      # of the project); pushes to main: everything. The baseline and whether inline
      # ignores count come from the project config, as in local runs and hooks.
      # --locked-policy: the PR's own velro-policy.yaml cannot weaken the built-in rules.
      - name: velro-policy check
        env:   # context values reach the script as variables, never pasted into it
          EVENT_NAME: ${{{{ github.event_name }}}}
          BASE_REF: ${{{{ github.base_ref }}}}
        run: |
          scope=""
          if [ "$EVENT_NAME" = "pull_request" ]; then
            scope="--changed-since origin/$BASE_REF"
          fi
          velro-policy check --locked-policy $scope \\
            --format text --format github --format sarif=velro-policy.sarif
      - name: Upload SARIF
        # even when the gate fails, so the alerts show; not when the run stopped before writing it
        if: always() && hashFiles('velro-policy.sarif') != ''
        uses: github/codeql-action/upload-sarif@48ab28a6f5dbc2a99bf1e0131198dd8f1df78169  # v3.28.0
        with:
          sarif_file: velro-policy.sarif
          category: velro-policy
"""


# The default hooks: the fast ones on every commit; the Semgrep scan (seconds) before a push.
DEFAULT_HOOKS = ("velro-policy-env", "velro-policy-settings", "velro-policy-code")
PUSH_ONLY = {"velro-policy-code": ["pre-push"]}


class HookSource(NamedTuple):
    """Where the hooks and the CI install come from, and why (printed by init)."""

    repo: str  # the pre-commit `repo:`
    rev: str  # its `rev:`
    pip_spec: str  # what the workflow installs
    why: str


def hook_source(rev: str | None = None, repo: str | None = None) -> HookSource:
    """Resolve from how this velro-policy is installed: a git checkout (its remote URL, else its
    path, at its commit) or a release (the project's repository at the version's tag).
    ``--rev`` / ``--repo`` override; the result is what `pre-commit` and pip can fetch today."""
    checkout = _checkout_of_this_package()
    if checkout is not None:
        top, sha, url, dirty = checkout
        the_repo = repo or url or top
        the_rev = rev or sha
        why = f"hooks from {'the repository you named' if repo else (url and 'the checkout remote ' + url) or 'the local checkout ' + top} " \
              f"at {'--rev ' + the_rev if rev else 'its commit ' + sha[:12]} (velro-policy runs from that checkout)"
        if dirty and not rev:
            why += "; it has uncommitted changes, which the hooks do not include"
        if not (repo or url):
            why += "; a local path works on this machine only: pass --repo URL for your team"
    else:
        the_repo, the_rev = repo or REPO_URL, rev or f"v{__version__}"
        why = f"hooks from {the_repo} at {the_rev} ({'as given' if rev else 'the tag of the installed release ' + __version__})"
    if the_repo.startswith("https://") and (rev or checkout is not None):
        pip_spec = f"velro-policy[code] @ git+{the_repo}@{the_rev}"
    else:
        pip_spec = f"velro-policy[code]=={__version__}"
        if checkout is not None:
            why += f"; the workflow installs {pip_spec}, which your package index must have (or pass --repo https://...)"
    return HookSource(the_repo, the_rev, pip_spec, why)


def _checkout_of_this_package() -> tuple[str, str, str, bool] | None:
    """(top, commit, remote URL or "", has uncommitted changes) when this package runs from a git
    checkout of velro-policy (an editable install), else None."""
    import subprocess

    import velro_policy

    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(velro_policy.__file__))))
    if not (os.path.isfile(os.path.join(top, ".pre-commit-hooks.yaml")) and os.path.exists(os.path.join(top, ".git"))):
        return None

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", top, *args], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    sha = git("rev-parse", "HEAD")
    if not sha:
        return None
    return top, sha, git("remote", "get-url", "origin"), bool(git("status", "--porcelain", "--untracked-files=no"))


def _entry(hooks: list[str], source: HookSource) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    seq = CommentedSeq()
    for h in hooks:
        hook = CommentedMap([("id", h)])
        if h in PUSH_ONLY and len(hooks) > 1:
            hook["stages"] = PUSH_ONLY[h]
        seq.append(hook)
    entry = CommentedMap([("repo", source.repo), ("rev", source.rev), ("hooks", seq)])
    entry.yaml_add_eol_comment("security config policies (velro-policy init)", "repo")
    return entry


def _ours(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    repo = str(item.get("repo", "")).rstrip("/").removesuffix(".git").lower()
    hooks = item.get("hooks") or []
    return repo.endswith("/velro-policy") or any(isinstance(h, dict) and str(h.get("id", "")) in HOOK_IDS for h in hooks)


def merge_pre_commit(text: str | None, hooks: list[str], *, force: bool, display: str,
                     source: HookSource | None = None) -> tuple[str | None, str]:
    """(new text or None when unchanged, what happened)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    if text is None or not text.strip():
        text = PRE_COMMIT_TEXT
    try:
        data, indent, block_seq_indent = load_yaml_guess_indent(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"is not valid YAML ({getattr(exc, 'problem', None) or 'parse error'}); fix it or move it away first",
                         path=display, line=(mark.line + 1) if mark else 1) from None
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise InputError("must be a mapping with a `repos:` list (pre-commit's format)", path=display, line=1)
    repos = data.get("repos")
    if repos is None:
        repos = CommentedSeq()
        data["repos"] = repos
    if not isinstance(repos, list):
        raise InputError("`repos` must be a list (pre-commit's format)", path=display, line=data.lc.key("repos")[0] + 1)  # type: ignore[attr-defined]  # ruamel CommentedMap, typed as dict here
    source = source or hook_source()
    found = [i for i, item in enumerate(repos) if _ours(item)]
    if found and not force:
        return None, f"{display}: velro-policy hooks already configured (left as is; --force updates rev and hooks)"
    if found:
        existing = repos[found[0]]
        existing["repo"] = source.repo
        existing["rev"] = source.rev
        existing["hooks"] = _entry(hooks, source)["hooks"]
        what = f"{display}: velro-policy hooks updated (rev {source.rev}, hooks {', '.join(hooks)})"
    else:
        repos.append(_entry(hooks, source))
        what = f"{display}: added the velro-policy hooks ({', '.join(hooks)})"
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    # the file's own indentation, as guessed (pre-commit's sample style is `-   id:`)
    seq_indent = indent or 4
    offset = block_seq_indent if block_seq_indent is not None else 2
    yaml.indent(mapping=max(seq_indent - offset, 2), sequence=seq_indent, offset=offset)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), what


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc.__class__.__name__}); check the file", path=path) from None


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def init(directory: str = ".", *, force: bool = False, hooks: list[str] | None = None, pre_commit: bool = True,
         workflow: bool = True, out: IO[str] | None = None, rev: str | None = None, repo: str | None = None) -> int:
    out = out or sys.stdout
    hooks = list(hooks or DEFAULT_HOOKS)
    unknown = [h for h in hooks if h not in HOOK_IDS]
    if unknown:
        raise InputError(f"unknown hook {unknown[0]!r}; choose from {', '.join(HOOK_IDS)}")
    if not os.path.isdir(directory):
        raise InputError("is not a directory; create it or pick the repository root", path=directory)
    config_path = os.path.join(directory, CONFIG_NAME)
    workflow_path = os.path.join(directory, WORKFLOW_NAME)
    pre_commit_path = os.path.join(directory, PRE_COMMIT_NAME)

    source = hook_source(rev, repo)
    plans: list[tuple[str, str, str]] = []  # (path, text, what)
    existing = [p for p, wanted in ((config_path, True), (workflow_path, workflow)) if wanted and os.path.lexists(p)]
    if existing and not force:
        names = " and ".join(os.path.relpath(p) for p in existing)
        raise InputError(f"{names} already exist{'s' if len(existing) == 1 else ''}; nothing was written (rerun with --force to overwrite)")
    plans.append((config_path, CONFIG_TEXT, f"{os.path.relpath(config_path)}: written"))
    if workflow:
        plans.append((workflow_path, WORKFLOW_TEXT.format(pip_spec=source.pip_spec),
                      f"{os.path.relpath(workflow_path)}: written (pull-request gate; installs {source.pip_spec})"))
    notes: list[str] = []
    if pre_commit:
        display = os.path.relpath(pre_commit_path)
        new, what = merge_pre_commit(_read(pre_commit_path), hooks, force=force, display=display, source=source)
        if new is None:
            notes.append(what)
        else:
            plans.append((pre_commit_path, new, what))
    for path, text, what in plans:
        _write(path, text)
        out.write(what + "\n")
    for n in notes:
        out.write(n + "\n")
    out.write(source.why + "\n")
    if pre_commit:
        push = any(h in PUSH_ONLY for h in hooks) and len(hooks) > 1
        out.write("next: pre-commit install" + (" --hook-type pre-commit --hook-type pre-push" if push else "")
                  + "   (then every commit runs the env and settings hooks" + (", every push the code scan)" if push else ")") + "\n")
    return 0
