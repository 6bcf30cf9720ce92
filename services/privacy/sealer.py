"""Encrypt an event's personal fields before it is produced (the gateway, the query service).

`Sealer.seal(records)` takes the stamped records about to be published and returns them with
every personal field sealed under its case's data key (see `fields` for the format). Records
whose event type has no personal field pass untouched, without being parsed. For an erased case
no key is created again: its personal fields are written as null ("stored without personal
fields", SPEC section 9): each is written `{"erased": true}`, and the worker folds it as blank.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.errors import PublishFailed
from services.kafka.producer import Record
from services.privacy import keystore
from services.privacy.fields import ERASED, HEADER, is_sealed, personal_fields, seal_value
from services.privacy.keyring import Keyring

MAX_REMEMBERED = 100_000  # cases; beyond that, expired entries are dropped


class Sealer:
    """`remember_s`: how long a case's data key is kept in memory after it was read, so the next
    events of a case cost no key store round trip. An erasure therefore reaches a long-lived sealer
    (the gateway's) within that time; a record sealed meanwhile under the destroyed key opens as
    blank like every record of the case. 0: read the key store every time."""

    def __init__(
        self, engine: Engine, keyring: Keyring, remember_s: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # One statement reads and creates the keys: in autocommit it is its own transaction, which
        # spares the BEGIN and COMMIT round trips (a third of the cost on a busy database).
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._keyring = keyring
        self._remember_s = remember_s
        self._clock = clock
        self._known: dict[str, tuple[float, bytes | None]] = {}  # case_id -> (read at, key)

    def seal(self, records: Sequence[Record]) -> list[Record]:
        """The records as they may go to Kafka. Raises `PublishFailed` when the key store is
        unreachable: nothing may be produced in clear, so nothing is produced (503, retry)."""
        sealed = list(records)
        personal = [i for i, record in enumerate(sealed) if personal_fields(_event_type(record))]
        if not personal:
            return sealed
        keys = self._keys({sealed[i].key for i in personal})
        for i in personal:
            sealed[i] = _sealed(sealed[i], keys[sealed[i].key])
        return sealed

    def _keys(self, case_ids: set[str]) -> dict[str, bytes | None]:
        now = self._clock()
        keys = {
            case_id: known[1]
            for case_id in case_ids
            if (known := self._known.get(case_id)) is not None and now - known[0] < self._remember_s
        }
        missing = case_ids - set(keys)
        if missing:
            try:
                with self._engine.connect() as connection:
                    loaded = keystore.load_or_create(connection, self._keyring, missing)
            except SQLAlchemyError as error:
                raise PublishFailed(
                    f"the key store (database) is unreachable, so personal fields cannot be "
                    f"encrypted: {type(error).__name__}"
                ) from None
            keys.update({case_id: case_key.key for case_id, case_key in loaded.items()})
            if self._remember_s > 0:
                if len(self._known) > MAX_REMEMBERED:
                    self._known = {k: v for k, v in self._known.items() if now - v[0] < self._remember_s}
                self._known.update({case_id: (now, keys[case_id]) for case_id in missing})
        return keys


def _sealed(record: Record, key: bytes | None) -> Record:
    data = json.loads(record.value)
    payload, event_id = data["payload"], data["event_id"]
    aead = AESGCM(key) if key is not None else None
    sealed = 0
    for name in personal_fields(data["event_type"]):
        value = payload.get(name)
        if value is not None and not is_sealed(value) and value != ERASED:  # a resealed record keeps its seals
            payload[name] = seal_value(aead, event_id, value) if aead is not None else dict(ERASED)
            sealed += aead is not None
    if not sealed and aead is not None:
        return record  # no personal field present: nothing to hide
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    headers = record.headers + ((HEADER,) if sealed else ())
    return dataclasses.replace(record, value=value, headers=headers)


def _event_type(record: Record) -> str:
    for name, value in record.headers:
        if name == "event_type":
            return value.decode()
    data = json.loads(record.value)  # no header: read it from the envelope
    return data.get("event_type", "") if isinstance(data, dict) else ""
