"""The officer registry: who may use the query API, with which role and jurisdiction.

A token is shown once to whoever runs `passage officer add`; only its HMAC is stored. Adding an
existing id again rotates the token (the old one stops working at once) and replaces role and
scopes. `passage officer disable` refuses the token from the next request on (every request reads
the registry; nothing is cached); a disabled officer is not re-added by `add` (which would quietly
give access back) but by `passage officer enable` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from services.query.scope import normalise_scope
from services.secrets import hash_secret, new_secret
from services.storage.db import session_scope, set_disabled
from services.storage.tables import Officer

ROLES = ("officer", "supervisor")
TOKEN_PREFIX = "pot"


@dataclass(frozen=True)
class Registered:
    officer_id: str
    role: str
    scopes: list[str]
    token: str
    rotated: bool


def add_officer(engine: Engine, secret_key: str, officer_id: str, role: str, scopes: Sequence[str]) -> Registered:
    """Create or re-key an officer. Raises ValueError (with what to fix) for a bad role or scope."""
    if not 1 <= len(officer_id) <= 64:
        raise ValueError("the officer id must be 1-64 characters")
    if role not in ROLES:
        raise ValueError(f"invalid role {role!r}: use one of {', '.join(ROLES)}")
    if not scopes:
        raise ValueError("give at least one --scope (dest:XX, origin:<region> or *)")
    normalised = sorted({normalise_scope(scope) for scope in scopes})
    token = new_secret(TOKEN_PREFIX)
    token_hash = hash_secret(secret_key, token)
    with session_scope(engine) as session:
        officer = session.get(Officer, officer_id)
        if officer is not None and officer.disabled:
            raise ValueError(
                f"officer {officer_id} is disabled; run `passage officer enable {officer_id}` first "
                "if they may read again (then add them to rotate the token)"
            )
        rotated = officer is not None
        if officer is None:
            officer = Officer(
                id=officer_id, role=role, scopes=normalised, token_hash=token_hash, created_at=datetime.now(UTC)
            )
        else:
            officer.role, officer.scopes, officer.token_hash = role, normalised, token_hash
        session.add(officer)
    return Registered(officer_id, role, normalised, token, rotated)


def set_officer_disabled(engine: Engine, officer_id: str, disabled: bool) -> bool:
    """Disable or enable an officer; False when there is no such officer."""
    return set_disabled(engine, Officer, officer_id, disabled)
