"""kill -9 the broker that leads most journey partitions, of three (RF 3, min.insync.replicas 2),
under steady traffic; bring it back. Nothing accepted may be lost or applied twice."""

from __future__ import annotations

import time

import pytest

from services.config import Settings
from services.kafka import broker
from tests.faults.kafka_state import fully_in_sync, leaders
from tests.faults.traffic import interleaved
from tests.polling import wait_until

pytestmark = pytest.mark.faults
EVENTS, RATE = 480, 30.0


def test_kill_the_busiest_broker_of_three_and_bring_it_back(cluster, make_stack, report):
    # A node a previous session killed may still be catching up; killing another would then
    # leave partitions below min.insync.replicas, which is a different test.
    wait_until(lambda: fully_in_sync(cluster, 3), 120, "every replica in sync before the fault")
    stack = make_stack(cluster)
    gateway, worker = stack.gateway().start(), stack.worker().start()
    gateway.wait_ready()
    stack.wait_group(1)
    stack.publish(gateway, interleaved(EVENTS, seed=91), RATE)
    stack.wait_accepted(EVENTS // 3, timeout_s=90)

    led = leaders(stack.settings)
    victim = max(led, key=led.get)
    killed_at = time.monotonic()
    broker.kill_node(Settings(env="test"), victim, nodes=3)  # the cluster's own settings (its var dir)
    recover_s = stack.wait_recovered(killed_at, timeout_s=120)
    stack.wait_accepted(2 * EVENTS // 3, timeout_s=120)  # traffic goes on with two nodes

    broker.start(Settings(env="test"), nodes=3)
    restarted_at = time.monotonic()
    down_s = restarted_at - killed_at
    traffic = stack.finish(timeout_s=120)
    verdict, catch_up_s = stack.verdict(traffic)
    wait_until(lambda: fully_in_sync(stack.settings, 3), 120, f"node {victim} back in every journey ISR")
    rejoin_s = time.monotonic() - restarted_at

    report(
        fault=f"kill -9 node {victim} (led {led[victim]} of {stack.settings.partitions} journey partitions)",
        **verdict.figures(),
        statuses=traffic.statuses(),
        recover_s=round(recover_s, 1),
        down_s=round(down_s, 1),
        isr_rejoin_s=round(rejoin_s, 1),
        catch_up_s=round(catch_up_s, 1),
        longest_refusal_s=round(traffic.longest_refusal_s(), 1),
    )
    verdict.check()
    assert worker.alive and gateway.alive, "a service died of a broker fault it should ride out"
    assert not traffic.given_up, f"events never accepted despite retries: {traffic.given_up[:5]}"
