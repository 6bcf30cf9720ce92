"""Files under var/ (the SQLite database, credentials, the broker's data) are readable by their
owner only (SPEC section 8): 0700 directories, 0600 files.

`passage` sets the process umask to 077 before it runs a command, so whatever it creates (and the
Kafka broker and services it starts as child processes, which inherit the umask) is private from
the start; `make_private` also corrects what an older version left readable by others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_umask() -> None:
    os.umask(PRIVATE_UMASK)


def make_private(root: Path) -> None:
    """chmod 0700 every directory and 0600 every file under `root` (symlinks are left alone)."""
    if not root.is_dir() or root.is_symlink():
        return
    for directory, subdirectories, files in os.walk(root):
        _chmod(Path(directory), 0o700)
        for name in files:
            _chmod(Path(directory) / name, 0o600)
        subdirectories[:] = [name for name in subdirectories if not (Path(directory) / name).is_symlink()]


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.is_symlink():
            return
        current = stat.S_IMODE(path.stat().st_mode)
        if current & 0o077:  # readable or writable by group or others
            path.chmod(mode | (current & 0o100 if path.is_file() else 0))
    except FileNotFoundError:  # a broker segment rolled away meanwhile
        pass
