"""The common case of `decode` in one pydantic-core call: a record of the log that is valid and
already at its type's latest version.

`codec.validate` checks an envelope in steps (the payload against its catalogue model, then the
envelope, then the clock rule) so that a refusal lists every problem with its field path. For
the records on the log, which are almost all valid, that costs about twice one validation of the
whole record from its bytes against a union of per-type envelopes, run by pydantic-core alone.

`decode_valid(raw)` is that one call: an `Envelope` when the record passes, else None, and the
caller then runs the step-by-step path for the verdict and the messages. It is stricter than the
slow path, never laxer (tests/unit/events/test_event_fastpath.py holds it to that):
- the same field types and models (each typed envelope only narrows `event_type`, `schema_version`
  and `payload` to its type); the envelopes are built as `Envelope`, the payloads as their models;
- each Python check of `events.types` is replaced by the pydantic-core schema `events.types.NATIVE`
  gives for it (patterns, literals, strict integers: the same values or fewer); checks it has no
  equivalent for (a name's "not blank", amounts, the birth date's range) stay Python calls;
- the union is tagged by `event_type`, and `schema_version` must be the JSON integer of the latest
  version, so older versions (which need upcasting) and forms like `1.0` take the slow path;
- `recorded_at` and `source` must be present, as `stamped=True` demands;
- pydantic-core's JSON parser refuses what Python's `json` accepts only loosely (lone surrogates,
  a byte-order mark, UTF-16), which then also takes the slow path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, Strict, TypeAdapter, ValidationError, create_model
from pydantic_core import CoreSchema, SchemaValidator

from events.catalogue import CATALOGUE, EventSpec
from events.envelope import Envelope, Source
from events.types import NATIVE, AwareDatetime


def _typed_envelope(spec: EventSpec) -> type[Envelope]:
    """Envelope narrowed to one event type at its latest version: `event_type` is the union's tag,
    `schema_version` the JSON integer of that version (strict: not `1.0`, not `true`)."""
    version = spec.latest_version
    tag: Any = Literal[spec.event_type]  # a Literal of a run-time value, which a type checker cannot follow
    return create_model(
        f"{spec.models[version].__name__}Envelope",
        __base__=Envelope,
        event_type=(tag, ...),
        schema_version=(Annotated[int, Strict(), Field(ge=version, le=version)], ...),
        payload=(spec.models[version], ...),
        recorded_at=(AwareDatetime | None, ...),
        source=(Source | None, ...),
    )


# A union built at run time, so a type checker cannot see its members (hence Any): every one is an
# Envelope. Tagged by `event_type`, which pydantic-core reads itself (no Python call per record).
_TAGGED: Any = Annotated[
    Union[tuple(_typed_envelope(spec) for spec in CATALOGUE.values())],  # noqa: UP007 - see above
    Field(discriminator="event_type"),
]


def _native(schema: Any) -> Any:
    """`schema` (a core schema, or any part of one) with each Python check that `events.types.NATIVE`
    knows replaced by its pydantic-core equivalent, and the typed envelopes built as `Envelope`
    itself (they only narrowed `payload`'s annotation; the tag has matched the payload model to
    the type, so the envelope's own check of that is dropped too)."""
    if isinstance(schema, list):
        return [_native(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") in ("function-before", "function-after"):
        function = schema["function"]["function"]
        rewrite = NATIVE.get(function)
        if rewrite is None and function is Envelope._payload_matches_type:
            rewrite = _unchanged
        if rewrite is not None:
            rewritten = dict(rewrite(_native(schema["schema"])))
            if "ref" in schema:  # a definition others point to
                rewritten["ref"] = schema["ref"]
            return rewritten
    native = {name: _native(part) for name, part in schema.items()}
    if native.get("type") == "model" and isinstance(native["cls"], type) and issubclass(native["cls"], Envelope):
        native["cls"] = Envelope
    return native


def _unchanged(schema: CoreSchema) -> CoreSchema:
    return schema


def _models(schema: Any) -> set[type[BaseModel]]:
    """The model classes a core schema builds."""
    if isinstance(schema, list):
        return set().union(*map(_models, schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    found = {schema["cls"]} if schema.get("type") == "model" else set()
    return found.union(*(_models(part) for part in schema.values()))


def _validator(schema: CoreSchema) -> SchemaValidator:
    """`schema` built as it is written. pydantic-core reuses a complete model class's own validator
    wherever that class appears in a schema (its "prebuilt" shortcut), which would bring the
    payloads' Python checks back; so each class is marked incomplete while this one is built.
    (Were that shortcut ever to ignore the mark, the fast path would only be slower: the models'
    own validators accept what the slow path accepts.)"""
    complete = [cls for cls in _models(schema) if cls.__dict__.get("__pydantic_complete__")]
    for cls in complete:
        cls.__pydantic_complete__ = False
    try:
        return SchemaValidator(schema)
    finally:
        for cls in complete:
            cls.__pydantic_complete__ = True


_RECORDS = _validator(_native(TypeAdapter(_TAGGED).core_schema))


def decode_valid(raw: bytes | str) -> Envelope | None:
    """The record as an `Envelope` if it is a valid, stamped, latest-version record; else None."""
    try:
        event: Envelope = _RECORDS.validate_json(raw)
    except ValidationError:
        return None
    return event
