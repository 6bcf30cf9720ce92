"""Officer authentication: `Authorization: Bearer <officer token>`, checked against the HMAC
stored by `passage officer add`. Missing, unknown and disabled tokens all answer the same 401.

Every request reads the officer registry (no cache), so a disabled officer or a rotated token is
refused from the next request on. Two ways to ask for the officer:
- `CurrentOfficer`, a dependency: FastAPI runs it in a worker thread of its own, then the route in
  another one.
- `CallerDep` and `authenticate(db, caller.token)` inside the route: the token is read on the
  event loop (no I/O; a missing one is 401 at once) and the registry in the route's own thread, so
  the request makes one thread hop instead of two. The hot reads (a case, the stats) do this: a
  hop was about a sixth of a case lookup's CPU in the query service (py-spy under load,
  bench/query.py), and each one waits for a thread to be scheduled. Decided here: on these routes
  a malformed parameter (422) is reported before an unknown or disabled token (401), since the
  parameters are checked before the route runs; a missing token is still 401 first.
The last hop stays: running the lookup's statements on the event loop itself (an `async def`
route over the same blocking driver) saved about a tenth of the service's CPU per lookup but not
its latency (interleaved same-run A/B, 2026-12-07), and would stall every request behind one slow
statement or a wait for a pooled connection. Without the hop the driver would have to be async.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.logs import get_logger
from services.query.actions import replay_if_answered
from services.query.deps import Clients, ClientsDep, Db, DbDep
from services.query.lookup import officer_row
from services.query.scope import Jurisdiction
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


@dataclass(frozen=True)
class Token:
    """The HMAC of this request's officer token, for `authenticate`."""

    token_hash: str


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def token_of(clients: Clients, credentials: HTTPAuthorizationCredentials | None) -> Token:
    if credentials is None:
        raise _unauthorized("missing officer token; send 'Authorization: Bearer <token>'")
    return Token(hash_secret(clients.settings.secret_key, credentials.credentials))


@dataclass(frozen=True)
class Caller:
    """What a hot read asks FastAPI for in one dependency: the officer's token, and the app's
    clients to open a connection with (`deps.ViewConnection`)."""

    token: Token
    clients: Clients


async def caller(request: Request, credentials: Credentials) -> Caller:
    # async: no I/O here, so it runs on the event loop without a thread hop. One dependency
    # rather than a token and `ClientsDep`: each one FastAPI solves costs CPU on every request.
    clients: Clients = request.app.state.clients
    return Caller(token_of(clients, credentials), clients)


CallerDep = Annotated[Caller, Depends(caller)]


def current_officer(db: DbDep, clients: ClientsDep, credentials: Credentials) -> Principal:
    return authenticate(db, token_of(clients, credentials))


def authenticate(db: Db, token: Token) -> Principal:
    """The officer holding `token`, read from the registry now; 401 when unknown or disabled."""
    officer = officer_row(db, token.token_hash)  # on PostgreSQL, on the driver's cursor (see lookup)
    if officer is None or officer[3]:
        raise _unauthorized(
            "unknown or disabled officer token; ask an administrator for a new one (`passage officer add`)"
        )
    officer_id, role, scopes, _disabled = officer
    try:
        jurisdiction = Jurisdiction.of(scopes)
    except ValueError as error:
        log.warning("officer has an invalid scope", officer_id=officer_id, error=str(error))
        raise ApiError(403, f"your officer record is invalid ({error}); ask an administrator to re-add you") from None
    replay_if_answered(db, officer_id)  # an officer action's Idempotency-Key, before the route's checks
    return Principal(id=officer_id, role=role, jurisdiction=jurisdiction)


def current_supervisor(officer: Annotated[Principal, Depends(current_officer)]) -> Principal:
    if not officer.is_supervisor:
        raise ApiError(403, "only supervisors may read the audit trail")
    return officer


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


CurrentOfficer = Annotated[Principal, Depends(current_officer)]
CurrentSupervisor = Annotated[Principal, Depends(current_supervisor)]
