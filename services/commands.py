"""What the `passage` subcommands share: the view database opened for one command, Kafka and
database failures as one-line `CommandError`s, argument types, and the disable/enable pair of a
registry (agencies, officers)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from services.config import Settings
from services.errors import CommandError

if TYPE_CHECKING:  # the `passage` command imports sqlalchemy only for the subcommands that use it
    from sqlalchemy.engine import Engine

T = TypeVar("T")
AGENCY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@contextmanager
def view_database(settings: Settings, *, pre_ping: bool = True) -> Iterator[Engine]:
    """The view database brought to the schema head, disposed of after the command. A database
    that cannot be reached (while migrating or later) or whose schema is foreign is a one-line
    `CommandError` saying what to check. `pre_ping`: see `make_engine`."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from services.errors import SchemaMismatch
    from services.storage.db import make_engine
    from services.storage.migrate import migrate

    engine = make_engine(settings, pre_ping=pre_ping)
    try:
        migrate(engine)
        yield engine
    except SchemaMismatch as error:
        raise CommandError(str(error)) from None
    except SQLAlchemyError as error:
        # A connection failure's text is the driver's (one line of it is enough); any other
        # database error is named by its kind only, its text may hold SQL.
        reason = " ".join(str(error.orig).split()) if isinstance(error, OperationalError) else type(error).__name__
        raise CommandError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)} ({reason}); "
            "check PASSAGE_DATABASE_URL and that the server is running"
        ) from None
    finally:
        engine.dispose()


def kafka_call(settings: Settings, action: Callable[[], T]) -> T:
    """`action()`, with a missing topic or a failing broker as a one-line `CommandError`."""
    from kafka.errors import KafkaError

    try:
        return action()
    except LookupError as error:
        raise CommandError(str(error)) from error
    except KafkaError as error:
        raise CommandError(
            f"Kafka at {settings.kafka_bootstrap} failed: {error}; "
            "check PASSAGE_KAFKA_BOOTSTRAP and `passage kafka status`"
        ) from error


@dataclass(frozen=True)
class Registry:
    """A registry whose entries can be disabled and enabled again (`passage agency|officer
    disable|enable ID`). The texts take `{id}`."""

    noun: str  # "agency", "officer"
    set_disabled: Callable[[Engine, str, bool], bool]  # False: no such entry
    missing: str  # how to register one
    disable_help: str
    enable_help: str
    disabled: str  # printed after disabling
    enabled: str  # printed after enabling
    id_type: Callable[[str], str] = str

    def add_toggles(self, actions: argparse._SubParsersAction) -> None:
        for verb, text in (("disable", self.disable_help), ("enable", self.enable_help)):
            toggle = actions.add_parser(verb, help=text)
            toggle.add_argument("entry_id", metavar=f"{self.noun}_id", type=self.id_type, help=f"the {self.noun}'s id")
            toggle.set_defaults(func=self._toggle, disabled=verb == "disable")

    def _toggle(self, args: argparse.Namespace, settings: Settings) -> int:
        with view_database(settings) as engine:
            found = self.set_disabled(engine, args.entry_id, args.disabled)
        if not found:
            raise CommandError(f"no {self.noun} {args.entry_id}; {self.missing.format(id=args.entry_id)}")
        print((self.disabled if args.disabled else self.enabled).format(id=args.entry_id))
        return 0


def add_server(
    sub: argparse._SubParsersAction, name: str, text: str, port: int, func: Callable[..., int]
) -> argparse.ArgumentParser:
    """`passage gateway|query`: an HTTP service with --host and --port."""
    server = sub.add_parser(name, help=text)
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=port, help=f"port to listen on (default {port})")
    server.set_defaults(func=func)
    return server


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argument type: a whole number from `low` to `high`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse


def agency_id(value: str) -> str:
    """An argument type: an agency id (also a webhook's owner)."""
    if not AGENCY_ID.match(value):
        raise argparse.ArgumentTypeError("1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    return value


def scope(value: str) -> str:
    """An argument type: an officer or webhook scope (dest:<country>, origin:<region> or *)."""
    from services.query.scope import normalise_scope

    try:
        return normalise_scope(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
