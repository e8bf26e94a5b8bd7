"""The wheel carries the policy pack and the schemas, found at run time from
an installed wheel (not from the checkout)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from setuptools import find_packages

from conftest import REPO, write


def _declared_packages() -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]


def test_every_code_package_is_declared() -> None:
    assert set(find_packages(str(REPO / "engine"))) <= set(_declared_packages())


def test_installed_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(dist.glob("velro_policy-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "velro_policy/policies/velro/env-matrix.yaml" in names
    assert "velro_policy/schemas/policy.schema.json" in names
    assert "velro_policy/schemas/findings.schema.json" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    work = tmp_path / "elsewhere"
    env_file = write(work / ".env.production", "DEBUG=true\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import velro_policy, velro_policy.resources as r; print(velro_policy.__file__); print(r.builtin_policies_dir())"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert str(target) in where.stdout and str(REPO) not in where.stdout
    res = subprocess.run([sys.executable, "-m", "velro_policy", "lint", str(env_file)], cwd=work, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 1 and "velro/debug-disabled" in res.stdout, res.stderr
