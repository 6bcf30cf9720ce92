"""One migrant's journey as it unfolds: the clock, the events recorded so far, the current job.

The phases (`home`, `abroad`) move the clock with `wait` and record with `emit`, which raises
`Truncated` once the clock passes `now`. Timing follows the real process: weeks of skilling and
recruitment, clearance and visa within a month or two of the offer, arrival hours after departure.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.demo import bad_actors
from services.demo import corridors as w

MONTH = timedelta(days=30.44)


class Truncated(Exception):
    """The story reached `now`: nothing later has happened yet."""


class Ended(Exception):
    """The journey stops here for good (a dropout, a migrant gone missing)."""


@dataclass
class Placement:
    """One job abroad: the offer as made, and the contract as signed."""

    number: int
    destination: str
    occupation: w.Occupation
    employer_id: str
    employer_name: str
    offered_wage: float
    wage: float  # as signed
    offered_months: int
    months: int

    @property
    def currency(self) -> str:
        return w.DESTINATIONS[self.destination].currency

    @property
    def offer_id(self) -> str:
        return f"OFR-{self.employer_id}-{self.number}"

    @property
    def contract_id(self) -> str:
        return f"CTR-{self.employer_id}-{self.number}"


class Story:
    def __init__(
        self,
        rng: random.Random,
        case_id: str,
        origin: w.Origin,
        start: datetime,
        now: datetime,
        traits: set[str],
        clearance_required: frozenset[str],
        event_id: Callable[[int], str],
    ) -> None:
        self.rng, self.case_id, self.origin, self.now = rng, case_id, origin, now
        self.t = start
        self.traits, self.clearance_required, self._event_id = traits, clearance_required, event_id
        self.events: list[tuple[str, str, dict]] = []  # (kind, publishing agency id, envelope)
        # The recruiting agency publishing the journey's recruiting-agent events: the one its latest
        # offer names (SPEC 4a); before any offer, the demo's first one.
        self.agent = "demo-recruiting_agent"
        self.happened: set[str] = set()  # traits that actually occurred before `now`
        self.correlation: str | None = None  # the placement's id, on its recruitment and work events
        self.placement: Placement | None = None
        self.occupation = rng.choices(w.OCCUPATIONS, weights=[o.weight for o in w.OCCUPATIONS])[0]

    # -- the clock and the record ------------------------------------------------------------

    def wait(self, low_days: float, high_days: float) -> datetime:
        self.t += timedelta(days=self.rng.uniform(low_days, high_days))
        return self.t

    def emit(self, kind: str, event_type: str, payload: dict, trait: str | None = None) -> None:
        if self.t > self.now:
            raise Truncated
        agency = self.agent if kind == "recruiting_agent" else f"demo-{kind}"  # credentials.agency_id
        self.events.append(
            (
                kind,
                agency,
                {
                    "event_id": self._event_id(len(self.events)),
                    "event_type": event_type,
                    "schema_version": 1,
                    "case_id": self.case_id,
                    "occurred_at": iso(self.t),
                    "correlation_id": self.correlation,
                    "payload": payload,
                },
            )
        )
        if trait:
            self.happened.add(trait)

    def money(self, amount: float, currency: str) -> dict:
        places = w.DECIMALS.get(currency, 2)
        return {"amount": f"{round(amount, places):.{places}f}", "currency": currency}

    def chance(self, odds: float) -> bool:
        return self.rng.random() < odds

    def new_placement(self, number: int) -> Placement:
        """The next job: the first anywhere along the origin's corridors, a second often in the same country."""
        rng, origin, previous = self.rng, self.origin, self.placement
        if number == 1 or previous is None or self.chance(0.5):
            destination = rng.choices(list(origin.destinations), weights=list(origin.destinations.values()))[0]
        else:
            destination = previous.destination  # back to the same country
        place = w.DESTINATIONS[destination]
        employer = bad_actors.employer_number(self.case_id, number, rng.randrange(1, 60), self.traits)
        stem = w.EMPLOYER_STEMS[employer % len(w.EMPLOYER_STEMS)]
        line = w.EMPLOYER_LINES[self.occupation.code]
        wage = _round_nicely(
            self.occupation.base_wage_usd * place.wage_factor * place.usd_rate * rng.uniform(0.9, 1.25)
        )
        months = rng.choice((12, 18, 24, 24, 24, 36))
        self.placement = Placement(
            number,
            destination,
            self.occupation,
            f"{destination}-E{employer:03d}",
            f"{stem} {line}, {rng.choice(place.cities)}",
            wage,
            wage,
            months,
            months,
        )
        return self.placement


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _round_nicely(amount: float) -> float:
    """To three significant figures (SAR 1200, JPY 125000, KWD 98): wages as contracts state them."""
    step = 10 ** max(0, math.floor(math.log10(amount)) - 2)
    return round(amount / step) * step
