"""`passage worker`, `passage replay` and `passage dlq list`."""

from __future__ import annotations

import argparse

from services.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser("worker", help="project the journey topic into the views, sweep the time rules")
    worker.set_defaults(func=_worker)

    replay = sub.add_parser("replay", help="rebuild both views from offset 0 of the journey topic")
    replay.add_argument("--no-progress", action="store_true", help="no progress bar")
    replay.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="fold the log in N processes, each taking a share of the partitions (default 1)")
    replay.set_defaults(func=_replay)

    dlq = sub.add_parser("dlq", help="the dead-letter topic")
    dlq.add_argument("action", choices=["list"])
    dlq.add_argument("--limit", type=int, default=None, help="show at most this many, oldest first")
    dlq.set_defaults(func=_dlq)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from services.cli import CommandError
    from services.storage.migrate import SchemaMismatch
    from services.worker.runner import run

    try:
        return run(settings)
    except SchemaMismatch as error:
        raise CommandError(str(error)) from error
    except SQLAlchemyError as error:
        raise CommandError(f"the view database at {settings.db_url.split('@')[-1]} failed: "
                           f"{str(error).splitlines()[0]}; check PASSAGE_DATABASE_URL") from error


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from kafka.errors import KafkaError
    from sqlalchemy.exc import SQLAlchemyError

    from services.cli import CommandError
    from services.storage.db import make_engine
    from services.storage.migrate import migrate
    from services.worker.replay import replay

    if args.jobs < 1:
        raise CommandError(f"--jobs {args.jobs}: give the number of processes, 1 or more")
    engine = make_engine(settings)
    try:
        migrate(engine)
        result = replay(settings, engine, progress=not args.no_progress, jobs=args.jobs)
    except LookupError as error:
        raise CommandError(str(error)) from error
    except KafkaError as error:
        raise CommandError(f"Kafka at {settings.kafka_bootstrap} failed: {error}; "
                           "check PASSAGE_KAFKA_BOOTSTRAP and `passage kafka status`") from error
    except SQLAlchemyError as error:
        reason = str(error).splitlines()[0]
        raise CommandError(f"the view database failed: {reason}; the live views are unchanged") from error
    finally:
        engine.dispose()
    print(f"replayed {result.events} events into fresh views and swapped them in "
          f"({result.skipped} undecodable records skipped, {result.failed} events the domain could not fold)")
    return 0


def _dlq(args: argparse.Namespace, settings: Settings) -> int:
    from kafka.errors import KafkaError

    from services.cli import CommandError
    from services.worker import dlq

    try:
        letters = list(dlq.read(settings, limit=args.limit))
    except LookupError as error:
        raise CommandError(str(error)) from error
    except KafkaError as error:
        raise CommandError(f"Kafka at {settings.kafka_bootstrap} failed: {error}; "
                           "check PASSAGE_KAFKA_BOOTSTRAP and `passage kafka status`") from error
    for letter in letters:
        origin = f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}"
        print(f"{letter.offset}\t{origin}\tkey={letter.key or '-'}\t{letter.failed_at}\t{letter.reason}")
    print(f"{len(letters)} dead letter(s) in {settings.dlq_topic}")
    return 0
