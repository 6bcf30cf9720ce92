"""Errors that cross layers. This module imports nothing of Passage's, so any layer may raise
them without an import cycle."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user of the `passage` command can act on; its message is printed alone on
    stderr and the command exits 1 (services/cli.py)."""
