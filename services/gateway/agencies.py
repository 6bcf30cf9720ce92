"""The agency registry: who may publish, as which kind, with which key (only its HMAC is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from events import AgencyKind, Source
from services.secrets import hash_secret, new_secret
from services.storage.db import session_scope
from services.storage.tables import Agency

# The kinds an agency may have: `passage` is Passage's own services, never an outside agency.
AGENCY_KINDS: tuple[str, ...] = tuple(kind.value for kind in AgencyKind if kind is not AgencyKind.passage)
KEY_PREFIX = "pak"


@dataclass(frozen=True)
class KeyIssued:
    """What `add_agency` did: the new key (shown once) and what changed for an existing agency."""

    key: str
    rotated: bool
    previous_kind: str | None = None
    reenabled: bool = False


def add_agency(engine: Engine, server_secret: str, agency_id: str, kind: str) -> KeyIssued:
    """Register an agency with a fresh key, or give an existing one a fresh key (the old key stops
    working at once), its given kind, and re-enable it: adding an agency means it may publish."""
    if kind not in AGENCY_KINDS:
        raise ValueError(f"unknown agency kind {kind!r}; choose one of {', '.join(AGENCY_KINDS)}")
    key = new_secret(KEY_PREFIX)
    key_hash = hash_secret(server_secret, key)
    with session_scope(engine) as session:
        row = session.get(Agency, agency_id)
        if row is None:
            session.add(Agency(id=agency_id, kind=kind, key_hash=key_hash, created_at=datetime.now(UTC)))
            return KeyIssued(key, rotated=False)
        issued = KeyIssued(key, rotated=True, previous_kind=row.kind if row.kind != kind else None,
                           reenabled=row.disabled)
        row.kind, row.key_hash, row.disabled = kind, key_hash, False
        session.add(row)
        return issued


def authenticate(engine: Engine, server_secret: str, key: str) -> Source | None:
    """The enabled agency holding `key`, as the `source` the gateway stamps; None when the key is
    unknown, the agency is disabled, or its kind is not an agency kind.
    Database errors propagate: the caller answers 503, not 401."""
    key_hash = hash_secret(server_secret, key)
    # A Core query, not an ORM session: this runs on every request and costs half as much.
    query = select(Agency.id, Agency.kind, Agency.disabled).where(Agency.key_hash == key_hash)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.disabled or row.kind not in AGENCY_KINDS:
        return None
    return Source(agency_id=row.id, agency_kind=AgencyKind(row.kind))
