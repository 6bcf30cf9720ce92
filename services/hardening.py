"""HTTP rules that hold for both services (SPEC section 7, "Rules that hold for both services").

- Every response carries `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` (and a
  Content-Security-Policy that lets a page load nothing from another host).
- JSON nested deeper than `MAX_JSON_DEPTH` levels is malformed (400), checked on the raw bytes
  before any parser recurses into it; the gateway checks in `admission.parse_json`, the query
  service in `JsonBodyLimits`.
- An error no handler expected is a JSON 500 and one log line naming its type and where it was
  raised: never a traceback (a RecursionError's runs to a thousand frames, and a message may
  quote personal data or SQL parameters).
- `/docs` is a page of our own that loads nothing from a third-party host, and is off (404)
  when `PASSAGE_ENV=production`; `/openapi.json` stays.
"""

from __future__ import annotations

import json
import re
import traceback

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.logs import get_logger
from services.web import error_body

log = get_logger(__name__)

MAX_JSON_DEPTH = 32
MAX_QUERY_BODY_BYTES = 1024 * 1024  # officer actions are notes of at most 10,000 characters
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENING = frozenset(b"[{")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = (
    b"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    b"connect-src 'self'; frame-ancestors 'none'"
)
_DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar), without recursion.
    Brackets inside strings do not count; on text that is not JSON the answer is only a bound."""
    depth = deepest = 0
    for bracket in _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS):
        if bracket in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def too_deep(body: bytes) -> str | None:
    """Why a JSON body is malformed for its nesting, or None when it is within the limit."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None  # no deeper than its opening brackets: most bodies need no scan (issue 20)
    if json_depth(body) > MAX_JSON_DEPTH:
        return f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels; flatten it"
    return None


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] == "/docs" else API_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # A mounted app with a policy of its own keeps it (the officer console loads its stylesheet).
                own = any(bytes(name).lower() == b"content-security-policy" for name, _ in headers)
                message["headers"] = [*headers, *HEADERS, *(() if own else ((b"content-security-policy", policy),))]
            await send(message)

        await self.app(scope, receive, with_headers)


class Unexpected:
    """Pure ASGI middleware: an exception no handler took becomes a JSON 500 and one log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as error:  # the boundary: log what and where, never the message or locals
            frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
            where = f"{frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno}" if frame else "unknown"
            log.error("unexpected error", error=type(error).__name__, where=where, path=scope["path"])
            if not started:
                await _send_json(
                    send,
                    500,
                    error_body(
                        "internal",
                        "an unexpected error; it is logged. Retry, or report it with the time of the request",
                    ),
                )


class JsonBodyLimits:
    """Pure ASGI middleware for the query service: a request body is at most
    `MAX_QUERY_BODY_BYTES` (413) and nested at most `MAX_JSON_DEPTH` levels (400), checked before
    FastAPI parses it. The body is read here once and handed on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_QUERY_BODY_BYTES:
                await _send_json(
                    send,
                    413,
                    error_body("payload_too_large", "the body is over 1 MiB; an officer action is a short JSON object"),
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        scope.setdefault("state", {})["raw_body"] = body  # for the Idempotency-Key fingerprint (query.actions)
        problem = too_deep(body)
        if problem is not None:
            await _send_json(send, 400, error_body("malformed_request", problem))
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def install(app: FastAPI, *, production: bool, title: str, limit_bodies: bool = False) -> None:
    """The rules above on `app`: call once, after its routes and other middleware are added.
    `limit_bodies`: check request bodies here (the gateway checks its own while streaming them)."""
    app.router.routes = [route for route in app.router.routes if getattr(route, "path", None) not in _DOCS_PATHS]
    if not production:
        page = DOCS_PAGE.replace("{title}", title)

        @app.get("/docs", include_in_schema=False)
        def docs() -> HTMLResponse:
            return HTMLResponse(page)

    if limit_bodies:
        app.add_middleware(JsonBodyLimits)
    app.add_middleware(Unexpected)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every answer above gets the headers


async def _send_json(send: Send, status: int, body: dict) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


# The API reference from /openapi.json, rendered by a few lines of inline script: no asset from
# another host (a CDN could change what runs next to an officer's token), nothing to install.
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.5rem;overflow:auto}
h2{border-bottom:1px solid #ccc}.m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}</style>
</head><body><h1>{title}</h1><p>From <a href="openapi.json">openapi.json</a>.</p><div id="api"></div>
<script>
fetch("openapi.json").then(r => r.json()).then(doc => {
  const root = document.getElementById("api");
  const add = (parent, tag, text) => { const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text; parent.appendChild(e); return e; };
  if (doc.info && doc.info.description) add(root, "p", doc.info.description);
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(ops)) {
      const h = add(root, "h2"); add(h, "span", method).className = "m"; add(h, "code", path);
      if (op.summary) add(root, "p", op.summary);
      if (op.description) add(root, "p", op.description);
      for (const p of op.parameters || []) add(root, "div", `${p.in} ${p.name}${p.required ? " (required)" : ""}`);
      add(root, "div", "responses: " + Object.keys(op.responses || {}).join(", "));
    }
  }
  add(root, "h2", "Schemas");
  add(root, "pre", JSON.stringify((doc.components || {}).schemas || {}, null, 2));
});
</script></body></html>
"""
