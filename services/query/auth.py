"""Officer authentication: `Authorization: Bearer <officer token>`, checked against the HMAC
stored by `passage officer add`. Missing, unknown and disabled tokens all answer the same 401."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.logs import get_logger
from services.query.actions import replay_if_answered
from services.query.deps import ClientsDep, DbDep
from services.query.scope import Jurisdiction
from services.query.sql import OFFICER_BY_TOKEN
from services.secrets import hash_secret
from services.web import ApiError

log = get_logger(__name__)
_bearer = HTTPBearer(auto_error=False, description="an officer token printed by `passage officer add`")


@dataclass(frozen=True)
class Principal:
    """The authenticated officer of this request."""

    id: str
    role: str
    jurisdiction: Jurisdiction

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def current_officer(
    db: DbDep,
    clients: ClientsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("missing officer token; send 'Authorization: Bearer <token>'")
    token_hash = hash_secret(clients.settings.secret_key, credentials.credentials)
    officer = db.execute(OFFICER_BY_TOKEN, {"token_hash": token_hash}).first()
    if officer is None or officer.disabled:
        raise _unauthorized(
            "unknown or disabled officer token; ask an administrator for a new one (`passage officer add`)"
        )
    try:
        jurisdiction = Jurisdiction.of(officer.scopes)
    except ValueError as error:
        log.warning("officer has an invalid scope", officer_id=officer.id, error=str(error))
        raise ApiError(403, f"your officer record is invalid ({error}); ask an administrator to re-add you") from None
    replay_if_answered(db, officer.id)  # an officer action's Idempotency-Key, before the route's checks
    return Principal(id=officer.id, role=officer.role, jurisdiction=jurisdiction)


def current_supervisor(officer: Annotated[Principal, Depends(current_officer)]) -> Principal:
    if not officer.is_supervisor:
        raise ApiError(403, "only supervisors may read the audit trail")
    return officer


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


CurrentOfficer = Annotated[Principal, Depends(current_officer)]
CurrentSupervisor = Annotated[Principal, Depends(current_supervisor)]
