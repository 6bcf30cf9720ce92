"""`passage <command>` in-process: one command module's parser, and running its handler with the
test's settings (no environment, no logging set-up)."""

from __future__ import annotations

import argparse
from types import ModuleType

from services.config import Settings


def parser_for(module: ModuleType) -> argparse.ArgumentParser:
    """The `passage` parser with `module`'s commands only (`module.register` adds them)."""
    parser = argparse.ArgumentParser(prog="passage")
    module.register(parser.add_subparsers(dest="command", required=True))
    return parser


def run_command(module: ModuleType, argv: list[str], settings: Settings) -> int:
    """Parse `argv` with `module`'s commands and run the handler; its exit code."""
    args = parser_for(module).parse_args(argv)
    code: int = args.func(args, settings)
    return code
