"""`passage schemas generate [--check] [--out DIR]`: the published contracts in schemas/, from events/."""

from __future__ import annotations

import argparse
from pathlib import Path

from services.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    schemas = sub.add_parser("schemas", help="JSON Schemas and the AsyncAPI document generated from events/")
    schemas.add_argument("action", choices=["generate"])
    schemas.add_argument("--check", action="store_true", help="write nothing; exit 1 when schemas/ has drifted")
    schemas.add_argument("--out", type=Path, help="directory (default: the repo's schemas/)")
    schemas.set_defaults(func=_schemas)


def _schemas(args: argparse.Namespace, _settings: Settings) -> int:
    from events import jsonschema

    argv = ["--check"] if args.check else []
    if args.out:
        argv += ["--out", str(args.out)]
    return jsonschema.main(argv)
