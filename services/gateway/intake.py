"""The gateway's two use cases: take one event, or a batch, from an authenticated agency; publish
what is admitted and wait for Kafka's acknowledgement; say what happened to each event.

Blocking (Kafka acknowledgements): call these from a worker thread, never the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from events import AgencyKind, Source, stage_of
from events.duplicates import CONFLICT, same_content
from services.gateway.admission import Admitted, Refused, admit, batch_items, parse_json
from services.gateway.binding import NOT_PARTY, Party, after, needs_facts, refusal
from services.gateway.views import CaseViews
from services.journey import JourneyPublisher, Publishes, Seals

__all__ = ["Intake", "Publishes", "Seals", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Intake:
    def __init__(
        self,
        publisher: Publishes,
        topic: str,
        clock: Callable[[], datetime] = utc_now,
        views: CaseViews | None = None,
        sealer: Seals | None = None,
    ) -> None:
        self._journey = JourneyPublisher(publisher, sealer)
        self._topic = topic
        self._clock = clock
        self._views = views  # None: no binding or conflict checks (tests of admission alone)

    def one(self, body: bytes, source: Source) -> Admitted | Refused:
        """Raises `MalformedJson` (400) and `PublishFailed` (503: nothing accepted)."""
        outcome = admit(parse_json(body), source, topic=self._topic, now=self._clock())
        outcome = self._against_views([outcome], source)[0]
        if isinstance(outcome, Admitted):
            self._journey.publish([outcome.record])
        return outcome

    def batch(self, body: bytes, source: Source) -> list[Admitted | Refused] | Refused:
        """One outcome per item, in order; the admitted items are published together, so a
        `PublishFailed` means none of them may be reported accepted (retry the batch as is)."""
        items = batch_items(parse_json(body))
        if isinstance(items, Refused):
            return items
        now = self._clock()  # one recorded_at for the whole batch: it arrived at once
        outcomes = self._against_views([admit(item, source, topic=self._topic, now=now) for item in items], source)
        self._journey.publish([o.record for o in outcomes if isinstance(o, Admitted)])
        return outcomes

    def _against_views(self, outcomes: list[Admitted | Refused], source: Source) -> list[Admitted | Refused]:
        """Refuse, among the admitted events, the conflicting duplicates (CONFLICT) and those for
        cases the agency is not party to (NOT_PARTY); in order, each accepted item counting for the next."""
        admitted = [outcome for outcome in outcomes if isinstance(outcome, Admitted)]
        if self._views is None or not admitted:
            return outcomes
        kind = source.agency_kind
        stored = self._views.stored([outcome.event_id for outcome in admitted])
        employer_id = self._views.employer_id(source.agency_id) if kind is AgencyKind.employer else None
        party = Party(source.agency_id, kind, employer_id)
        wants_facts = needs_facts(kind, {outcome.event_type for outcome in admitted})
        facts = self._views.facts({outcome.case_id for outcome in admitted}) if wants_facts else {}
        checked: list[Admitted | Refused] = []
        for outcome in outcomes:
            if not isinstance(outcome, Admitted):
                checked.append(outcome)
                continue
            event = outcome.event
            previous = stored.get(outcome.event_id)
            if previous is not None and not same_content(event, previous):
                checked.append(_conflict(outcome.event_id))
                continue
            reason = refusal(party, event, facts.get(outcome.case_id))
            if reason is not None:
                checked.append(Refused(NOT_PARTY, reason, [{"path": "case_id", "message": reason}], outcome.event_id))
                continue
            stored.setdefault(outcome.event_id, json.loads(outcome.record.value))  # a later copy in this batch
            if needs_facts(kind):
                facts[outcome.case_id] = after(facts.get(outcome.case_id), event, _stage(event.event_type))
            checked.append(outcome)
        return checked


def _conflict(event_id: str) -> Refused:
    message = (
        f"event_id {event_id} is already recorded with other content; an event_id names one event. "
        "Use a new event_id for a new or corrected event"
    )
    return Refused(CONFLICT, message, [{"path": "event_id", "message": message}], event_id)


def _stage(event_type: str) -> str | None:
    stage = stage_of(event_type)
    return stage.value if stage is not None else None
