"""The gateway's two use cases: take one event, or a batch, from an authenticated agency; publish
what is admitted and wait for Kafka's acknowledgement; say what happened to each event.

Blocking (Kafka acknowledgements): call these from a worker thread, never the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

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

    def singles(self, items: Sequence[tuple[Any, Source]]) -> list[Admitted | Refused]:
        """Parsed events of separate single-event requests, each with its own agency, taken
        together (`services.gateway.grouping`): `decide_singles`, then `publish`."""
        outcomes = self.decide_singles(items)
        self.publish(outcomes)
        return outcomes

    def decide_singles(
        self, items: Sequence[tuple[Any, Source]], connection: Connection | None = None
    ) -> list[Admitted | Refused]:
        """One outcome per item, in order, each decided as in a batch (the items accepted before
        count for the later ones); nothing is published yet. `connection`: the views are read on
        it (else on one of their own)."""
        now = self._clock()
        outcomes = [admit(data, source, topic=self._topic, now=now) for data, source in items]
        return self._against_views(outcomes, [source for _, source in items], connection)

    def publish(self, outcomes: Sequence[Admitted | Refused]) -> None:
        """Publish the admitted outcomes together and wait for Kafka's acknowledgement: a
        `PublishFailed` means none of them may be reported accepted."""
        records = [outcome.record for outcome in outcomes if isinstance(outcome, Admitted)]
        if records:
            self._journey.publish(records)

    def batch(self, body: bytes, source: Source) -> list[Admitted | Refused] | Refused:
        """One outcome per item, in order; the admitted items are published together, so a
        `PublishFailed` means none of them may be reported accepted (retry the batch as is)."""
        items = batch_items(parse_json(body))
        if isinstance(items, Refused):
            return items
        now = self._clock()  # one recorded_at for the whole batch: it arrived at once
        admitted = [admit(item, source, topic=self._topic, now=now) for item in items]
        outcomes = self._against_views(admitted, [source] * len(admitted))
        self._journey.publish([o.record for o in outcomes if isinstance(o, Admitted)])
        return outcomes

    def _against_views(
        self, outcomes: list[Admitted | Refused], sources: Sequence[Source], connection: Connection | None = None
    ) -> list[Admitted | Refused]:
        """Refuse, among the admitted events, the conflicting duplicates (CONFLICT) and those for
        cases their agency is not party to (NOT_PARTY); in order, each accepted item counting for the next."""
        admitted = [outcome for outcome in outcomes if isinstance(outcome, Admitted)]
        if self._views is None or not admitted:
            return outcomes
        stored = self._views.stored([outcome.event_id for outcome in admitted], connection)
        parties = {source.agency_id: self._party(source, connection) for source in set(sources)}
        wanting = {
            outcome.case_id
            for outcome, source in zip(outcomes, sources, strict=True)
            if isinstance(outcome, Admitted) and needs_facts(source.agency_kind, {outcome.event_type})
        }
        facts = self._views.facts(wanting, connection) if wanting else {}
        # Later items see the earlier ones' effect on a case only when some publisher's kind reads it.
        folds = any(needs_facts(source.agency_kind) for source in set(sources))
        checked: list[Admitted | Refused] = []
        earlier: dict[str, Admitted] = {}  # accepted above, by event_id: parsed only if a copy follows
        for outcome, source in zip(outcomes, sources, strict=True):
            if not isinstance(outcome, Admitted):
                checked.append(outcome)
                continue
            event = outcome.event
            previous = stored.get(outcome.event_id)
            if previous is None and outcome.event_id in earlier:
                previous = stored[outcome.event_id] = json.loads(earlier[outcome.event_id].record.value)
            if previous is not None and not same_content(event, previous):
                checked.append(_conflict(outcome.event_id))
                continue
            reason = refusal(parties[source.agency_id], event, facts.get(outcome.case_id))
            if reason is not None:
                checked.append(Refused(NOT_PARTY, reason, [{"path": "case_id", "message": reason}], outcome.event_id))
                continue
            earlier.setdefault(outcome.event_id, outcome)
            if folds:
                facts[outcome.case_id] = after(facts.get(outcome.case_id), event, _stage(event.event_type))
            checked.append(outcome)
        return checked

    def _party(self, source: Source, connection: Connection | None) -> Party:
        is_employer = source.agency_kind is AgencyKind.employer
        employer_id = self._views.employer_id(source.agency_id, connection) if is_employer and self._views else None
        return Party(source.agency_id, source.agency_kind, employer_id)


def _conflict(event_id: str) -> Refused:
    message = (
        f"event_id {event_id} is already recorded with other content; an event_id names one event. "
        "Use a new event_id for a new or corrected event"
    )
    return Refused(CONFLICT, message, [{"path": "event_id", "message": message}], event_id)


def _stage(event_type: str) -> str | None:
    stage = stage_of(event_type)
    return stage.value if stage is not None else None
