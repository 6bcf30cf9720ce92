"""`passage webhook add|list|disable|deliveries` (SPEC section 11)."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from services.commands import agency_id, scope, view_database
from services.config import Settings
from services.errors import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    webhook = sub.add_parser("webhook", help="agencies' webhook subscriptions to alert changes")
    actions = webhook.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="subscribe a URL to alert changes; prints its signing secret once")
    add.add_argument("--agency", required=True, type=agency_id, help="the agency the webhook belongs to")
    add.add_argument("--url", required=True, type=_url, help="where to POST each alert change (http or https)")
    add.add_argument(
        "--min-severity",
        default="medium",
        choices=["medium", "high", "critical"],
        help="send alerts of this severity and above (default medium: all)",
    )
    add.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        type=scope,
        metavar="SCOPE",
        help="dest:<country>, origin:<region> or * (default *); repeat for several",
    )
    add.set_defaults(func=_add)

    listing = actions.add_parser("list", help="every subscription")
    listing.set_defaults(func=_list)

    disable = actions.add_parser(
        "disable", help="stop sending to a subscription (its pending deliveries are cancelled)"
    )
    disable.add_argument("id", help="the subscription id (`passage webhook list`)")
    disable.set_defaults(func=_disable)

    deliveries = actions.add_parser("deliveries", help="a subscription's latest deliveries, newest first")
    deliveries.add_argument("id", help="the subscription id (`passage webhook list`)")
    deliveries.add_argument("--limit", type=int, default=100, help="how many (default 100)")
    deliveries.set_defaults(func=_deliveries)


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an http(s) URL with a host, e.g. https://example.org/hooks/passage"
        )
    return value


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from services.notify import store
    from services.notify.signing import signing_secret

    scopes = args.scopes or ["*"]
    with view_database(settings) as engine:
        sub = store.add_subscription(engine, args.agency, args.url, args.min_severity, scopes, datetime.now(UTC))
    print(
        f"webhook {sub.id} added for agency {sub.agency_id}: {sub.url} "
        f"(min severity {sub.min_severity}, scopes {' '.join(sub.scopes)})"
    )
    print("its signing secret is shown only this once; the receiver checks Passage-Signature with it:")
    print(signing_secret(settings.secret_key, sub.id, sub.salt))
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from services.notify import store

    with view_database(settings) as engine:
        subs = store.subscriptions(engine)
    for sub in subs:
        state = "disabled" if sub.disabled else "enabled"
        print(f"{sub.id}\t{sub.agency_id}\t{state}\t{sub.min_severity}\t{','.join(sub.scopes)}\t{sub.url}")
    print(f"{len(subs)} webhook subscription(s)")
    return 0


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    from services.notify import store

    with view_database(settings) as engine:
        try:
            cancelled = store.disable(engine, args.id)
        except LookupError as error:
            raise CommandError(str(error)) from None
    print(f"webhook {args.id} disabled; {cancelled} pending deliveries cancelled")
    return 0


def _deliveries(args: argparse.Namespace, settings: Settings) -> int:
    from services.notify import store

    with view_database(settings) as engine:
        if not any(sub.id == args.id for sub in store.subscriptions(engine)):
            raise CommandError(f"no webhook subscription {args.id!r}; `passage webhook list` shows them")
        rows = store.deliveries(engine, args.id, args.limit)
    for row in rows:
        last = row["last_attempt_at"].isoformat() if row["last_attempt_at"] else "-"
        print(
            f"{row['delivery_id']}\t{row['case_id']}\t{row['status']}\tattempts={row['attempts']}\t"
            f"http={row['last_status_code'] or '-'}\t{last}\t{row['last_error'] or ''}".rstrip()
        )
    print(f"{len(rows)} deliveries shown (newest first)")
    return 0
