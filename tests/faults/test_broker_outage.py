"""Stop the only broker (a private one) under steady traffic: while it is down the gateway answers
503, never 202; once it is back the same gateway process accepts again, and every accepted event
reaches the views exactly once."""

from __future__ import annotations

import time

import pytest

from tests.faults.traffic import interleaved
from tests.polling import wait_until

pytestmark = pytest.mark.faults
EVENTS, RATE = 480, 30.0
REFUSALS = 3  # 503 answers to see while the broker is down before it is started again


def test_gateway_answers_503_while_the_broker_is_down(private_broker, make_stack, report):
    # A short publish timeout so the outage yields several answers (the default 10 s would give one).
    stack = make_stack(private_broker.base, publish_timeout_s=3.0)
    gateway, worker = stack.gateway().start(), stack.worker().start()
    gateway.wait_ready()
    stack.wait_group(1)
    pid = gateway.process.pid
    publisher = stack.publish(gateway, interleaved(EVENTS, seed=94), RATE)
    stack.wait_accepted(EVENTS // 3, timeout_s=90)

    private_broker.stop()  # returns once the broker process is gone
    down_at = time.monotonic()
    refusals = lambda: [a for a in publisher.traffic.answers if a.sent >= down_at and a.status != 202]  # noqa: E731
    wait_until(lambda: len(refusals()) >= REFUSALS, 60, f"{REFUSALS} refusals while the broker is down")
    not_ready = not gateway.ready()
    starting_at = time.monotonic()
    accepted_while_down = publisher.traffic.accepted_between(down_at, starting_at)
    private_broker.start()
    up_at = time.monotonic()
    recover_s = stack.wait_recovered(up_at, timeout_s=90)
    first = publisher.traffic.first_accepted_after(up_at)
    traffic = stack.finish(timeout_s=120)
    verdict, catch_up_s = stack.verdict(traffic)

    report(
        fault="stop the only broker, start it",
        **verdict.figures(),
        statuses=traffic.statuses(),
        down_s=round(up_at - down_at, 1),
        accepting_again_s=round(first - up_at, 1) if first else None,
        recover_s=round(recover_s, 1),
        catch_up_s=round(catch_up_s, 1),
    )
    assert not accepted_while_down, f"{len(accepted_while_down)} events answered 202 while no broker ran"
    assert {a.status for a in refusals() if a.answered < starting_at} == {503}, "refusals must be 503"
    assert not_ready, "/readyz said ready while the broker was down"
    assert gateway.alive and gateway.process.pid == pid, "the gateway must recover without a restart"
    verdict.check()
    assert worker.alive
    assert not traffic.given_up, f"events never accepted despite retries: {traffic.given_up[:5]}"
