"""The AsyncAPI 3.0 document of Passage's three topics, and a tiny YAML writer for it.

Records on `passage.journey.v1` are the *stamped* envelope (recorded_at and source set by the
gateway); each message points at the payload definition inside its `schemas/<type>.v<n>.json`.
The alert change and dead-letter messages are described from SPEC sections 1 and 6.
Personal fields (events/personal.py) are sealed on the topic: a message of a type that has them
says its payload is either the clear form (records written before encryption) or the sealed form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from events.catalogue import EventSpec
from events.enums import AgencyKind, AlertCode, AlertStatus, Severity
from events.personal import ERASED_FIELD, SEALED_FIELD, personal_fields
from events.types import CASE_ID_PATTERN, DATETIME_PATTERN, UUID_PATTERN

KAFKA = {"bindingVersion": "0.5.0"}
_KEY = {"kafka": {**KAFKA, "key": {"type": "string", "pattern": CASE_ID_PATTERN, "description": "case_id"}}}
_TIME = {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}
_TIME_OR_NULL = {"anyOf": [_TIME, {"type": "null"}]}
_TEXT_OR_NULL = {"type": ["string", "null"]}

RECORDED_ENVELOPE = {
    "type": "object",
    "description": "An event as stored on the log: the publisher's envelope plus the gateway's stamp.",
    "properties": {
        "event_id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
        "event_type": {"type": "string"},
        "schema_version": {"type": "integer", "minimum": 1},
        "case_id": {"type": "string", "pattern": CASE_ID_PATTERN},
        "occurred_at": _TIME,
        "correlation_id": _TEXT_OR_NULL,
        "payload": {"type": "object"},
        "recorded_at": {**_TIME, "description": "When the gateway accepted it, UTC."},
        "source": {
            "type": "object",
            "properties": {
                "agency_id": {"type": "string"},
                "agency_kind": {"type": "string", "enum": [kind.value for kind in AgencyKind]},
            },
            "required": ["agency_id", "agency_kind"],
            "additionalProperties": False,
        },
    },
    "required": [
        "event_id",
        "event_type",
        "schema_version",
        "case_id",
        "occurred_at",
        "payload",
        "recorded_at",
        "source",
    ],
    "additionalProperties": False,
}

ALERT_CHANGE = {
    "type": "object",
    "description": "The alert's state after a change (SPEC section 6); key = case_id.",
    "properties": {
        "alert_id": {"type": "string"},
        "case_id": {"type": "string", "pattern": CASE_ID_PATTERN},
        "code": {"type": "string", "enum": [code.value for code in AlertCode]},
        "severity": {"type": "string", "enum": [severity.value for severity in Severity]},
        "status": {"type": "string", "enum": [status.value for status in AlertStatus]},
        "raised_at": _TIME,
        "trigger_event_id": {"type": ["string", "null"], "description": "null for time rules"},
        "acknowledged_by": _TEXT_OR_NULL,
        "acknowledged_at": _TIME_OR_NULL,
        "resolved_by": _TEXT_OR_NULL,
        "resolved_at": _TIME_OR_NULL,
        "note": _TEXT_OR_NULL,
        "recorded_at": {**_TIME_OR_NULL, "description": "when Passage recorded the raising event (SPEC section 10)"},
        "escalated_at": {**_TIME_OR_NULL, "description": "when the sweep escalated it (SPEC section 10)"},
    },
    "required": ["alert_id", "case_id", "code", "severity", "status", "raised_at"],
}


def asyncapi_document(catalogue: Mapping[str, EventSpec], schema_file: Callable[[str, int], str]) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for spec in catalogue.values():
        for version, model in sorted(spec.models.items()):
            messages[f"{spec.event_type}.v{version}"] = {
                "name": spec.event_type,
                "title": f"{model.__name__} (v{version})",
                "contentType": "application/json",
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/RecordedEnvelope"},
                        {
                            "properties": {
                                "event_type": {"const": spec.event_type},
                                "schema_version": {"const": version},
                                "payload": _payload(
                                    spec.event_type,
                                    f"./{schema_file(spec.event_type, version)}#/$defs/{model.__name__}",
                                ),
                            }
                        },
                    ]
                },
                "bindings": _KEY,
            }
    refs = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Passage event log",
            "version": "1.0.0",
            "description": "Topics of Passage. Names carry the prefix PASSAGE_TOPIC_PREFIX (default "
            "`passage`). Generated from events/ by `passage schemas generate`; do not edit.",
        },
        "defaultContentType": "application/json",
        "channels": {
            "journey": {
                "address": "passage.journey.v1",
                "description": "Every journey and officer event, the system of record. Key = case_id, "
                "so one case's events stay in order. Personal fields are sealed with the "
                "case's data key (SealedField); such records carry the header "
                "`encryption: passage-fields-v1`.",
                "messages": refs,
                "bindings": {"kafka": {**KAFKA, "topic": "passage.journey.v1"}},
            },
            "alerts": {
                "address": "passage.alerts.v1",
                "description": "Every alert state change. Key = case_id.",
                "messages": {"alertChanged": {"$ref": "#/components/messages/alertChanged"}},
                "bindings": {"kafka": {**KAFKA, "topic": "passage.alerts.v1"}},
            },
            "dlq": {
                "address": "passage.journey.dlq",
                "description": "Journey records the projector could not use, unchanged, with the reason in headers.",
                "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
                "bindings": {"kafka": {**KAFKA, "topic": "passage.journey.dlq"}},
            },
        },
        "operations": {
            "recordEvent": _operation(
                "send", "journey", refs, "The gateway (and Passage's own services) append a validated, stamped event."
            ),
            "projectEvent": _operation(
                "receive", "journey", refs, "The worker folds events into the welfare and protection views."
            ),
            "publishAlertChange": _operation(
                "send", "alerts", {"alertChanged": None}, "The worker publishes each alert change."
            ),
            "deadLetter": _operation(
                "send", "dlq", {"deadLetter": None}, "The worker sets aside a record it cannot use."
            ),
        },
        "components": {
            "schemas": {
                "RecordedEnvelope": RECORDED_ENVELOPE,
                "AlertChange": ALERT_CHANGE,
                "SealedField": SEALED_FIELD,
                "ErasedField": ERASED_FIELD,
            },
            "messages": {
                **messages,
                "alertChanged": {
                    "name": "alert_changed",
                    "contentType": "application/json",
                    "payload": {"$ref": "#/components/schemas/AlertChange"},
                    "bindings": _KEY,
                },
                "deadLetter": {
                    "name": "dead_letter",
                    "summary": "The original record value and key, as they were.",
                    "headers": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Why the record was set aside (set by the worker).",
                    },
                    "payload": {},
                    "bindings": _KEY,
                },
            },
        },
    }


def _payload(event_type: str, clear_ref: str) -> dict[str, Any]:
    """The payload schema on the topic: the clear model, or for a type with personal fields either
    that (a record from before encryption) or the same object with those fields sealed."""
    fields = personal_fields(event_type)
    if not fields:
        return {"$ref": clear_ref}
    sealed = {
        "anyOf": [
            {"$ref": "#/components/schemas/SealedField"},
            {"$ref": "#/components/schemas/ErasedField"},
            {"type": "null"},
        ]
    }
    return {
        "anyOf": [
            {"$ref": clear_ref, "description": "record format 1: personal fields in clear (written before encryption)"},
            {
                "type": "object",
                "description": "the payload with each personal field sealed; the other fields as in the clear form",
                "properties": dict.fromkeys(fields, sealed),
            },
        ]
    }


def _operation(action: str, channel: str, messages: Mapping[str, Any], summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in messages],
    }


# --- YAML: block style for reading, with every scalar written as JSON (which YAML accepts).
_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_.$/-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def to_yaml(value: Any) -> str:
    """Deterministic YAML for a JSON-compatible value."""
    return "\n".join(_lines(value, 0)) + "\n"


def _key(key: str) -> str:
    plain = _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS
    return key if plain else json.dumps(key, ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines += [f"{pad}{_key(key)}:", *_lines(item, indent + 2)]
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(item)}")
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _lines(item, indent + 2)
                lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return lines
    return [f"{pad}{_scalar(value)}"]


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # {} and [] included: flow style
