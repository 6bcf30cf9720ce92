"""The agency registry: who may publish, as which kind, with which key (only its HMAC is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from events import AgencyKind, Source
from services.secrets import hash_secret, new_secret
from services.storage.db import session_scope, set_disabled
from services.storage.tables import Agency, table_of

# The kinds an agency may have: `passage` is Passage's own services, never an outside agency.
AGENCY_KINDS: tuple[str, ...] = tuple(kind.value for kind in AgencyKind if kind is not AgencyKind.passage)
KEY_PREFIX = "pak"


@dataclass(frozen=True)
class KeyIssued:
    """What `add_agency` did: the new key (shown once) and what changed for an existing agency."""

    key: str
    rotated: bool
    previous_kind: str | None = None
    employer_id: str | None = None


class AgencyDisabled(ValueError):
    """`add_agency` on a disabled agency: re-adding must not quietly give access back."""


def add_agency(
    engine: Engine, server_secret: str, agency_id: str, kind: str, employer_id: str | None = None
) -> KeyIssued:
    """Register an agency with a fresh key, or give an existing one a fresh key (the old key stops
    working at once) and its given kind. An employer publishes as `employer_id` (SPEC 4a; default:
    the agency id, or the one it had). A disabled agency is refused (`AgencyDisabled`): giving
    access back is a decision of its own, `enable_agency`, not a side effect of rotating a key."""
    if kind not in AGENCY_KINDS:
        raise ValueError(f"unknown agency kind {kind!r}; choose one of {', '.join(AGENCY_KINDS)}")
    if employer_id is not None and kind != AgencyKind.employer.value:
        raise ValueError(f"--employer-id is for agencies of kind employer, not {kind}")
    key = new_secret(KEY_PREFIX)
    key_hash = hash_secret(server_secret, key)
    with session_scope(engine) as session:
        row = session.get(Agency, agency_id)
        if row is not None and row.disabled:
            raise AgencyDisabled(
                f"agency {agency_id} is disabled; run `passage agency enable {agency_id}` first "
                "if it may publish again (its key is then rotated by adding it)"
            )
        if kind == AgencyKind.employer.value:
            employer_id = employer_id or (row.employer_id if row is not None else None) or agency_id
        if row is None:
            session.add(
                Agency(
                    id=agency_id, kind=kind, key_hash=key_hash, created_at=datetime.now(UTC), employer_id=employer_id
                )
            )
            return KeyIssued(key, rotated=False, employer_id=employer_id)
        issued = KeyIssued(
            key, rotated=True, previous_kind=row.kind if row.kind != kind else None, employer_id=employer_id
        )
        row.kind, row.key_hash, row.employer_id = kind, key_hash, employer_id
        session.add(row)
        return issued


def set_agency_disabled(engine: Engine, agency_id: str, disabled: bool) -> bool:
    """Disable (refused from its next request on: every request reads the registry, nothing is
    cached) or enable an agency; False when there is no such agency."""
    return set_disabled(engine, Agency, agency_id, disabled)


def authenticate(engine: Engine, server_secret: str, key: str) -> Source | None:
    """The enabled agency holding `key`, as the `source` the gateway stamps; None when the key is
    unknown, the agency is disabled, or its kind is not an agency kind.
    Database errors propagate: the caller answers 503, not 401."""
    key_hash = hash_secret(server_secret, key)
    # A Core query, not an ORM session: this runs on every request and costs half as much.
    agencies = table_of(Agency).c
    query = select(agencies.id, agencies.kind, agencies.disabled).where(agencies.key_hash == key_hash)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.disabled or row.kind not in AGENCY_KINDS:
        return None
    return Source(agency_id=row.id, agency_kind=AgencyKind(row.kind))
