"""Console sessions: server-side rows (`console_sessions`), looked up by the HMAC of the cookie.

Decision (SPEC 13 leaves the mechanism open): sessions live in a table rather than in signed
cookies. The cookie is a random 256-bit token; the table keeps only its HMAC under
PASSAGE_SECRET_KEY, the officer, the session's CSRF token and when it expires. Signing out deletes
the row, so a copied cookie opens nothing afterwards; an expired row opens nothing either (and is
deleted at the next sign-in). Every request re-reads the officer in the same statement, so a
disabled officer or a changed scope takes effect on the next page, as with bearer tokens.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from services.logs import get_logger
from services.query.auth import Principal
from services.query.scope import Jurisdiction
from services.query.sql import officers
from services.secrets import hash_secret
from services.storage.tables import ConsoleSession, table_of

log = get_logger(__name__)
sessions: Table = table_of(ConsoleSession)
COOKIE = "passage_console"


@dataclass(frozen=True)
class SignedIn:
    officer: Principal
    csrf_token: str

    def csrf_ok(self, submitted: str | None) -> bool:
        return (
            submitted is not None
            and submitted != ""
            and hmac.compare_digest(submitted.encode(), self.csrf_token.encode())
        )


SESSION_OFFICER = select(
    officers.c.id, officers.c.role, officers.c.scopes, officers.c.disabled, sessions.c.csrf_token
).select_from(sessions.join(officers, officers.c.id == sessions.c.officer_id))


def open_session(db: Session, secret_key: str, officer_id: str, hours: float, now: datetime | None = None) -> str:
    """A new session for `officer_id`; returns the cookie value (shown to the browser only)."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    db.execute(delete(sessions).where(sessions.c.expires_at <= now))
    db.execute(
        insert(sessions).values(
            token_hash=hash_secret(secret_key, token),
            officer_id=officer_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token


def signed_in(db: Session, secret_key: str, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The officer of a live session, or None (no cookie, signed out, expired, officer disabled)."""
    if not token or len(token) > 128:
        return None
    now = now or datetime.now(UTC)
    row = db.execute(
        SESSION_OFFICER.where(sessions.c.token_hash == hash_secret(secret_key, token), sessions.c.expires_at > now)
    ).first()
    if row is None or row.disabled:
        return None
    try:
        jurisdiction = Jurisdiction.of(row.scopes)
    except ValueError as error:
        log.warning("officer has an invalid scope", officer_id=row.id, error=str(error))
        return None
    return SignedIn(Principal(id=row.id, role=row.role, jurisdiction=jurisdiction), row.csrf_token)


def close_session(db: Session, secret_key: str, token: str | None) -> None:
    if token:
        db.execute(delete(sessions).where(sessions.c.token_hash == hash_secret(secret_key, token)))
