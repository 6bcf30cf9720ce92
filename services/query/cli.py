"""`passage query` (serve the query API) and `passage officer add` (register an officer)."""

from __future__ import annotations

import argparse

from services.config import Settings
from services.errors import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    query = sub.add_parser("query", help="serve the officers' query API")
    query.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    query.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081)")
    query.set_defaults(func=_serve)

    officer = sub.add_parser("officer", help="the officer registry")
    actions = officer.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an officer, or rotate the token of an existing one")
    add.add_argument("--id", required=True, dest="officer_id", help="the officer's id, e.g. an e-mail address")
    add.add_argument("--role", required=True, choices=["officer", "supervisor"])
    add.add_argument(
        "--scope",
        required=True,
        action="append",
        dest="scopes",
        type=_scope,
        help="dest:<country>, origin:<region> or *; repeat for several",
    )
    add.set_defaults(func=_add_officer)
    for verb, text in (
        ("disable", "refuse the officer's token from the next request on"),
        ("enable", "let a disabled officer read again with their current token"),
    ):
        toggle = actions.add_parser(verb, help=text)
        toggle.add_argument("officer_id", help="the officer's id")
        toggle.set_defaults(func=_toggle_officer, disabled=verb == "disable")


def _scope(value: str) -> str:
    from services.query.scope import normalise_scope

    try:
        return normalise_scope(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from services.query.app import create_app
    from services.storage.db import make_engine
    from services.web import serve_http

    engine = make_engine(settings, pre_ping=False)  # the query service's sessions reconnect (deps.ViewSession)
    _ensure_tables(engine, settings)
    try:
        return serve_http(create_app(settings, engine=engine), args.host, args.port)
    finally:
        engine.dispose()


def _add_officer(args: argparse.Namespace, settings: Settings) -> int:
    from services.query.officers import add_officer
    from services.storage.db import make_engine

    engine = make_engine(settings)
    try:
        _ensure_tables(engine, settings)
        officer = add_officer(engine, settings.secret_key, args.officer_id, args.role, args.scopes)
    except ValueError as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()
    verb = "token rotated for" if officer.rotated else "added"
    print(f"officer {officer.officer_id} {verb}: role {officer.role}, scopes {' '.join(officer.scopes)}")
    print("the token below is shown only once; give it to the officer over a safe channel")
    print(officer.token)
    return 0


def _toggle_officer(args: argparse.Namespace, settings: Settings) -> int:
    from services.query.officers import set_officer_disabled
    from services.storage.db import make_engine

    engine = make_engine(settings)
    try:
        _ensure_tables(engine, settings)
        found = set_officer_disabled(engine, args.officer_id, args.disabled)
    finally:
        engine.dispose()
    if not found:
        raise CommandError(
            f"no officer {args.officer_id}; `passage officer add --id {args.officer_id} ...` registers them"
        )
    if args.disabled:
        print(
            f"officer {args.officer_id} disabled: their token is refused (401) from the next request on. "
            f"`passage officer enable {args.officer_id}` undoes this."
        )
    else:
        print(f"officer {args.officer_id} enabled: their current token works again.")
    return 0


def _ensure_tables(engine, settings: Settings) -> None:
    """Bring the schema to head (a fresh SQLite file gets its tables); a database we cannot reach
    or whose schema is foreign is a one-line failure."""
    from sqlalchemy.exc import OperationalError

    from services.storage.migrate import SchemaMismatch, migrate

    try:
        migrate(engine)
    except OperationalError as error:
        reason = " ".join(str(error.orig).split())  # the driver's message spans lines; ours is one
        raise CommandError(
            f"cannot reach the database ({reason}); check PASSAGE_DATABASE_URL and that the server is running"
        ) from None
    except SchemaMismatch as error:
        raise CommandError(str(error)) from None
