"""The agency registry: who may publish, as which kind, with which key (only its HMAC is stored)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from events import AgencyKind, Source
from services.logs import get_logger
from services.secrets import hash_secret, new_secret
from services.storage.db import connected, session_scope, set_disabled
from services.storage.tables import Agency, table_of

log = get_logger(__name__)

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


class KeyRefused(Exception):
    """The key holds no enabled agency (any more): HTTP 401."""


class RegistryUnreachable(Exception):
    """The agency registry could not be read: HTTP 503, not 401."""


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
    """Disable (refused from its next request on: every request reads the registry, see
    `Credentials`) or enable an agency; False when there is no such agency."""
    return set_disabled(engine, Agency, agency_id, disabled)


class Credentials:
    """Agency keys as the gateway checks them on every request.

    Revocation is immediate: `holders` reads the registry for every request (a disabled agency or
    a rotated key is refused from the next request on, whichever process changed it). What is
    remembered is only a hint, `seen`: a key that held an agency before. The gateway uses it to
    read the body and check the key in the same round trip to its worker thread as the event
    itself; an unseen key is checked before the body is read, so answers keep their SPEC order."""

    def __init__(self, engine: Engine, server_secret: str) -> None:
        self._engine = engine
        self._secret = server_secret
        self._seen: dict[str, Source] = {}

    def key_hash(self, key: str) -> str:
        return hash_secret(self._secret, key)

    def seen(self, key_hash: str) -> Source | None:
        """The agency this key held when last checked (no I/O; never a grant on its own)."""
        return self._seen.get(key_hash)

    def connect(self) -> Connection:
        """A connection to the registry's database (for `holders` and whatever else the caller
        reads there). `RegistryUnreachable` when there is none to be had: 503, not 401."""
        try:
            return self._engine.connect()
        except SQLAlchemyError as error:
            raise _unreachable(error) from None

    def holders(self, key_hashes: Collection[str], connection: Connection | None = None) -> dict[str, Source]:
        """The enabled agencies holding these keys now, by key hash (absent: unknown, disabled,
        or not an agency kind), read on `connection` (else on one of its own).
        `RegistryUnreachable` when the database fails: 503, not 401."""
        wanted = sorted(set(key_hashes))
        if not wanted:
            return {}
        try:
            with connected(self._engine, connection) as reading:
                rows = reading.execute(_HOLDERS, {"hashes": wanted}).all()
        except SQLAlchemyError as error:
            raise _unreachable(error) from None
        found = {
            row.key_hash: Source(agency_id=row.id, agency_kind=AgencyKind(row.kind))
            for row in rows
            if not row.disabled and row.kind in AGENCY_KINDS
        }
        for key_hash in wanted:
            if key_hash in found:
                if len(self._seen) >= MAX_SEEN_KEYS:
                    self._seen.clear()
                self._seen[key_hash] = found[key_hash]
            else:
                self._seen.pop(key_hash, None)
        return found


def _unreachable(error: SQLAlchemyError) -> RegistryUnreachable:
    log.warning("agency registry unreachable", error=type(error).__name__)
    return RegistryUnreachable()


MAX_SEEN_KEYS = 10_000
# A Core query, not an ORM session: this runs on every request and costs half as much.
_agencies = table_of(Agency)
_HOLDERS = select(_agencies.c.key_hash, _agencies.c.id, _agencies.c.kind, _agencies.c.disabled).where(
    _agencies.c.key_hash.in_(bindparam("hashes", expanding=True))
)


def authenticate(engine: Engine, server_secret: str, key: str) -> Source | None:
    """The enabled agency holding `key`, as the `source` the gateway stamps; None when the key is
    unknown, the agency is disabled, or its kind is not an agency kind.
    `RegistryUnreachable` when the database fails: the caller answers 503, not 401."""
    credentials = Credentials(engine, server_secret)
    key_hash = credentials.key_hash(key)
    return credentials.holders([key_hash]).get(key_hash)
