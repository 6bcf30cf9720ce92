"""The console over a SQLite view database seeded with `tests.query_seed` and a fake publisher."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.privacy.keyring import Keyring
from services.privacy.opener import read_record
from services.query.app import create_app
from tests.fakes import FakePublisher
from tests.query_seed import seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console:
    """A browser-like client of /console: cookies kept, redirects not followed (tests look at them)."""

    def __init__(self, client: TestClient, tokens: dict[str, str], publisher: FakePublisher, read=None) -> None:
        self.client, self.tokens, self.publisher = client, tokens, publisher
        self.read = read  # a published record as the worker reads it (personal fields decrypted)

    def published(self) -> list:
        return [self.read(record) for record in self.publisher.records]

    def sign_in(self, who: str = "sup-all", token: str | None = None):
        page = self.client.get("/console/sign-in")
        csrf_token = CSRF.search(page.text).group(1)
        return self.client.post(
            "/console/sign-in",
            data={"token": token or self.tokens[who], "csrf_token": csrf_token},
            follow_redirects=False,
        )

    def get(self, path: str, **params):
        return self.client.get(path, params=params, follow_redirects=False)

    def csrf(self, path: str = "/console/inbox") -> str:
        return CSRF.search(self.get(path).text).group(1)

    def post(self, path: str, data: dict, csrf: str | None = None):
        return self.client.post(
            path, data={"csrf_token": csrf if csrf is not None else self.csrf(), **data}, follow_redirects=False
        )


@pytest.fixture
def world(sqlite_engine, unit_settings, publisher):
    tokens = seed(sqlite_engine, unit_settings.secret_key)
    app = create_app(unit_settings, engine=sqlite_engine, publisher=publisher)
    with TestClient(app) as client:
        yield client, tokens


@pytest.fixture
def console(world, publisher, sqlite_engine, unit_settings) -> Console:
    client, tokens = world
    keyring = Keyring.from_settings(unit_settings)
    return Console(
        client, tokens, publisher, lambda record: read_record(sqlite_engine, keyring, record.key, record.value)
    )
