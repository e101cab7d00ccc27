"""The version is written once, in pyproject.toml; the package and the CLI report that one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import digitkit

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_package_and_cli_report_the_pyproject_version():
    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert digitkit.__version__ == declared
    out = subprocess.run([sys.executable, "-m", "digitkit.runtime.cli", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"digitkit {declared}"
