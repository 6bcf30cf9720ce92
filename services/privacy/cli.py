"""`passage keys rotate|status|reseal`: the master key over the case data keys, and resealing old records."""

from __future__ import annotations

import argparse
import sys

from services.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="the master key that wraps every case's data key (personal data)")
    keys.add_argument(
        "action",
        choices=["rotate", "status", "reseal"],
        help="rotate: rewrap every data key under a new master key; status: keys per master key; "
        "reseal: copy the journey topic into --into-prefix with every personal field sealed",
    )
    keys.add_argument("--into-prefix", help="reseal: the new topic prefix to copy into")
    keys.set_defaults(func=_keys)


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from kafka.errors import KafkaError
    from sqlalchemy.exc import SQLAlchemyError

    from services.errors import CommandError, MasterKeyMissing, PublishFailed
    from services.privacy import keystore
    from services.privacy.keyring import Keyring
    from services.privacy.rotation import rotate_with_settings
    from services.storage.db import make_engine
    from services.storage.migrate import migrate

    engine = make_engine(settings)
    try:
        migrate(engine)
        if args.action == "status":
            with engine.connect() as connection:
                counts = keystore.count_by_master_key(connection)
            current = Keyring.from_settings(settings).current_id
            for master_key_id, count in sorted(counts.items(), key=lambda item: str(item[0])):
                label = "erased" if master_key_id is None else master_key_id
                print(f"{label}\t{count}{'  (current)' if master_key_id == current else ''}")
            return 0
        if args.action == "reseal":
            if not args.into_prefix:
                raise CommandError("reseal needs --into-prefix NEW_PREFIX (a topic prefix not in use)")
            from services.privacy.reseal import reseal

            copied = reseal(settings, engine, args.into_prefix)
            print(
                f"copied {copied} records into {args.into_prefix}.journey.v1 with personal fields sealed; "
                f"next: PASSAGE_TOPIC_PREFIX={args.into_prefix} passage replay, then move the services over"
            )
            return 0
        rotated = rotate_with_settings(settings, engine)
    except MasterKeyMissing as error:
        raise CommandError(str(error)) from error
    except (ValueError, LookupError) as error:  # a malformed master key, a missing topic
        raise CommandError(str(error)) from error
    except (KafkaError, PublishFailed) as error:
        raise CommandError(f"Kafka at {settings.kafka_bootstrap} failed: {error}; is the broker running?") from error
    except SQLAlchemyError as error:
        raise CommandError(
            f"the database at {settings.db_url.split('@')[-1]} failed: "
            f"{str(error).splitlines()[0]}; check PASSAGE_DATABASE_URL"
        ) from error
    finally:
        engine.dispose()
    left = {k: v for k, v in rotated.keys_by_master.items() if k not in (None, rotated.master_key_id)}
    print(f"rewrapped {rotated.rewrapped} data keys under master key {rotated.master_key_id}")
    if left:  # still readable (the old key is still accepted); not yet off the old key
        print(
            f"passage keys: {sum(left.values())} data keys are still under other master keys {sorted(left)} "
            "(created meanwhile by a service still on the old key); run `passage keys rotate` again "
            "before retiring the old key",
            file=sys.stderr,
        )
    return 0
