"""The gateway's API models for the OpenAPI document (SPEC section 7).

The routes read their bodies as raw bytes (size limits before parsing, every problem reported at
once), so the request schemas are declared here by hand and added to the document's components.
Each payload's own schema lives in `schemas/`, generated from `events/`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from events import CATALOGUE
from events.types import CASE_ID_PATTERN, UUID_PATTERN
from services.gateway.admission import MAX_BATCH_EVENTS


class Accepted(BaseModel):
    event_id: str
    status: Literal["accepted"] = "accepted"


class ItemError(BaseModel):
    code: str  # forbidden | not_party_to_case | conflicting_duplicate | invalid | payload_too_large
    path: str
    message: str


class BatchResult(BaseModel):
    event_id: str | None  # as sent; null when the item had none
    status: Literal["accepted", "rejected"]
    errors: list[ItemError]


class BatchResults(BaseModel):
    results: list[BatchResult]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[Any]


class ErrorBody(BaseModel):
    error: ErrorDetail


_AGENCY_TYPES = sorted(t for t in CATALOGUE if not t.startswith("case."))
SCHEMAS: dict[str, dict[str, Any]] = {
    "Event": {
        "type": "object",
        "description": "An event envelope as an agency publishes it (SPEC section 2); the gateway "
        "adds recorded_at and source. Each payload's schema is in schemas/.",
        "additionalProperties": False,
        "required": ["event_id", "event_type", "schema_version", "case_id", "occurred_at", "payload"],
        "properties": {
            "event_id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
            "event_type": {"type": "string", "enum": _AGENCY_TYPES},
            "schema_version": {"type": "integer", "minimum": 1},
            "case_id": {"type": "string", "pattern": CASE_ID_PATTERN},
            "occurred_at": {"type": "string", "format": "date-time"},
            "correlation_id": {"type": ["string", "null"], "maxLength": 128},
            "payload": {"type": "object"},
        },
    },
    "EventBatch": {
        "type": "object",
        "additionalProperties": False,
        "required": ["events"],
        "properties": {
            "events": {"type": "array", "maxItems": MAX_BATCH_EVENTS, "items": {"$ref": "#/components/schemas/Event"}}
        },
    },
}


# The routes read the Authorization header themselves (no FastAPI dependency on the hot path), so
# the bearer scheme is declared here too.
SECURITY_SCHEMES = {"HTTPBearer": {"type": "http", "scheme": "bearer"}}


def request_body(schema: str) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is the named schema, sent with an agency key."""
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {"requestBody": {"required": True, "content": content}, "security": [{"HTTPBearer": []}]}


def install_openapi(app: FastAPI) -> None:
    """FastAPI's document plus the hand-declared request schemas and security scheme."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = document.setdefault("components", {})
            components.setdefault("schemas", {}).update(SCHEMAS)
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
