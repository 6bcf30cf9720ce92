"""The API routes of SPEC sections 10 and 12 (assign, refer, scorecards), called when the query app
has them.

Those routes are built by another part of the project; the console must not grow a second path to
the same data, nor break while they are missing. So it finds each route in the query app by method
and path, and calls its endpoint function like the other pages call theirs: arguments by name
(`officer`, `db`, `clients`, query parameters), the JSON body as the endpoint's request model.
A route that is not there gives None, and the page leaves that part out.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Response
from fastapi.params import Param
from fastapi.routing import APIRoute
from pydantic import BaseModel

ASSIGN = ("POST", "/v1/cases/{case_id}/assign")
REFER = ("POST", "/v1/cases/{case_id}/referrals")
SCORECARDS = {"employers": ("GET", "/v1/stats/employers"), "agents": ("GET", "/v1/stats/agents")}
REFERRAL_SERVICES = ("shelter", "legal", "medical", "repatriation", "consular", "psychosocial", "financial")


def endpoint(app: FastAPI, method: str, path: str) -> Callable[..., Any] | None:
    for route_path, methods, function in _routes(app):
        if route_path == path and method in methods:
            return function
    return None


def _routes(app: FastAPI):
    """(full path, methods, endpoint) of every API route. FastAPI before 0.16x flattens included
    routers into `APIRoute`s; later versions keep them as included routers with effective routes."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route.path, route.methods, route.endpoint
        for context in getattr(route, "effective_route_contexts", lambda: ())():
            yield context.path, getattr(context.original_route, "methods", None) or (), context.endpoint


def invoke(function: Callable[..., Any], body: dict[str, Any] | None = None, **available: Any) -> Any:
    """Call a route function with the arguments it names; its answer as JSON data (ApiError passes through)."""
    hints = typing.get_type_hints(function, include_extras=True)
    arguments: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        model = _model(hints.get(name))
        if name in available:
            arguments[name] = available[name]
        elif model is not None and body is not None:
            arguments[name] = model.model_validate(body)
        elif parameter.default is not inspect.Parameter.empty:
            default = parameter.default
            arguments[name] = default.default if isinstance(default, Param) else default
    answer = function(**arguments)
    if isinstance(answer, Response):
        return json.loads(bytes(answer.body)) if answer.body else None
    if isinstance(answer, BaseModel):
        return answer.model_dump(mode="json")
    return answer


def _model(hint: Any) -> type[BaseModel] | None:
    """The request model of a body parameter (`Body` or `Body | None`), if this hint is one."""
    candidates = [hint, *typing.get_args(hint)]
    if typing.get_origin(hint) is typing.Annotated:
        candidates = [typing.get_args(hint)[0], *typing.get_args(typing.get_args(hint)[0])]
    for candidate in candidates:
        if inspect.isclass(candidate) and issubclass(candidate, BaseModel):
            return candidate
    return None
