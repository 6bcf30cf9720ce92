"""`services/cli.py` loads every area's command module; none of them may import it back, not even
inside a function (where an import cycle hides until the function runs)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import services

ROOT = Path(services.__file__).parent
# The entry point itself, and the demo's credentials, which run `passage agency add` and
# `passage officer add` in-process through the parser to issue the demo's keys.
ENTRY_POINT_USERS = {"__main__.py", "demo/credentials.py"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_imports_the_command_line_entry_point() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(ROOT.rglob("*.py"))
        if path.name != "cli.py" or path.parent != ROOT
        if "services.cli" in imported_modules(path) and str(path.relative_to(ROOT)) not in ENTRY_POINT_USERS
    ]
    assert offenders == [], f"import CommandError from services.errors instead: {offenders}"


def test_errors_import_nothing_of_ours() -> None:
    assert not {m for m in imported_modules(ROOT / "errors.py") if m.startswith(("services", "events"))}
    probe = "import sys, services.errors; sys.exit('services.cli' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0
