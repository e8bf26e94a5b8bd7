"""Deployment files and the env variables they consume themselves.

A compose file (``${POSTGRES_PASSWORD}``), an env file's interpolation, a deploy script
(``$ECR_REPO``), a Caddyfile (``{$API_DOMAIN}``) or a CI workflow (``env.X``) reads a variable
without the app: such a variable is not "set but never read" (``velro/project-unread-variable``).
The application model's project walk and the partial runs' context loader both find these files
with ``is_deploy_file`` and read them with ``references``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

from velro_policy.inputs._files import read_capped

_DEPLOY_NAMES = ("Dockerfile", "Makefile", "Procfile", "Caddyfile", "railway.toml", "railway.json", "nixpacks.toml", "fly.toml",
                 "render.yaml", ".gitlab-ci.yml")
_DEPLOY_SUFFIXES = (".sh", ".bash", ".dockerfile", ".tf")
_COMPOSE_PREFIXES = ("docker-compose", "compose")
MAX_DEPLOY_FILES = 500
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)|\b(?:env|secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")


def is_deploy_file(name: str) -> bool:
    """A file name (no folder) of a file that deploys or runs the app, or an env file."""
    low = name.lower()
    return name.startswith(_DEPLOY_NAMES) or low.endswith(_DEPLOY_SUFFIXES) or low.startswith(".env") or low.endswith(".env") or \
        (low.startswith(_COMPOSE_PREFIXES) and low.endswith((".yml", ".yaml")))


def workflow_files(root: str) -> list[str]:
    """The CI workflows of a project top (``.github/workflows/*.yml``): in a dot-folder, which walks skip."""
    workflows = os.path.join(root, ".github", "workflows")
    if not os.path.isdir(workflows):
        return []
    return [os.path.join(workflows, n) for n in sorted(os.listdir(workflows)) if n.endswith((".yml", ".yaml"))]


def references(paths: Iterable[str], shown: Callable[[str], str]) -> dict[str, str]:
    """Env variable names (upper case) the files name as ``$X``, ``${X}``, ``{$X}`` or ``env.X``,
    each with the first "file:line" naming it (at most ``MAX_DEPLOY_FILES`` files read)."""
    out: dict[str, str] = {}
    for n, path in enumerate(paths):
        if n >= MAX_DEPLOY_FILES:
            break
        data = read_capped(path)
        text = data.decode("utf-8", "replace") if data else ""
        if "$" not in text and "env." not in text:
            continue
        for m in _REFERENCE.finditer(text):
            name = (m.group(1) or m.group(2)).upper()
            if name not in out:
                out[name] = f"{shown(path)}:{text.count(chr(10), 0, m.start()) + 1}"
    return out
