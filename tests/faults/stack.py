"""One fault test's Passage: its own topic prefix and database on a given Kafka, an agency of every
kind, the services it started (all stopped at the end), its traffic, and the final verdict.

The sweep interval is an hour: the time rules are not under test here, and a sweep publishing
while the views are compared with a replay would make the comparison race.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from services.config import Settings
from services.demo.credentials import agencies
from services.gateway.agencies import add_agency
from services.kafka.topics import create_topics
from services.privacy import keystore
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker.replay import replay
from tests.faults.harness import Gateway, Service, Worker, seconds_until
from tests.faults.kafka_state import delete_topics, group_members, journey_lag
from tests.faults.traffic import DemoEvent, SteadyPublisher, Traffic
from tests.faults.verdict import Verdict, applied_ids, judge, recovered


class Stack:
    def __init__(self, base: Settings, database_url: str, replay_url: str, log_dir: Path, **overrides) -> None:
        self.log_dir = log_dir
        self.settings = base.model_copy(
            update={
                "topic_prefix": f"f{uuid.uuid4().hex[:10]}",
                "database_url": database_url,
                "var_dir": log_dir / "var",
                "sweep_interval_s": 3600.0,
                **overrides,
            }
        )
        self.replay_settings = self.settings.model_copy(update={"database_url": replay_url})
        create_topics(self.settings)
        self.engine = make_engine(self.settings)
        migrate(self.engine)
        # The demo's agency ids: its journeys name them (a job offer names the agency that publishes
        # it, SPEC 4a), so the gateway binds every event of the traffic to its publisher. Keyed by
        # agency id (`DemoEvent.agency_id`): the demo has several recruiting agencies.
        self.keys = {
            agency: add_agency(self.engine, self.settings.secret_key, agency, kind).key
            for agency, kind in agencies().items()
        }
        self.services: list[Service] = []
        self.publisher: SteadyPublisher | None = None

    def gateway(self, **env: str) -> Gateway:
        return self._track(Gateway(self.settings, self.log_dir, **env))

    def worker(self, name: str = "worker", **env: str) -> Worker:
        # Each worker its own var dir: processes on different machines share nothing on disk.
        return self._track(Worker(self.settings, self.log_dir, name, PASSAGE_VAR_DIR=str(self.log_dir / name), **env))

    def _track(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def wait_group(self, members: int, timeout_s: float = 90.0) -> float:
        """Until `members` workers hold journey partitions in a stable group."""

        def settled() -> bool:
            dead = [s for s in self.services if isinstance(s, Worker) and s.process and not s.alive]
            assert not dead, f"{dead[0].name} exited\n{dead[0].tail()}"
            return group_members(self.settings) == members

        return seconds_until(
            settled,
            timeout_s,
            f"{members} worker(s) sharing the journey partitions",
            0.5,
            lambda: "\n".join(s.tail(8) for s in self.services if isinstance(s, Worker)),
        )

    def publish(self, gateway: Gateway, events: list[DemoEvent], rate: float, **options) -> SteadyPublisher:
        self.publisher = SteadyPublisher(gateway.url, self.keys, events, rate, **options)
        self.publisher.start()
        return self.publisher

    def wait_accepted(self, count: int, timeout_s: float) -> float:
        """Until the publisher has `count` events accepted in all."""
        return seconds_until(
            lambda: self.publisher.progress()[1] >= count,
            timeout_s,
            f"{count} events accepted",
            0.1,
            lambda: f"statuses {self.publisher.traffic.statuses()}",
        )

    def wait_recovered(self, since: float, timeout_s: float) -> float:
        """Until every event accepted before `since` is in the views and so is one sent after it."""
        traffic = self.publisher.traffic
        return seconds_until(
            lambda: recovered(self.engine, traffic, since),
            timeout_s,
            "views holding every event accepted before the fault and one sent after it",
            0.25,
            lambda: f"statuses {traffic.statuses()}\n" + "\n".join(s.tail(8) for s in self.services),
        )

    def finish(self, timeout_s: float) -> Traffic:
        """Let the publisher send its last event; its record of what happened."""
        self.publisher.join(timeout_s)
        assert not self.publisher.is_alive(), f"the publisher did not finish within {timeout_s:.0f}s"
        return self.publisher.traffic

    def verdict(self, traffic: Traffic, timeout_s: float = 90.0) -> tuple[Verdict, float]:
        """Wait until the worker group committed the whole log and the views hold every accepted
        event; replay the log into the replay database; compare. Returns the verdict and how long
        catching up took."""

        def caught_up() -> bool:
            return journey_lag(self.settings) == 0 and traffic.accepted <= applied_ids(self.engine)

        took = seconds_until(
            caught_up,
            timeout_s,
            "the worker group caught up with the log",
            0.5,
            lambda: "\n".join(s.tail(8) for s in self.services),
        )
        rebuilt = make_engine(self.replay_settings)
        try:
            migrate(rebuilt)
            with self.engine.connect() as live, rebuilt.begin() as target:
                keystore.copy_all(live, target)  # the key store is not on the log (SPEC section 9)
            replay(self.replay_settings, rebuilt, progress=False)  # what `passage replay` runs
            return judge(traffic.published, traffic.accepted, self.engine, rebuilt), took
        finally:
            rebuilt.dispose()

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
            self.publisher.join(30)
        for service in reversed(self.services):
            service.stop(grace_s=15)
        self.engine.dispose()
        delete_topics(self.settings)
