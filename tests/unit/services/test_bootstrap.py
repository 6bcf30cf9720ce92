"""`services.bootstrap`: what it builds it closes, what it is given it leaves to the caller."""

from __future__ import annotations

import dataclasses

from services.bootstrap import bootstrap
from services.config import Settings
from tests.fakes import FakePublisher


def settings_in(tmp_path) -> Settings:
    return Settings(
        env="test", topic_prefix="unit", database_url=f"sqlite:///{tmp_path / 'views.db'}", var_dir=tmp_path
    )


def test_bootstrap_leaves_what_it_was_given_open(tmp_path, sqlite_engine):
    given = FakePublisher()
    clients = bootstrap(settings_in(tmp_path), engine=sqlite_engine, publisher=given)
    clients.close()
    assert not given.closed and not clients.closers


def test_what_bootstrap_built_is_closed_once_whichever_copy_closes_it(tmp_path):
    closed: list[str] = []
    clients = bootstrap(settings_in(tmp_path), publisher=FakePublisher())
    clients.closers.append(lambda: closed.append("extra"))
    autocommit = clients.autocommit()
    assert autocommit.engine is not clients.engine
    autocommit.close()
    clients.close()
    assert closed == ["extra"] and not clients.closers


def test_the_journey_publisher_follows_the_publisher(tmp_path, sqlite_engine):
    """A test (or a future caller) that swaps the publisher swaps what journey records go through."""
    clients = bootstrap(settings_in(tmp_path), engine=sqlite_engine, publisher=FakePublisher())
    other = FakePublisher()
    assert dataclasses.replace(clients, publisher=other).journey.publisher is other
