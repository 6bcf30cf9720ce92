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
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.kafka.producer import PublishFailed, Record
from services.privacy import keystore
from services.privacy.fields import ERASED, HEADER, is_sealed, personal_fields, seal_value
from services.privacy.keyring import Keyring


class Sealer:
    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self._engine = engine
        self._keyring = keyring

    def seal(self, records: Sequence[Record]) -> list[Record]:
        """The records as they may go to Kafka. Raises `PublishFailed` when the key store is
        unreachable: nothing may be produced in clear, so nothing is produced (503, retry)."""
        sealed = list(records)
        personal = [i for i, record in enumerate(sealed) if personal_fields(_event_type(record))]
        if not personal:
            return sealed
        try:
            with self._engine.begin() as connection:
                keys = keystore.load_or_create(connection, self._keyring, {sealed[i].key for i in personal})
        except SQLAlchemyError as error:
            raise PublishFailed(f"the key store (database) is unreachable, so personal fields cannot be "
                                f"encrypted: {type(error).__name__}") from None
        for i in personal:
            sealed[i] = _sealed(sealed[i], keys[sealed[i].key].key)
        return sealed


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
