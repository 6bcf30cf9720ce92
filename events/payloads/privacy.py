"""Personal data events (SPEC section 9): consent changes and erasure requests."""

from pydantic import Field

from events.payloads.base import Payload
from events.types import Id, Text


class ConsentChanged(Payload):
    """The migrant gave or withdrew consent to share their identity data with officers abroad."""

    data_sharing: bool = Field(strict=True)


class ErasureRequested(Payload):
    """A supervisor (or the retention sweep, officer_id `system`) asked Passage to erase the case's
    personal data. `reason` is kept in clear for accountability: it must not hold personal data."""

    officer_id: Id
    reason: Text
