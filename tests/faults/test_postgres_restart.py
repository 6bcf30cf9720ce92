"""Restart PostgreSQL (immediate stop: like a crash, recovery from the WAL) under steady traffic.
The gateway answers 503 while its registry is down (the publisher retries the same event), the
worker retries its batch; afterwards nothing accepted is lost or applied twice, no restart needed."""

from __future__ import annotations

import time

import pytest

from tests.faults.traffic import interleaved
from tests.polling import wait_until

pytestmark = pytest.mark.faults
EVENTS, RATE = 480, 30.0


def test_restart_postgres_under_load(topics, private_postgres, new_database, make_stack, report):
    stack = make_stack(topics, database_url=new_database(private_postgres.admin_url))
    gateway, worker = stack.gateway().start(), stack.worker().start()
    gateway.wait_ready()
    stack.wait_group(1)
    publisher = stack.publish(gateway, interleaved(EVENTS, seed=93), RATE)
    stack.wait_accepted(EVENTS // 3, timeout_s=90)

    stopped_at = time.monotonic()
    private_postgres.stop(mode="immediate")
    refused = lambda: any(a.status != 202 and a.sent >= stopped_at for a in publisher.traffic.answers)  # noqa: E731
    wait_until(refused, 30, "the gateway refusing while PostgreSQL is down")
    private_postgres.start()
    restarted_at = time.monotonic()
    recover_s = stack.wait_recovered(restarted_at, timeout_s=90)
    traffic = stack.finish(timeout_s=120)
    verdict, catch_up_s = stack.verdict(traffic)

    report(
        fault="PostgreSQL stop -m immediate, start",
        **verdict.figures(),
        statuses=traffic.statuses(),
        down_s=round(restarted_at - stopped_at, 1),
        recover_s=round(recover_s, 1),
        catch_up_s=round(catch_up_s, 1),
        longest_refusal_s=round(traffic.longest_refusal_s(), 1),
    )
    verdict.check()
    assert gateway.alive and worker.alive, "a service died of a database restart it should ride out"
    assert set(traffic.statuses()) <= {202, 503}, f"answers other than 202 and 503: {traffic.statuses()}"
    assert not traffic.given_up, f"events never accepted despite retries: {traffic.given_up[:5]}"
