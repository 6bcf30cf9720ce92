"""kill -9 one of two workers in the consumer group under steady traffic: the survivor takes its
partitions over (after PASSAGE_WORKER_SESSION_TIMEOUT_S); restarted, it gets its share back.
Nothing accepted may be lost or applied twice, however the batches in flight were cut."""

from __future__ import annotations

import time

import pytest

from tests.faults.kafka_state import group_members
from tests.faults.traffic import interleaved
from tests.polling import wait_until

pytestmark = pytest.mark.faults
EVENTS, RATE = 480, 30.0


def test_kill_one_of_two_workers_and_restart_it(topics, make_stack, report):
    stack = make_stack(topics)
    gateway = stack.gateway().start()
    first, second = stack.worker("worker-1").start(), stack.worker("worker-2").start()
    gateway.wait_ready()
    stack.wait_group(2)
    stack.publish(gateway, interleaved(EVENTS, seed=92), RATE)
    stack.wait_accepted(EVENTS // 3, timeout_s=90)

    killed_at = time.monotonic()
    second.kill()
    recover_s = stack.wait_recovered(killed_at, timeout_s=90)  # the survivor applies the victim's backlog
    # The group notices the dead member only after the session timeout; recovery above can come
    # sooner (events after the kill may land on the survivor's own partitions), so wait for it.
    wait_until(
        lambda: group_members(stack.settings) == 1,
        stack.settings.worker_session_timeout_s + 60,
        "the survivor alone holding the journey partitions",
        0.5,
    )
    takeover_s = time.monotonic() - killed_at
    second.start()
    rejoin_s = stack.wait_group(2)
    traffic = stack.finish(timeout_s=120)
    verdict, catch_up_s = stack.verdict(traffic)

    report(
        fault="kill -9 one of two workers, restart it",
        **verdict.figures(),
        statuses=traffic.statuses(),
        recover_s=round(recover_s, 1),
        takeover_s=round(takeover_s, 1),
        rejoin_s=round(rejoin_s, 1),
        catch_up_s=round(catch_up_s, 1),
        session_timeout_s=stack.settings.worker_session_timeout_s,
    )
    verdict.check()
    assert first.alive and second.alive
    assert traffic.statuses() == {202: len(traffic.published)}, "a worker fault must not reach the gateway"
