"""The officer registry: who may use the query API, with which role and jurisdiction.

A token is shown once to whoever runs `passage officer add`; only its HMAC is stored. Adding an
existing id again rotates the token (the old one stops working at once), replaces role and
scopes, and re-enables the officer: re-adding is how access is given back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from services.query.scope import normalise_scope
from services.secrets import hash_secret, new_secret
from services.storage.db import session_scope
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
        rotated = officer is not None
        if officer is None:
            officer = Officer(id=officer_id, role=role, scopes=normalised, token_hash=token_hash,
                              created_at=datetime.now(UTC))
        else:
            officer.role, officer.scopes, officer.token_hash, officer.disabled = role, normalised, token_hash, False
        session.add(officer)
    return Registered(officer_id, role, normalised, token, rotated)
