"""Version upgrades: pure `upcast_vN_vN+1(payload) -> payload` functions, chained on read.

An event type is never renamed; a new shape gets a new `schema_version` and an upcaster from
the previous one, registered in its `EventSpec.upcasters` under the version it upgrades *from*.
Old versions stay readable forever: `validate` and `decode` upgrade them to the latest.

SPEC section 3 defines only version 1 of every type, so no real upcaster exists yet; the
mechanism is proven by a test-local type (`with_event` builds a catalogue copy holding it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from events.catalogue import EventSpec

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def upcast(spec: EventSpec, payload: dict[str, Any], from_version: int) -> dict[str, Any]:
    """Apply the chain of upcasters from `from_version` up to `spec.latest_version`."""
    for version in range(from_version, spec.latest_version):
        step = spec.upcasters.get(version)
        if step is None:
            raise LookupError(f"{spec.event_type}: no upcaster from v{version} to v{version + 1}")
        payload = step(dict(payload))  # a copy: upcasters may build on their input freely
    return payload


def with_event(catalogue: Mapping[str, EventSpec], spec: EventSpec) -> dict[str, EventSpec]:
    """A new catalogue: `catalogue` plus (or with a replaced) `spec`. The input is untouched."""
    return {**catalogue, spec.event_type: spec}
