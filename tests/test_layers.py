"""Nothing outside screens/, widgets/ and app.py imports Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CORE = ["store", "sources", "domain", "sandbox"]


def _core_files() -> list[Path]:
    package = REPO / "deskterm"
    files = [package / "model.py", package / "config.py", package / "paths.py", package / "logs.py",
             package / "secrets.py", package / "doctor.py", package / "cli_customers.py", package / "cli_gdpr.py",
             package / "cli_mail.py", package / "cli_replies.py", package / "accounts.py", package / "cli_assist.py",
             package / "assist_setup.py", package / "cli_triage.py", package / "cli_amazon.py"]
    for folder in CORE:
        files += sorted((package / folder).rglob("*.py"))
    return files


def test_core_modules_do_not_import_textual() -> None:
    offenders = []
    for path in _core_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "textual" or n.startswith("textual.") for n in names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders
    assert len(_core_files()) > 15


def test_importing_the_core_does_not_load_textual_at_runtime() -> None:
    modules = [str(p.relative_to(REPO).with_suffix("")).replace("/", ".") for p in _core_files()]
    modules = [m.removesuffix(".__init__") for m in modules]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + \
        "print(sorted(k for k in sys.modules if k == 'textual' or k.startswith('textual.')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_lower_layers_do_not_import_higher_ones() -> None:
    """domain imports neither store, sources nor sandbox; store imports neither sources nor sandbox."""
    package = REPO / "deskterm"
    forbidden = {"domain": ("deskterm.store", "deskterm.sources", "deskterm.sandbox"),
                 "store": ("deskterm.sources", "deskterm.sandbox")}
    offenders = []
    for folder, banned in forbidden.items():
        for path in sorted((package / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n == b or n.startswith(b + ".") for n in names for b in banned):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders
