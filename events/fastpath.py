"""The common case of `decode` in one pydantic-core call: a record of the log that is valid and
already at its type's latest version.

`codec.validate` checks an envelope in steps (the payload against its catalogue model, then the
envelope, then the clock rule) so that a refusal lists every problem with its field path. For
the records on the log, which are almost all valid, that costs about a third more than one
validation of the whole record from its bytes against a union of per-type envelopes.

`decode_valid(raw)` is that one call: an `Envelope` when the record passes, else None, and the
caller then runs the step-by-step path for the verdict and the messages. It is stricter than the
slow path, never laxer (tests/unit/events/test_event_fastpath.py holds it to that):
- the same field types and models (each typed envelope only narrows `payload` to its model);
- the tag is found only when `schema_version` is the JSON integer of the latest version, so
  older versions (which need upcasting) and forms like `1.0` take the slow path;
- `recorded_at` and `source` must be present, as `stamped=True` demands;
- pydantic-core's JSON parser refuses what Python's `json` accepts only loosely (lone surrogates,
  a byte-order mark, UTF-16), which then also takes the slow path.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError, create_model

from events.catalogue import CATALOGUE, EventSpec
from events.envelope import CHECKED, Envelope, Source
from events.types import AwareDatetime


def _typed_envelope(spec: EventSpec) -> type[Envelope]:
    model = spec.models[spec.latest_version]
    # Subclasses that add nothing: no field, validator or slot beyond Envelope's (see decode_valid).
    return create_model(
        f"{model.__name__}Envelope",
        __base__=Envelope,
        payload=(model, ...),
        recorded_at=(AwareDatetime | None, ...),
        source=(Source | None, ...),
    )


def _tag(data: Any) -> str | None:
    """The record's event type when it names one at its latest version; None: not for this path."""
    if not isinstance(data, dict):
        return None
    event_type, version = data.get("event_type"), data.get("schema_version")
    spec = CATALOGUE.get(event_type) if isinstance(event_type, str) else None
    return event_type if spec is not None and type(version) is int and version == spec.latest_version else None


# A union built at run time, so a type checker cannot see its members (hence Any): every one is an Envelope.
_TAGGED: Any = Annotated[
    Union[tuple(Annotated[_typed_envelope(spec), Tag(spec.event_type)] for spec in CATALOGUE.values())],  # noqa: UP007 - see above
    Discriminator(_tag),
]
_RECORDS: TypeAdapter[Envelope] = TypeAdapter(_TAGGED)
_CONTEXT = {CHECKED: True}  # the tag already matched the payload model to the type


def decode_valid(raw: bytes | str) -> Envelope | None:
    """The record as an `Envelope` if it is a valid, stamped, latest-version record; else None."""
    try:
        event = _RECORDS.validate_json(raw, context=_CONTEXT)
    except ValidationError:
        return None
    # The typed subclass only narrowed annotations for validation; the instance holds exactly the
    # state an Envelope holds, so it becomes one (equal to what the slow path builds, same type).
    event.__class__ = Envelope
    return event
