"""The journey abroad: departure, arrival, the working months, trouble, and the return home.

The working months are planned first as a list of dated `Item`s (monthly wages, welfare checks
every few weeks, and whatever the journey's traits bring), then emitted in time order; a trait
that ends the contract early (distress, abuse, detention, death) cuts the plan short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.demo.story import MONTH, Ended, Placement, Story

# Who publishes employment, wages and contract ends in the demo. An employer agency is bound to the
# cases of its own employer id (SPEC 4a) and the demo's journeys have many employers but one demo
# agency per kind, so the mission (whose mandate has deployment.* and return.*, for every case)
# records them, as a labour attaché does.
EMPLOYMENT_RECORDS = "mission"

CHANNELS = ("phone", "phone", "app", "visit", "helpline")
CONCERNS = (
    "Works long hours without a weekly day off.",
    "Worried about debts at home.",
    "Shares a crowded room; asked about changing accommodation.",
)


@dataclass(frozen=True)
class Item:
    when: datetime
    kind: str
    event_type: str | None  # None: only marks that `trait` has now happened
    payload: dict | None = None
    trait: str | None = None


@dataclass(frozen=True)
class EarlyEnd:
    when: datetime
    contract_reason: str  # return.contract_ended reason
    return_reason: str  # return.returned reason


def work_abroad(s: Story, p: Placement, skipped_clearance: bool) -> None:
    rng = s.rng
    s.wait(3, 21)
    s.emit(
        "emigration_authority",
        "deployment.departed",
        {"destination_country": p.destination},
        trait="departed_without_clearance" if skipped_clearance else None,
    )
    if "missing_arrival" in s.traits and p.number == 1:
        s.happened.add("missing_arrival")  # never arrives: the arrival grace runs out
        if s.chance(0.5):
            s.wait(5, 30)
            s.emit(
                "mission",
                "deployment.incident_reported",
                {
                    "incident_id": f"INC-{s.case_id}-M",
                    "category": "missing",
                    "description": "Family reports no contact since departure; not met at the airport.",
                },
            )
        raise Ended
    s.t += timedelta(hours=rng.uniform(4, 14))
    s.emit("mission", "deployment.arrived", {"destination_country": p.destination})
    s.wait(1, 5)
    employer = p.employer_id
    swapped = "contract_substitution" in s.traits and "contract_substitution" not in s.happened and p.number == 1
    if swapped:  # put to work for someone other than the employer on the contract
        employer = f"{p.destination}-E{rng.randrange(60, 99):03d}"
    s.emit(
        EMPLOYMENT_RECORDS,
        "deployment.employment_started",
        {"employer_id": employer, "contract_id": p.contract_id},
        trait="contract_substitution" if swapped else None,
    )
    start, end = s.t, s.t + p.months * MONTH
    traits = s.traits if p.number == 1 else set()
    items = _wages(s, p, start, end, traits) + _checks(s, start, end)
    early = _trouble(s, p, start, end, traits, items)
    stop = early.when if early else end
    for item in sorted((i for i in items if i.when < stop), key=lambda i: i.when):
        s.t = item.when
        if item.event_type is None:
            if s.t <= s.now and item.trait is not None:
                s.happened.add(item.trait)
            continue
        s.emit(item.kind, item.event_type, item.payload or {}, trait=item.trait)
    s.t = stop
    _go_home(s, p, early)


def _wages(s: Story, p: Placement, start: datetime, end: datetime, traits: set[str]) -> list[Item]:
    rng, items = s.rng, []
    gap_from = rng.randint(2, max(2, p.months - 3)) if "wage_gap" in traits else None
    short_from = rng.randint(1, max(1, p.months // 2)) if "underpaid" in traits else None
    short_by = rng.uniform(0.6, 0.85)
    for i in range(p.months):
        year, month = divmod(start.month - 1 + i, 12)
        period = f"{start.year + year:04d}-{month + 1:02d}"
        year, month = divmod(start.month + i, 12)  # paid early in the following month
        paid = datetime(start.year + year, month + 1, 1, tzinfo=UTC) + timedelta(
            days=rng.uniform(0, 6), hours=rng.uniform(8, 17)
        )
        paid = min(paid, end - timedelta(hours=2))
        if gap_from is not None and i >= gap_from:
            if i == gap_from:
                items.append(Item(paid, EMPLOYMENT_RECORDS, None, trait="wage_gap"))
            continue
        short = short_from is not None and i >= short_from
        amount = p.wage * short_by if short else p.wage
        items.append(
            Item(
                paid,
                EMPLOYMENT_RECORDS,
                "deployment.wage_paid",
                {"period": period, "amount": s.money(amount, p.currency)},
                "underpaid" if short else None,
            )
        )
    if gap_from is not None and s.chance(0.5):
        when = start + gap_from * MONTH + timedelta(days=rng.uniform(60, 120))
        items.append(_grievance(s, when, "wage_theft", "No salary paid for several months.", "wage_gap"))
    return items


def _checks(s: Story, start: datetime, end: datetime) -> list[Item]:
    rng, items = s.rng, []
    when = start + timedelta(days=rng.uniform(10, 30))
    while when < end:
        channel = rng.choice(CHANNELS)
        items.append(
            Item(
                when,
                "mission" if channel == "visit" else "helpline",
                "deployment.welfare_check_completed",
                {"channel": channel, "wellbeing": "ok"},
            )
        )
        when += timedelta(days=rng.uniform(21, 56))
    return items


def _trouble(
    s: Story, p: Placement, start: datetime, end: datetime, traits: set[str], items: list[Item]
) -> EarlyEnd | None:
    """Add the events of the journey's troubles to `items`; return the earliest early end, if any."""
    rng, ends = s.rng, []

    def some_day() -> datetime:
        return start + (end - start) * rng.uniform(0.1, 0.8)

    def later(moment: datetime, low: float, high: float) -> datetime:
        return moment + timedelta(days=rng.uniform(low, high))

    def help_(moment: datetime, kind: str, by: str = "helpline") -> Item:
        return Item(
            moment,
            by,
            "deployment.assistance_provided",
            {"kind": kind, "provider": f"{p.destination} migrant workers' centre"},
        )

    if "welfare_concern" in traits:
        items.append(
            Item(
                some_day(),
                "helpline",
                "deployment.welfare_check_completed",
                {"channel": "phone", "wellbeing": "concern", "notes": rng.choice(CONCERNS)},
                "welfare_concern",
            )
        )
    if "employer_changed" in traits:
        items.append(
            Item(
                some_day(),
                EMPLOYMENT_RECORDS,
                "deployment.employer_changed",
                {
                    "employer_id": f"{p.destination}-E{rng.randrange(1, 60):03d}",
                    "contract_id": f"{p.contract_id}-T",
                    "reason": "Sponsorship transfer approved by the labour ministry.",
                },
                "employer_changed",
            )
        )
    if "passport_confiscated" in traits:
        when = some_day()
        if s.chance(0.6):
            items.append(
                _grievance(
                    s, when, "passport_confiscation", "Employer keeps the worker's passport.", "passport_confiscated"
                )
            )
        else:
            items.append(
                _incident(
                    s,
                    when,
                    "passport_confiscation",
                    "Passport held by the employer since arrival.",
                    "passport_confiscated",
                )
            )
        items.append(help_(later(when, 3, 20), "consular", by="mission"))
    if "distress" in traits:
        when = some_day()
        if s.chance(0.5):
            items.append(
                Item(
                    when,
                    "helpline",
                    "deployment.distress_reported",
                    {"channel": "helpline", "description": "Called the helpline asking to be rescued."},
                    "distress",
                )
            )
        else:
            items.append(
                Item(
                    when,
                    "helpline",
                    "deployment.welfare_check_completed",
                    {
                        "channel": "phone",
                        "wellbeing": "distress",
                        "notes": "Crying; says they cannot go on and want to go home.",
                    },
                    "distress",
                )
            )
        items.append(help_(later(when, 1, 7), "shelter"))
        if s.chance(0.6):
            ends.append(EarlyEnd(later(when, 14, 60), "terminated", "distress"))
    if "abuse" in traits:
        when = some_day()
        if s.chance(0.8):
            category = "sexual_abuse" if s.chance(0.15) else "physical_abuse"
            items.append(_incident(s, when, category, "Reported being beaten by the employer.", "abuse"))
        else:
            items.append(_grievance(s, when, "abuse", "Verbal and physical abuse by the supervisor.", "abuse"))
        items.append(help_(later(when, 1, 5), rng.choice(("shelter", "legal"))))
        if s.chance(0.5):
            ends.append(EarlyEnd(later(when, 10, 45), "terminated", "distress"))
    if "detention" in traits:
        when = some_day()
        items.append(_incident(s, when, "detention", "Held by police in an immigration raid.", "detention"))
        items.append(help_(later(when, 2, 10), "legal"))
        if s.chance(0.5):
            ends.append(EarlyEnd(later(when, 30, 90), "terminated", "deported"))
    if "death" in traits:
        when = some_day()
        items.append(_incident(s, when, "death", "Died in a workplace accident.", "death"))
        items.append(help_(later(when, 3, 15), "repatriation", by="mission"))
        ends.append(EarlyEnd(later(when, 16, 30), "terminated", "other"))
    if s.chance(0.03):
        ends.append(EarlyEnd(some_day(), "terminated", "voluntary"))
    return min(ends, key=lambda e: e.when, default=None)


def _go_home(s: Story, p: Placement, early: EarlyEnd | None) -> None:
    rng = s.rng
    s.emit(
        EMPLOYMENT_RECORDS,
        "return.contract_ended",
        {"contract_id": p.contract_id, "reason": early.contract_reason if early else "completed"},
    )
    s.wait(2, 14)
    reason = early.return_reason if early else "completed"
    s.emit("emigration_authority", "return.returned", {"reason": reason}, trait="returned")
    if reason == "other":  # the migrant died abroad
        raise Ended
    if s.chance(0.4):
        s.wait(14, 60)
        kind = (
            "psychosocial" if reason == "distress" else rng.choice(("job_placement", "finance", "skills_recognition"))
        )
        s.emit("helpline", "return.reintegration_support_provided", {"kind": kind})
    if s.chance(0.25):
        s.wait(20, 90)
        s.emit(
            "helpline", "return.skills_recognized", {"occupation_code": p.occupation.code, "level": rng.randint(3, 7)}
        )


def _grievance(s: Story, when: datetime, category: str, description: str, trait: str) -> Item:
    return Item(
        when,
        "helpline",
        "deployment.grievance_filed",
        {"grievance_id": f"GRV-{s.case_id}-{category[:4].upper()}", "category": category, "description": description},
        trait,
    )


def _incident(s: Story, when: datetime, category: str, description: str, trait: str) -> Item:
    return Item(
        when,
        "mission",
        "deployment.incident_reported",
        {"incident_id": f"INC-{s.case_id}-{category[:4].upper()}", "category": category, "description": description},
        trait,
    )
