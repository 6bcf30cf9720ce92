"""The `passage` command line (SPEC section 8).

Each area registers its own subcommands (`register(subparsers)` in its `cli` module, listed in
COMMAND_MODULES) so this file stays the one obvious entry point. A handler returns the exit code;
a `CommandError` becomes a one-line reason on stderr and exit 1; bad usage exits 2 (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from services.config import get_settings
from services.errors import CommandError
from services.files import make_private, private_umask
from services.logs import configure_logging

COMMAND_MODULES = [
    "services.kafka.cli",
    "services.schemas_cli",
    "services.gateway.cli",
    "services.query.cli",
    "services.worker.cli",
    "services.demo.cli",
    "services.local.cli",
    "services.notify.cli",
    "services.privacy.cli",
]


# The commands that seal or open personal fields (SPEC section 9): production refuses to start them
# without PASSAGE_MASTER_KEY (development keeps one in var/master.key).
NEEDS_MASTER_KEY = {"up", "gateway", "query", "worker", "replay", "keys"}


def require_master_key(settings) -> None:
    if settings.env == "production" and not settings.master_key:
        raise CommandError(
            "PASSAGE_MASTER_KEY is not set; production needs the master key that wraps the case "
            'data keys (base64 of 32 random bytes; see the README, "Personal data")'
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="passage", description="Passage: case tracking for labour migration.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    if args.command != "schemas":  # schemas/ is checked-in documentation, meant to be read
        private_umask()
        make_private(settings.var_dir)
    try:
        if args.command in NEEDS_MASTER_KEY:
            require_master_key(settings)
        return int(args.func(args, settings) or 0)
    except CommandError as error:
        print(f"passage {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
