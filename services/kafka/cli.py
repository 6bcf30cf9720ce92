"""`passage kafka start|stop|status` and `passage topics create`."""

from __future__ import annotations

import argparse
import time

from services.config import Settings
from services.errors import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    kafka = sub.add_parser("kafka", help="the local Kafka broker (KRaft), fetched with Maven")
    kafka.add_argument("action", choices=["start", "stop", "status"])
    kafka.add_argument("--nodes", type=int, choices=[1, 3], default=1, help="3: a local three-node cluster")
    kafka.set_defaults(func=_kafka)

    topics = sub.add_parser("topics", help="Kafka topics")
    topics.add_argument("action", choices=["create"])
    topics.set_defaults(func=_topics)


def _kafka(args: argparse.Namespace, settings: Settings) -> int:
    from services.kafka import broker

    try:
        if args.action == "start":
            began = time.monotonic()
            bootstrap, started = broker.start(settings, nodes=args.nodes)
            if started:
                print(f"kafka started on {bootstrap} in {time.monotonic() - began:.1f}s")
            elif broker.ours(settings, nodes=args.nodes):
                print(f"kafka is already running on {bootstrap}")
            else:
                print(
                    f"a Kafka broker this checkout did not start (another checkout's?) answers on {bootstrap}; "
                    "using it (`passage kafka stop` here leaves it running)"
                )
            return 0
        if args.action == "stop":
            print("kafka stopped" if broker.stop(settings, nodes=args.nodes) else "kafka was not running")
            return 0
        state = broker.status(settings, nodes=args.nodes)
        pids = ", ".join(f"node {n}: {pid or 'not running'}" for n, pid in state["nodes"].items())
        verdict = "answers" if state["answers"] else "does not answer"
        print(f"kafka on {state['bootstrap']} {verdict} ({pids})")
        return 0 if state["answers"] else 1
    except broker.BrokerError as error:
        raise CommandError(str(error)) from error


def _topics(args: argparse.Namespace, settings: Settings) -> int:
    from services.kafka.topics import create_topics, topic_names

    created = create_topics(settings)
    for name in topic_names(settings):
        print(f"{name}: {'created' if name in created else 'exists'}")
    return 0
