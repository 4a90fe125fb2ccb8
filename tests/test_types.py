"""The type hints hold: mypy over the whole package finds nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_mypy_finds_no_errors() -> None:
    pytest.importorskip("mypy", reason="mypy is installed by '.[test]'")
    result = subprocess.run([sys.executable, "-m", "mypy", "deskterm", "--ignore-missing-imports"],
                            capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
