"""Realistic synthetic journeys, as the envelopes agencies would publish (pure, seeded).

`generate(count, seed=..., now=...)` returns one `Journey` per migrant: its events in the order they
happened, each paired with the agency kind that may publish it (SPEC section 4). A journey starts
at a random point in the past and is simulated forward (skilling, recruitment, clearance,
departure, work, welfare checks, return, sometimes a second migration); whatever would happen
after `now` has not happened yet, so every occurred_at is at or before `now`.

Most journeys are uneventful: wages arrive monthly, welfare checks every few weeks, visas and
insurance outlast the contract, so they raise no alert. A minority carry one of `TRAITS` (contract
substitution, fees charged to the migrant, a wage gap, underpayment, distress, abuse, a confiscated
passport, a missing arrival, a departure without clearance, ...), which is what the protection view
should surface. Event ids are uuid5 of (case_id, position), so publishing a journey twice is
harmless, and the same seed and `now` give the same journeys.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from events import stage_of
from services.demo import corridors as w
from services.demo.abroad import work_abroad
from services.demo.home import recruit, register, skill
from services.demo.story import Ended, Story, Truncated
from services.domain.rules import DEFAULT_CLEARANCE_REQUIRED

NAMESPACE = UUID("5d0e3f7a-2b1c-4c8e-9f3a-6a7b8c9d0e1f")
SPAN_DAYS = 1500  # journeys begin up to about four years before `now`

# How often a journey carries each trait (applied only if the journey gets that far).
ODDS: dict[str, float] = {
    "contract_substitution": 0.06,
    "migrant_paid_fee": 0.15,
    "underpaid": 0.05,
    "wage_gap": 0.05,
    "welfare_concern": 0.06,
    "distress": 0.04,
    "abuse": 0.035,
    "passport_confiscated": 0.04,
    "missing_arrival": 0.02,
    "departed_without_clearance": 0.04,
    "detention": 0.008,
    "death": 0.003,
    "employer_changed": 0.05,
    "remigration": 0.35,
}
TRAITS = tuple(ODDS) + ("returned",)


@dataclass(frozen=True)
class DemoEvent:
    kind: str  # the agency kind that publishes it
    envelope: (
        dict  # publisher form: event_id, event_type, schema_version, case_id, occurred_at, correlation_id, payload
    )
    agency_id: str  # the demo agency that publishes it: `demo-<kind>`, or the recruiting agency the offer names


@dataclass(frozen=True)
class Journey:
    case_id: str
    events: tuple[DemoEvent, ...]
    traits: frozenset[str]  # the traits that actually happened before `now`

    @property
    def stage(self) -> str | None:
        """The stage the welfare view should show: that of the latest stage-bearing event."""
        stages = [stage_of(e.envelope["event_type"]) for e in self.events]
        known = [s for s in stages if s is not None]
        return known[-1].value if known else None


def run_tag(seed: int) -> str:
    """A short tag naming one seed's cases, so demo runs with different seeds never share a case."""
    return hashlib.sha256(str(seed).encode()).hexdigest()[:6].upper()


def generate(count: int, *, seed: int, now: datetime, clearance_required: Iterable[str] | None = None) -> list[Journey]:
    """`count` journeys. Journey i depends only on (seed, i, now), not on `count`."""
    return list(iter_journeys(count, seed=seed, now=now, clearance_required=clearance_required))


def iter_journeys(
    count: int, *, seed: int, now: datetime, clearance_required: Iterable[str] | None = None
) -> Iterator[Journey]:
    """`generate`, one journey at a time (a large demo need not hold every event in memory)."""
    if now.tzinfo is None:
        raise ValueError("now needs a timezone (use datetime.now(UTC))")
    required = frozenset(clearance_required or DEFAULT_CLEARANCE_REQUIRED)
    tag = run_tag(seed)
    for i in range(count):
        yield journey(random.Random(f"{seed}:{i}"), i, tag, now, required)


def journey(rng: random.Random, index: int, tag: str, now: datetime, clearance_required: frozenset[str]) -> Journey:
    origin = rng.choices(w.ORIGINS, weights=[o.weight for o in w.ORIGINS])[0]
    case_id = f"{origin.code}-{tag}-{index:06d}"
    traits = {name for name, odds in ODDS.items() if rng.random() < odds}
    start = now - timedelta(days=_start_age(rng))
    story = Story(
        rng,
        case_id,
        origin,
        start,
        now,
        traits,
        clearance_required,
        lambda position: str(uuid5(NAMESPACE, f"{case_id}/{position}")),
    )
    try:
        _live(story)
    except Truncated:
        pass  # the rest of this journey lies in the future
    except Ended:
        pass  # a dropout, a migrant gone missing, a death: nothing more will be recorded
    return Journey(case_id, tuple(DemoEvent(k, e, a) for k, a, e in story.events), frozenset(story.happened))


def _live(story: Story) -> None:
    """Registration, maybe skilling, then one job abroad (two for those who migrate again)."""
    skilled = story.chance(0.6)
    register(story, by="skilling_body" if skilled else "recruiting_agent")
    if skilled:
        skill(story)
    for number in range(1, 3 if "remigration" in story.traits else 2):
        placement = story.new_placement(number)
        story.correlation = f"{story.case_id}-P{number}"
        skipped_clearance = recruit(story, placement)
        work_abroad(story, placement, skipped_clearance)
        story.correlation = None
        story.wait(60, 300)  # home for a while before looking for the next job


def _start_age(rng: random.Random) -> float:
    # A quarter registered in the last eight months (the pipeline), the rest over four years.
    return rng.uniform(0, 240) if rng.random() < 0.25 else rng.uniform(0, SPAN_DAYS)
