"""The one place the clients of Passage's three services are built: the gateway, the query service
and the worker each call `bootstrap(settings)` (cosmicpython's `bootstrap.py`).

What it builds: the view database engine, the Kafka publisher, the key ring (master keys) and the
sealer of personal fields, and the `JourneyPublisher` that seals and publishes journey records.
Tests and benches pass their own engine or publisher in; `Clients.close` closes only what
bootstrap built, the ones passed in belong to the caller. Settings are read once by
`services.config`, logging is configured once by `services.cli.main`, and each service's metrics
are exposed where it serves HTTP (`services.web.install_metrics`, the worker's `OpsServer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Engine

from services.config import Settings
from services.journey import JourneyPublisher, Publishes
from services.kafka.producer import Publisher
from services.privacy import Keyring, Sealer
from services.storage.db import make_engine


@dataclass(frozen=True)
class Clients:
    settings: Settings
    engine: Engine
    publisher: Publishes  # raw records (alert changes, dead letters); journey events go through `journey`
    keyring: Keyring
    sealer: Sealer
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False, compare=False)

    @property
    def journey(self) -> JourneyPublisher:
        """Journey records go out through this: sealed, then published by `publisher`."""
        return JourneyPublisher(self.publisher, self.sealer)

    def close(self) -> None:
        """Close what bootstrap built, last built first; safe to call twice."""
        while self.closers:
            self.closers.pop()()

    def autocommit(self) -> Clients:
        """The same clients, with an engine whose every statement is its own transaction (the
        query service's reads and appends; see `services.query.deps.get_db`)."""
        return replace(self, engine=self.engine.execution_options(isolation_level="AUTOCOMMIT"))


def bootstrap(
    settings: Settings,
    *,
    engine: Engine | None = None,
    publisher: Publishes | None = None,
    remember_keys_s: float = 0.0,
    pre_ping: bool = True,
) -> Clients:
    """`remember_keys_s`: how long the sealer keeps a case's data key in memory (see `Sealer`);
    `pre_ping`: for an engine built here, see `make_engine` (the query service turns it off)."""
    closers: list[Callable[[], None]] = []
    if engine is None:
        engine = make_engine(settings, pre_ping=pre_ping)
        closers.append(engine.dispose)
    if publisher is None:
        publisher = Publisher(settings)
        closers.append(publisher.close)
    keyring = Keyring.from_settings(settings)
    return Clients(settings, engine, publisher, keyring, Sealer(engine, keyring, remember_s=remember_keys_s), closers)
