"""Conflicting duplicates (SPEC section 7): the same event_id published again with other content.

"Content" is the envelope as the publisher sent it: every field but `recorded_at` and `source`,
which the gateway sets. So an identical republish, even by another agency or later, is the same
event (202, and it changes nothing), while the same event_id with any other field different, even
for another case, is a conflict (409 `conflicting_duplicate`). Both sides are compared in their
canonical form (validated and encoded as the gateway writes it), so how a time or amount was
spelled does not matter, only what it says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events.codec import InvalidEvent, encode, validate
from events.envelope import Envelope

CONFLICT = "conflicting_duplicate"
GATEWAY_FIELDS = ("recorded_at", "source")
_NO_CLOCK = datetime(9999, 1, 1, tzinfo=UTC)  # a stored event was judged against its own clock already


def publisher_form(event: Envelope) -> bytes:
    return encode(event.model_copy(update={name: None for name in GATEWAY_FIELDS}))


def same_content(sent: Envelope, stored: dict[str, Any]) -> bool:
    """Whether `sent` says what the stored (stamped) envelope said, gateway fields aside."""
    published = {name: value for name, value in stored.items() if name not in GATEWAY_FIELDS}
    try:
        return publisher_form(validate(published, now=_NO_CLOCK)) == publisher_form(sent)
    except InvalidEvent:  # stored under rules since tightened: it cannot equal a valid event
        return False
