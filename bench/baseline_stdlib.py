"""The stdlib-only reference for scenario B: walk, parse each env file, apply five rules.

This is the least a linter has to do (no policy language, no python-dotenv
semantics, no masking): what ``velro-policy lint`` is compared against.
Usage: ``python bench/baseline_stdlib.py DIR`` prints one line per finding.
"""
from __future__ import annotations

import os
import sys

SKIP = {".git", "node_modules", "__pycache__", ".venv", "venv"}
ENVIRONMENTS = {"production": "production", "prod": "production", "staging": "staging", "development": "development",
                "dev": "development", "test": "test", "example": "template"}


def is_env_file(name: str) -> bool:
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def parse(text: str) -> dict[str, tuple[str, int]]:
    values: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if value[:1] in ("'", '"') and value.endswith(value[0]) and len(value) > 1:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = (value, number)
    return values


def environment(name: str, values: dict[str, tuple[str, int]]) -> str:
    for token in name.lower().replace(".", " ").split():
        if token in ENVIRONMENTS:
            return ENVIRONMENTS[token]
    return ENVIRONMENTS.get(values.get("ENVIRONMENT", ("production", 0))[0].lower(), "production")


def check(path: str, values: dict[str, tuple[str, int]], env: str, out: list[str]) -> None:
    strict = env in ("production", "staging")
    for key in ("DEBUG", "EMERGENCY_AUTH_MODE", "ENABLE_MOCK_AUTHENTICATION"):  # rules 1-3
        value, line = values.get(key, ("false", 0))
        if value.lower() in ("1", "true", "yes", "on") and (strict or key != "DEBUG"):
            out.append(f"{path}:{line}: {key} must be false in {env}")
    secret, line = values.get("JWT_SECRET_KEY", ("", 0))  # rule 4
    if strict and len(secret) < 96:
        out.append(f"{path}:{line}: JWT_SECRET_KEY is {len(secret)} characters long; needs at least 96")
    origins, line = values.get("CORS_ORIGINS", ("", 0))  # rule 5
    if strict and "*" in origins:
        out.append(f"{path}:{line}: CORS_ORIGINS allows every origin")


def main(argv: list[str]) -> int:
    findings: list[str] = []
    files = 0
    for root in argv or ["."]:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP)
            for name in sorted(filenames):
                if not is_env_file(name):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8-sig") as fh:
                    values = parse(fh.read())
                files += 1
                check(path, values, environment(name, values), findings)
    sys.stdout.write("".join(f + "\n" for f in findings))
    sys.stdout.write(f"{len(findings)} findings in {files} files\n")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
