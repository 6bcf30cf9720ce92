"""`passage gateway`, `passage agency add` and `passage publish` (SPEC section 8)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from services.config import Settings
from services.errors import CommandError

AGENCY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_URL = "http://127.0.0.1:8080"


def register(sub: argparse._SubParsersAction) -> None:
    from services.gateway.admission import MAX_BATCH_EVENTS
    from services.gateway.agencies import AGENCY_KINDS

    gateway = sub.add_parser("gateway", help="the agency gateway: agencies POST events over HTTP")
    gateway.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    gateway.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    gateway.set_defaults(func=_gateway)

    agency = sub.add_parser("agency", help="the agencies allowed to publish")
    actions = agency.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register an agency (or rotate its key) and print its key once")
    add.add_argument("--id", required=True, type=_agency_id, help="the agency's id, e.g. ngo-kerala-1")
    add.add_argument("--kind", required=True, choices=AGENCY_KINDS, help="decides what it may publish")
    add.add_argument(
        "--employer-id",
        type=_bounded_text(128),
        help="for kind employer: the employer id it publishes as (default: the agency id)",
    )
    add.set_defaults(func=_agency_add)
    for verb, text in (
        ("disable", "refuse the agency's key from its next request on"),
        ("enable", "let a disabled agency publish again with its current key"),
    ):
        toggle = actions.add_parser(verb, help=text)
        toggle.add_argument("agency_id", type=_agency_id, help="the agency's id")
        toggle.set_defaults(func=_agency_toggle, disabled=verb == "disable")

    publish = sub.add_parser(
        "publish", help="publish a file of events (one JSON envelope per line) through the gateway"
    )
    publish.add_argument("file", type=Path, help="JSON lines: one event envelope per line")
    publish.add_argument("--key", required=True, help="the agency key `passage agency add` printed")
    publish.add_argument("--url", default=DEFAULT_URL, help=f"the gateway (default {DEFAULT_URL})")
    publish.add_argument(
        "--batch-size",
        type=_bounded(1, MAX_BATCH_EVENTS),
        default=MAX_BATCH_EVENTS,
        help=f"events per request, 1-{MAX_BATCH_EVENTS} (default {MAX_BATCH_EVENTS})",
    )
    publish.set_defaults(func=_publish)


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from services.gateway.app import create_app
    from services.web import serve_http

    return serve_http(create_app(settings), args.host, args.port)


def _agency_add(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from services.gateway.agencies import add_agency
    from services.storage.db import make_engine
    from services.storage.migrate import migrate

    engine = make_engine(settings)
    try:
        migrate(engine)
        issued = add_agency(engine, settings.secret_key, args.id, args.kind, args.employer_id)
    except ValueError as error:  # a disabled agency, or --employer-id for another kind
        raise CommandError(str(error)) from None
    except SQLAlchemyError as error:
        raise CommandError(
            f"the database at {engine.url.render_as_string(hide_password=True)} is unreachable "
            f"({type(error).__name__}); start it or fix PASSAGE_DATABASE_URL"
        ) from None
    finally:
        engine.dispose()
    as_employer = f", publishing as employer {issued.employer_id}" if issued.employer_id else ""
    if not issued.rotated:
        print(f"agency {args.id} added (kind {args.kind}{as_employer}).")
    else:
        changes = [f"kind changed from {issued.previous_kind}"] if issued.previous_kind else []
        changes += [as_employer.removeprefix(", ")] if as_employer else []
        print(
            f"agency {args.id} (kind {args.kind}): key rotated; the old key no longer works."
            + (f" ({'; '.join(changes)})" if changes else "")
        )
    print("Its key is shown only this once; hand it to the agency:")
    print(issued.key)
    return 0


def _agency_toggle(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from services.gateway.agencies import set_agency_disabled
    from services.storage.db import make_engine
    from services.storage.migrate import migrate

    engine = make_engine(settings)
    try:
        migrate(engine)
        found = set_agency_disabled(engine, args.agency_id, args.disabled)
    except SQLAlchemyError as error:
        raise CommandError(
            f"the database at {engine.url.render_as_string(hide_password=True)} is unreachable "
            f"({type(error).__name__}); start it or fix PASSAGE_DATABASE_URL"
        ) from None
    finally:
        engine.dispose()
    if not found:
        raise CommandError(
            f"no agency {args.agency_id}; `passage agency add --id {args.agency_id} --kind KIND` registers it"
        )
    if args.disabled:
        print(
            f"agency {args.agency_id} disabled: its key is refused (401) from its next request on. "
            f"`passage agency enable {args.agency_id}` undoes this."
        )
    else:
        print(f"agency {args.agency_id} enabled: its current key works again (`passage agency add` rotates it).")
    return 0


def _publish(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from events.client import PassageClient, PublishError
    from services.gateway.upload import count_events, publish_file

    if not args.file.is_file():
        raise CommandError(f"{args.file} is not a file; pass a JSON lines file of event envelopes")
    total = count_events(args.file)
    # Generous HTTP timeout: the gateway itself answers 503 when Kafka does not acknowledge in time.
    client = PassageClient(args.url, args.key, retries=6, timeout=max(30.0, 3 * settings.publish_timeout_s))
    progress = tqdm(total=total, unit="event", desc=args.file.name, file=sys.stderr, disable=None)
    try:
        summary = publish_file(args.file, client, args.batch_size, progress)
    except PublishError as error:
        if error.status_code == 401:
            raise CommandError(
                f"the gateway at {args.url} refused the key; check --key (`passage agency add` prints one)"
            ) from None
        if error.status_code == 413:
            raise CommandError(f"a batch was too large for the gateway; use a smaller --batch-size ({error})") from None
        raise CommandError(
            f"{error}; {progress.n} of {total} lines were handled before this. Rerunning the same "
            "file is safe: events already accepted take effect once (same event_ids)"
        ) from None
    finally:
        progress.close()
        client.close()
    print(f"{args.file}: {summary.total} events, {summary.accepted} accepted, {len(summary.rejected)} rejected")
    for rejection in summary.rejected:
        print(f"  rejected {rejection}")
    if summary.rejected:
        raise CommandError(
            f"{len(summary.rejected)} of {summary.total} events were rejected (listed on stdout); "
            "fix those lines and publish them again"
        )
    return 0


def _agency_id(value: str) -> str:
    if not AGENCY_ID.match(value):
        raise argparse.ArgumentTypeError("1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    return value


def _bounded_text(limit: int):
    def parse(value: str) -> str:
        if not 1 <= len(value) <= limit or not value.isprintable():
            raise argparse.ArgumentTypeError(f"1-{limit} printable characters")
        return value

    return parse


def _bounded(low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse
