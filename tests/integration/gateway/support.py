"""The real gateway over HTTP on loopback (uvicorn in a thread), and reading the journey topic back
with a kafka-python consumer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from kafka import KafkaConsumer, TopicPartition

from services.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app: FastAPI, timeout_s: float = 30) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, name="gateway-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=1000,
        **settings.kafka_client_options(),
    )


def end_offsets(settings: Settings) -> dict[int, int]:
    """Partition -> end offset of the journey topic."""
    consumer = _consumer(settings)
    try:
        partitions = [
            TopicPartition(settings.journey_topic, p)
            for p in sorted(consumer.partitions_for_topic(settings.journey_topic) or ())
        ]
        assert partitions, f"{settings.journey_topic} has no partitions"
        return {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def records_with_event_ids(settings: Settings, event_ids: set[str], timeout_s: float = 30) -> list:
    """Every record of the journey topic whose `event_id` header is in `event_ids`, read from the
    beginning up to the end offsets at the time of the call."""
    consumer = _consumer(settings)
    found = []
    try:
        partitions = [
            TopicPartition(settings.journey_topic, p)
            for p in consumer.partitions_for_topic(settings.journey_topic) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found += [r for r in records if dict(r.headers).get("event_id", b"").decode() in event_ids]
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
        return found
    finally:
        consumer.close()
