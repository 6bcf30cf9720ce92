"""The officer console's bootstrap: a FastAPI sub-application that the query app mounts at /console.

A sub-application of its own so that its errors are pages (not the API's JSON), its routes stay
out of the API's OpenAPI document, and its headers are set in one place. It holds no clients: it
reads the query app's (`state.parent`), so the console and the API share one engine and publisher.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.console import pages_alerts, pages_cases, pages_session, pages_stats
from services.console.web import HERE, PREFIX, BadForm, SignInRequired, render, with_query
from services.logs import get_logger
from services.web import ApiError

log = get_logger(__name__)
# Cache-Control, nosniff and Referrer-Policy come from the query app's hardening middleware, which
# leaves this policy in place of its API one: every asset is ours, no script runs, forms post here.
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'none'; object-src 'none'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]


class SecurityHeaders:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware): the console's own headers on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def create_console(parent: FastAPI) -> FastAPI:
    console = FastAPI(title="Passage officer console", openapi_url=None, docs_url=None, redoc_url=None)
    console.state.parent = parent
    console.add_middleware(SecurityHeaders)
    console.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages_session, pages_alerts, pages_cases, pages_stats):
        console.include_router(module.router)
    _install_error_pages(console)
    return console


def _install_error_pages(console: FastAPI) -> None:
    @console.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _error: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            with_query(f"{PREFIX}/sign-in", next=target if request.method == "GET" else None), status_code=303
        )

    @console.exception_handler(BadForm)
    async def _bad_form(request: Request, _error: BadForm) -> Response:
        return render(
            request,
            "error.html",
            403,
            title="This form has expired",
            message="The page you sent the form from is out of date (or the request did not come from "
            "the console). Go back, reload the page and send the form again.",
        )

    @console.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        if error.status == 404:
            return render(request, "not_found.html", 404)
        if error.status == 503:
            return _retry_page(request)
        return render(
            request,
            "error.html",
            error.status,
            title=_TITLES.get(error.status, "That did not work"),
            message=error.message,
            details=error.details,
        )

    @console.exception_handler(ValidationError)
    async def _invalid_input(request: Request, error: ValidationError) -> Response:
        details = [
            {"path": ".".join(str(part) for part in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors(include_input=False)
        ]
        return render(
            request,
            "error.html",
            422,
            title="Please check what you entered",
            message="Something in the form is not valid (text with control characters, an empty "
            "text, or a choice that is not on the list). Fix it, then send the form again.",
            details=details,
        )

    @console.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, _error: RequestValidationError) -> Response:
        return render(
            request,
            "error.html",
            400,
            title="That address or form is not valid",
            message="Something in the address or the form is too long or malformed. "
            "Go back and use the page's own links and forms.",
        )

    @console.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return render(request, "not_found.html", 404)
        return render(
            request,
            "error.html",
            error.status_code,
            title="That did not work",
            message="This page does not answer that kind of request; use the console's links and forms.",
        )

    @console.exception_handler(OperationalError)
    async def _database_down(request: Request, error: OperationalError) -> Response:
        log.warning("the view database is unreachable", error=str(error).splitlines()[0][:300])
        return _retry_page(request)


_TITLES = {409: "Already resolved", 422: "Please check what you entered", 403: "Not allowed"}


def _retry_page(request: Request) -> Response:
    return render(request, "retry.html", 503, headers={"Retry-After": "5"})
