"""What every console page shares: templates, the signed-in officer, CSRF checks, and calling the
query API's own route functions.

The console reads through the very functions the JSON routes run (`services.query.routes_*`), with
the officer of the session in place of the bearer token, so scoping, 404 and audit are the API's by
construction; they answer a JSON `Response`, which `call` turns back into plain data for a template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from services.console import names, sentences
from services.console.later_routes import SCORECARDS, endpoint
from services.console.sessions import COOKIE, SignedIn, signed_in
from services.query.deps import Clients, ViewSession

PREFIX = "/console"
HERE = Path(__file__).resolve().parent
_SAFE_NEXT = re.compile(r"^/console/[A-Za-z0-9_\-/?=&%.+]*$")


class SignInRequired(Exception):
    """No live session: the page answers with the sign-in page."""


class BadForm(Exception):
    """A form without a valid CSRF token (stale page, or a request forged by another site)."""


def _environment() -> Environment:
    # auto_reload off: templates ship with the package and never change under a running service,
    # so no page pays a stat() per template it uses.
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        prefix=PREFIX,
        country=names.country_name,
        occupation=names.occupation_name,
        stage_label=names.stage_label,
        stages=names.STAGES,
        day=sentences.day,
        money=sentences.money,
        words=sentences.words,
    )
    env.filters["when"] = lambda moment: sentences.day(moment) if moment else "—"
    return env


TEMPLATES = _environment()


def render(
    request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    parent = request.app.state.parent
    scorecards = [kind for kind, route in SCORECARDS.items() if endpoint(parent, *route) is not None]
    html = TEMPLATES.get_template(template).render(request=request, scorecards=scorecards, **context)
    return HTMLResponse(html, status_code=status, headers=headers)


def clients_of(request: Request) -> Clients:
    return request.app.state.parent.state.clients  # the query app's clients, replaced there by tests


def get_db(request: Request) -> Iterator[Session]:
    db = ViewSession(clients_of(request).engine)  # see services.query.deps
    try:
        yield db
    finally:
        db.close()


ConsoleDb = Annotated[Session, Depends(get_db)]


def current_session(request: Request, db: ConsoleDb) -> SignedIn:
    found = signed_in(db, clients_of(request).settings.secret_key, request.cookies.get(COOKIE))
    if found is None:
        raise SignInRequired()
    request.state.session = found  # the page layout shows who is signed in and the sign-out form
    return found


Officer = Annotated[SignedIn, Depends(current_session)]


def check_csrf(session: SignedIn, submitted: str | None) -> None:
    if not session.csrf_ok(submitted):
        raise BadForm()


def call(route: Callable[..., Any], **arguments: Any) -> Any:
    """Run a query API route function and give back its JSON answer as data (ApiError passes through)."""
    return json.loads(route(**arguments).body)


def safe_next(target: str | None, default: str) -> str:
    """Where to go after a form: only a console path (never another site)."""
    return target if target and _SAFE_NEXT.match(target) and "//" not in target else default


def with_query(path: str, **params: Any) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "", False)}
    return f"{path}?{urlencode(kept, doseq=True)}" if kept else path
