"""Decrypt a record's personal fields while the worker folds it (and `passage replay`).

`Opener.for_batch` reads the key store once per batch of records (keys of the batch's cases);
`open(message)` returns None for a record to decode as it is (the common case: no sealed field
and a case that is not erased; found by a byte search, no parse), else an `Opened`:
- sealed fields are decrypted with the case's key;
- a sealed field whose case has no key (erased, or a key store that never held it) is blank;
- every personal field of an erased case's record is blank, sealed or not (old clear-text
  records included), so a replay after erasure gives the same blanked views.
A blank field is null in the timeline text and None in the decoded event; to pass the payload
models (which describe what agencies send, where the field is required) the record is validated
with a placeholder in its place (`fields.placeholder`), replaced by None after (`finish`).
A sealed field that does not decrypt (tampered, or under another key) makes the record invalid:
it goes to the dead-letter topic as it was produced, ciphertext and all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from events import Envelope, InvalidEvent
from events.codec import Problem
from services.privacy import keystore
from services.privacy.fields import (
    ERASED,
    ERASED_MARKER,
    SEALED_MARKER,
    is_sealed,
    open_value,
    personal_fields,
    placeholder,
)
from services.privacy.keyring import Keyring
from services.privacy.keystore import CaseKey


@dataclass(frozen=True)
class Opened:
    value: bytes  # what to decode (placeholders where a field is blank)
    text: str  # the envelope for the timeline (null where a field is blank)
    blanked: tuple[str, ...]

    def finish(self, event: Envelope) -> Envelope:
        """The decoded event with its blank fields None."""
        if not self.blanked:
            return event
        payload = event.payload.model_copy(update=dict.fromkeys(self.blanked))
        return event.model_copy(update={"payload": payload})


class Opener:
    """`keys`: the case keys known up front (a batch's); `lookup`: how to read one more case's key
    (a bulk replay reads them as it meets sealed records); `erased`: cases known to be erased."""

    def __init__(
        self,
        keys: dict[str, CaseKey],
        lookup: Callable[[str], CaseKey | None] | None = None,
        erased: frozenset[str] = frozenset(),
    ) -> None:
        self._keys: dict[str, CaseKey | None] = dict(keys)  # None: looked up, no key held
        self._lookup = lookup
        self._erased = erased

    @classmethod
    def for_batch(cls, database: Engine | Connection, keyring: Keyring, keys: Sequence[bytes | None]) -> Opener:
        """The keys of the batch's cases (`keys`: the records' Kafka keys, their case ids).
        Raises `MasterKeyMissing` when a key is wrapped by a master key this process lacks."""
        case_ids = {key.decode(errors="replace") for key in keys if key}
        if isinstance(database, Connection):
            return cls(keystore.load(database, keyring, case_ids))
        with database.connect() as connection:
            return cls(keystore.load(connection, keyring, case_ids))

    @classmethod
    def reading(cls, engine: Engine, keyring: Keyring) -> Opener:
        """For a whole log (bulk replay): the key store read once (a few hundred bytes per case),
        each key unwrapped when a sealed record of its case first needs it."""
        with engine.connect() as connection:
            rows = keystore.wrapped_keys(connection)
        erased = frozenset(case_id for case_id, (wrapped, _master) in rows.items() if wrapped is None)

        def lookup(case_id: str) -> CaseKey | None:
            wrapped, master_key_id = rows.get(case_id, (None, None))
            if wrapped is None:
                return None
            if master_key_id is None:
                raise ValueError(f"the data key of case {case_id} names no master key; restore its data_keys row")
            return CaseKey(case_id, keyring.unwrap(case_id, wrapped, master_key_id))

        return cls({}, lookup, erased)

    def _is_erased(self, case_id: str) -> bool:
        known = self._keys.get(case_id)
        return case_id in self._erased or (known is not None and known.erased)

    def _case_key(self, case_id: str) -> CaseKey | None:
        if case_id not in self._keys and self._lookup is not None:
            self._keys[case_id] = self._lookup(case_id)
        return self._keys.get(case_id)

    def open(self, key: bytes | None, value: bytes) -> Opened | None:
        erased = key is not None and self._is_erased(key.decode(errors="replace"))
        if SEALED_MARKER not in value and ERASED_MARKER not in value and not erased:
            return None
        try:
            data = json.loads(value)
        except ValueError:
            return None  # the decoder says what is wrong with it
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
            return None
        named = data.get("case_id")
        case_id = named if isinstance(named, str) else ""
        erased = self._is_erased(case_id)
        fields = personal_fields(data["event_type"]) if isinstance(data.get("event_type"), str) else ()
        payload, event_id = data["payload"], str(data.get("event_id"))
        aead: AESGCM | Literal[False] | None = None  # False: the case has no key
        blanked = []
        for name in fields:
            if name not in payload:
                continue
            value_of = payload[name]
            if erased or value_of == ERASED:  # erased: nothing personal survives, sealed or not
                value_of = None
            elif is_sealed(value_of):
                if aead is None:
                    case_key = self._case_key(case_id)
                    aead = AESGCM(case_key.key) if case_key is not None and case_key.key is not None else False
                value_of = _open(aead, event_id, name, value_of) if aead else None  # no key: blank
            payload[name] = value_of
            if value_of is None:
                blanked.append(name)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if blanked:
            payload.update({name: placeholder(name) for name in blanked})
            value = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        else:
            value = text.encode()
        return Opened(value, text, tuple(blanked))


def _open(aead: AESGCM, event_id: str, name: str, sealed: dict) -> object:
    try:
        return open_value(aead, event_id, sealed)
    except (InvalidTag, ValueError) as error:
        raise InvalidEvent(
            [
                Problem(
                    f"payload.{name}",
                    "a sealed field does not decrypt with its case's key "
                    f"({type(error).__name__}): tampered, or sealed under another key",
                )
            ]
        ) from None


def read_record(database: Engine | Connection, keyring: Keyring, key: bytes | str | None, value: bytes) -> Envelope:
    """One record of the journey topic as the worker folds it (decrypted, or blank if erased)."""
    import events

    key = key.encode() if isinstance(key, str) else key
    opened = Opener.for_batch(database, keyring, [key]).open(key, value)
    return events.decode(value) if opened is None else opened.finish(events.decode(opened.value))
