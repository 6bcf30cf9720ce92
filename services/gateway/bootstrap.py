"""The gateway's wiring: the shared clients (`services.bootstrap`) and the intake built on them.
Tests pass fakes or test instances in; whatever is built here is closed by `Gateway.close`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.bootstrap import Clients
from services.bootstrap import bootstrap as bootstrap_clients
from services.config import Settings
from services.gateway.agencies import Credentials
from services.gateway.grouping import Singles
from services.gateway.intake import Intake
from services.gateway.views import CaseViews
from services.journey import Publishes

SEALER_MEMORY_S = 10.0  # how long the gateway keeps a case's data key in memory (services/privacy/sealer.py)


@dataclass(frozen=True)
class Gateway:
    clients: Clients
    intake: Intake
    credentials: Credentials
    singles: Singles

    @property
    def settings(self) -> Settings:
        return self.clients.settings

    @property
    def engine(self) -> Engine:
        return self.clients.engine

    @property
    def publisher(self) -> Publishes:
        return self.clients.publisher

    def close(self) -> None:
        """Close only the clients bootstrap built; the ones passed in belong to the caller."""
        self.clients.close()


def bootstrap(settings: Settings, *, engine: Engine | None = None, publisher: Publishes | None = None) -> Gateway:
    clients = bootstrap_clients(settings, engine=engine, publisher=publisher, remember_keys_s=SEALER_MEMORY_S)
    intake = Intake(clients.publisher, settings.journey_topic, views=CaseViews(clients.engine), sealer=clients.sealer)
    credentials = Credentials(clients.engine, settings.secret_key)
    return Gateway(clients, intake, credentials, Singles(credentials, intake))
