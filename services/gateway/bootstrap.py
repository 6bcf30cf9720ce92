"""The one place the gateway's clients are built: the database engine and the Kafka publisher.
Tests pass fakes or test instances in; whatever is built here is closed by `Gateway.close`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from services.config import Settings
from services.gateway.agencies import Credentials
from services.gateway.grouping import Singles
from services.gateway.intake import Intake, Publishes
from services.gateway.views import CaseViews
from services.kafka.producer import Publisher
from services.privacy import Keyring, Sealer
from services.storage.db import make_engine

SEALER_MEMORY_S = 10.0  # how long the gateway keeps a case's data key in memory (services/privacy/sealer.py)


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    publisher: Publishes
    intake: Intake
    credentials: Credentials
    singles: Singles
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Close only the clients bootstrap built; the ones passed in belong to the caller."""
        for closer in self._closers:
            closer()
        self._closers.clear()


def bootstrap(settings: Settings, *, engine: Engine | None = None, publisher: Publishes | None = None) -> Gateway:
    closers: list[Callable[[], None]] = []
    if engine is None:
        engine = make_engine(settings)
        closers.append(engine.dispose)
    if publisher is None:
        publisher = Publisher(settings)
        closers.append(publisher.close)
    intake = Intake(
        publisher,
        settings.journey_topic,
        views=CaseViews(engine),
        sealer=Sealer(engine, Keyring.from_settings(settings), remember_s=SEALER_MEMORY_S),
    )
    credentials = Credentials(engine, settings.secret_key)
    return Gateway(settings, engine, publisher, intake, credentials, Singles(credentials, intake), closers)
