"""`passage worker`, `passage replay`, `passage dlq list` and `passage dlq replay`."""

from __future__ import annotations

import argparse

from services.commands import kafka_call
from services.config import Settings
from services.errors import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser("worker", help="project the journey topic into the views, sweep the time rules")
    worker.set_defaults(func=_worker)

    replay = sub.add_parser("replay", help="rebuild both views from offset 0 of the journey topic")
    replay.add_argument("--no-progress", action="store_true", help="no progress bar")
    replay.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="fold the log in N processes, each taking a share of the partitions (default 1)",
    )
    replay.set_defaults(func=_replay)

    dlq = sub.add_parser("dlq", help="the dead-letter topic: records the worker could not use")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="offset, time, reason, event_id and event_type of each (no content)")
    listing.add_argument("--limit", type=_positive, default=None, help="show at most this many, oldest first")
    listing.set_defaults(func=_dlq)
    again = actions.add_parser(
        "replay", help="publish dead letters back to the journey topic once their cause is fixed"
    )
    chosen = again.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--offset",
        type=int,
        action="append",
        metavar="N",
        help="the dead letter at this offset (see `passage dlq list`); repeat for more",
    )
    chosen.add_argument("--all", action="store_true", help="every dead letter")
    again.set_defaults(func=_dlq_replay)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from services.errors import SchemaMismatch
    from services.worker.refusals import redact
    from services.worker.runner import run

    try:
        return run(settings)
    except SchemaMismatch as error:
        raise CommandError(str(error)) from error
    except SQLAlchemyError as error:
        raise CommandError(
            f"the view database at {settings.db_url.split('@')[-1]} failed: "
            f"{redact(str(error))}; check PASSAGE_DATABASE_URL"
        ) from error


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from services.storage.db import make_engine
    from services.storage.migrate import migrate
    from services.worker.refusals import redact
    from services.worker.replay import replay

    if args.jobs < 1:
        raise CommandError(f"--jobs {args.jobs}: give the number of processes, 1 or more")
    engine = make_engine(settings)
    try:
        migrate(engine)
        result = kafka_call(settings, lambda: replay(settings, engine, progress=not args.no_progress, jobs=args.jobs))
    except SQLAlchemyError as error:
        reason = redact(str(error))
        raise CommandError(f"the view database failed: {reason}; the live views are unchanged") from error
    finally:
        engine.dispose()
    print(
        f"replayed {result.events} events into fresh views and swapped them in "
        f"({result.skipped} undecodable records skipped, {result.failed} events the domain could not fold)"
    )
    return 0


def _dlq(args: argparse.Namespace, settings: Settings) -> int:
    from services.worker import dlq

    letters = kafka_call(settings, lambda: list(dlq.read(settings, limit=args.limit)))
    print("offset\tfailed_at\tevent_type\tevent_id\torigin\treason")
    for letter in letters:
        origin = f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}"
        print(
            f"{letter.offset}\t{letter.failed_at}\t{letter.event_type or '-'}\t{letter.event_id or '-'}\t"
            f"{origin}\t{letter.reason}"
        )
    print(f"{len(letters)} dead letter(s) in {settings.dlq_topic}")
    return 0


def _dlq_replay(args: argparse.Namespace, settings: Settings) -> int:
    from services.errors import PublishFailed
    from services.kafka.producer import Publisher
    from services.worker import dlq

    publisher = Publisher(settings)
    try:
        offsets = None if args.all else set(args.offset)
        letters = kafka_call(settings, lambda: dlq.replay(settings, publisher, offsets))
    except PublishFailed as error:
        raise CommandError(
            f"Kafka did not take the records: {error}; nothing was replayed for sure, "
            "run the same command again (the worker drops what it already applied)"
        ) from error
    finally:
        publisher.close()
    for letter in letters:
        print(f"replayed {letter.offset}\t{letter.event_type or '-'}\t{letter.event_id or '-'}")
    print(f"{len(letters)} dead letter(s) published back; `passage dlq list` shows any that fail again")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number; use --limit 1 or more")
    return value
