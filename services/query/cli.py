"""`passage query` (serve the query API) and `passage officer add` (register an officer)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from services.commands import Registry, add_server, scope, view_database
from services.config import Settings
from services.errors import CommandError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def register(sub: argparse._SubParsersAction) -> None:
    add_server(sub, "query", "serve the officers' query API", 8081, _serve)

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
        type=scope,
        help="dest:<country>, origin:<region> or *; repeat for several",
    )
    add.set_defaults(func=_add_officer)
    OFFICERS.add_toggles(actions)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from services.query.app import create_app
    from services.web import serve_http

    # No ping per pooled connection: the query service's sessions reconnect (deps.ViewSession).
    with view_database(settings, pre_ping=False) as engine:
        return serve_http(create_app(settings, engine=engine), args.host, args.port)


def _add_officer(args: argparse.Namespace, settings: Settings) -> int:
    from services.query.officers import add_officer

    with view_database(settings) as engine:
        try:
            officer = add_officer(engine, settings.secret_key, args.officer_id, args.role, args.scopes)
        except ValueError as error:
            raise CommandError(str(error)) from None
    verb = "token rotated for" if officer.rotated else "added"
    print(f"officer {officer.officer_id} {verb}: role {officer.role}, scopes {' '.join(officer.scopes)}")
    print("the token below is shown only once; give it to the officer over a safe channel")
    print(officer.token)
    return 0


def _set_officer_disabled(engine: Engine, officer_id: str, disabled: bool) -> bool:
    from services.query.officers import set_officer_disabled

    return set_officer_disabled(engine, officer_id, disabled)


OFFICERS = Registry(
    noun="officer",
    set_disabled=_set_officer_disabled,
    missing="`passage officer add --id {id} ...` registers them",
    disable_help="refuse the officer's token from the next request on",
    enable_help="let a disabled officer read again with their current token",
    disabled=(
        "officer {id} disabled: their token is refused (401) from the next request on. "
        "`passage officer enable {id}` undoes this."
    ),
    enabled="officer {id} enabled: their current token works again.",
)
