"""`passage gateway`, `passage agency add` and `passage publish` (SPEC section 8)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from services.commands import Registry, add_server, agency_id, bounded, view_database
from services.config import Settings
from services.errors import CommandError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEFAULT_URL = "http://127.0.0.1:8080"


def register(sub: argparse._SubParsersAction) -> None:
    from services.gateway.admission import MAX_BATCH_EVENTS
    from services.gateway.agencies import AGENCY_KINDS

    add_server(sub, "gateway", "the agency gateway: agencies POST events over HTTP", 8080, _gateway)

    agency = sub.add_parser("agency", help="the agencies allowed to publish")
    actions = agency.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register an agency (or rotate its key) and print its key once")
    add.add_argument("--id", required=True, type=agency_id, help="the agency's id, e.g. ngo-kerala-1")
    add.add_argument("--kind", required=True, choices=AGENCY_KINDS, help="decides what it may publish")
    add.add_argument(
        "--employer-id",
        type=_bounded_text(128),
        help="for kind employer: the employer id it publishes as (default: the agency id)",
    )
    add.set_defaults(func=_agency_add)
    AGENCIES.add_toggles(actions)

    publish = sub.add_parser(
        "publish", help="publish a file of events (one JSON envelope per line) through the gateway"
    )
    publish.add_argument("file", type=Path, help="JSON lines: one event envelope per line")
    publish.add_argument("--key", required=True, help="the agency key `passage agency add` printed")
    publish.add_argument("--url", default=DEFAULT_URL, help=f"the gateway (default {DEFAULT_URL})")
    publish.add_argument(
        "--batch-size",
        type=bounded(1, MAX_BATCH_EVENTS),
        default=MAX_BATCH_EVENTS,
        help=f"events per request, 1-{MAX_BATCH_EVENTS} (default {MAX_BATCH_EVENTS})",
    )
    publish.set_defaults(func=_publish)


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from services.gateway.app import create_app
    from services.web import serve_http

    return serve_http(create_app(settings), args.host, args.port)


def _agency_add(args: argparse.Namespace, settings: Settings) -> int:
    from services.gateway.agencies import add_agency

    with view_database(settings) as engine:
        try:
            issued = add_agency(engine, settings.secret_key, args.id, args.kind, args.employer_id)
        except ValueError as error:  # a disabled agency, or --employer-id for another kind
            raise CommandError(str(error)) from None
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


def _bounded_text(limit: int):
    def parse(value: str) -> str:
        if not 1 <= len(value) <= limit or not value.isprintable():
            raise argparse.ArgumentTypeError(f"1-{limit} printable characters")
        return value

    return parse


def _set_agency_disabled(engine: Engine, agency_id: str, disabled: bool) -> bool:
    from services.gateway.agencies import set_agency_disabled

    return set_agency_disabled(engine, agency_id, disabled)


AGENCIES = Registry(
    noun="agency",
    set_disabled=_set_agency_disabled,
    missing="`passage agency add --id {id} --kind KIND` registers it",
    disable_help="refuse the agency's key from its next request on",
    enable_help="let a disabled agency publish again with its current key",
    disabled=(
        "agency {id} disabled: its key is refused (401) from its next request on. "
        "`passage agency enable {id}` undoes this."
    ),
    enabled="agency {id} enabled: its current key works again (`passage agency add` rotates it).",
    id_type=agency_id,
)
