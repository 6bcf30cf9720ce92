"""Sign in with an officer token, sign out.

The token is checked by the API's own `current_officer` (same message for unknown and disabled
tokens). The sign-in form is protected against login CSRF by a double-submit token: a random
value in a short-lived cookie and in the form, which another site can neither read nor set.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from services.console.sessions import COOKIE, close_session, open_session
from services.console.web import PREFIX, ConsoleDb, Officer, check_csrf, clients_of, render, safe_next
from services.logs import get_logger
from services.query.auth import current_officer
from services.web import ApiError

log = get_logger(__name__)
router = APIRouter()
SIGN_IN_COOKIE = "passage_console_signin"
FormText = Annotated[str, Form(max_length=2000)]


def _cookie_options(request: Request) -> dict:
    return {"path": PREFIX, "httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


def _sign_in_page(request: Request, status: int = 200, error: str | None = None, next_page: str = "") -> Response:
    csrf_token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", status, csrf_token=csrf_token, error=error, next_page=next_page)
    response.set_cookie(SIGN_IN_COOKIE, csrf_token, max_age=3600, **_cookie_options(request))
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse(f"{PREFIX}/inbox", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "") -> Response:
    return _sign_in_page(request, next_page=safe_next(next, ""))


@router.post("/sign-in")
def sign_in(
    request: Request, db: ConsoleDb, token: FormText = "", csrf_token: FormText = "", next: FormText = ""
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _sign_in_page(
            request,
            400,
            "The sign-in form had expired or your browser refused its cookie. "
            "Allow cookies for this site and sign in again.",
            safe_next(next, ""),
        )
    clients = clients_of(request)
    try:
        officer = current_officer(db, clients, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip()))
    except ApiError as error:
        message = (
            (
                "That officer token is not valid (unknown or disabled). Check you copied all of it, "
                "or ask an administrator for a new one."
            )
            if error.status == 401
            else error.message
        )
        return _sign_in_page(request, error.status, message, safe_next(next, ""))
    hours = clients.settings.console_session_hours
    cookie = open_session(db, clients.settings.secret_key, officer.id, hours)
    log.info("console session opened", officer_id=officer.id)
    response = RedirectResponse(safe_next(next, f"{PREFIX}/inbox"), status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=int(hours * 3600), **_cookie_options(request))
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: Officer, db: ConsoleDb, csrf_token: FormText = "") -> Response:
    check_csrf(session, csrf_token)
    close_session(db, clients_of(request).settings.secret_key, request.cookies.get(COOKIE))
    log.info("console session closed", officer_id=session.officer.id)
    response = RedirectResponse(f"{PREFIX}/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
