"""Employer and recruiting-agent scorecards (SPEC section 12): the pure arithmetic.

The worker keeps, in the transaction that changes a case, one row per (case, party) from
`case_figures(state)` (how the watchlist finds a party's cases) and aggregate rows per (party,
destination, origin region) moved by `delta(before, after)`: counts, and a histogram of the cases'
wage gaps in whole-percent buckets. The query service sums the aggregate rows within the officer's
scope (a few rows per party, not one per case) and finishes with `rate_per_100` and
`bucket_median`. `scorecard` does the same computation in Python, for tests and as the definition.
Decisions where SPEC is silent:
- a case counts for the employer and the recruiting agent of its current journey: the welfare
  view's employer_id and the recruiting_agent_id of its latest offer. Other parties its offers or
  contracts ever named get a row of zeros (the watchlist finds the case through it);
- a placement is a case that departed (departed_at set) with that employer or agent;
- alert counts are every alert the case has had with the category's codes, whatever its status,
  on any case of the party (a fee charged to a migrant who never departed still counts); the rate
  is per 100 placements, one decimal, null when there are no placements;
- the wage gap of a case is the % of its contracted monthly wage actually paid: the sum of the
  wages paid (one per period, in the contract's currency) over the contracted wage times the
  number of periods paid; the median is over the party's cases that have one (null if none),
  taken on whole-percent buckets (each case's % rounded down, clipped to 0..300): exact to the
  percent, so a scope's median is a cheap sum of histograms rather than a sort of its cases;
- open critical alerts: unresolved alerts of severity critical on the party's cases.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from events import AlertCode, Severity
from services.domain.state import CaseState
from services.domain.watchlist import AGENT, EMPLOYER, Party, named_ever

CATEGORIES: dict[str, frozenset[AlertCode]] = {
    "abuse": frozenset({AlertCode.ABUSE_REPORTED, AlertCode.PASSPORT_CONFISCATED, AlertCode.DETENTION}),
    "wages": frozenset({AlertCode.WAGE_THEFT, AlertCode.UNDERPAID, AlertCode.WAGE_UNPAID}),
    "contract": frozenset({AlertCode.CONTRACT_SUBSTITUTION}),
    "fees": frozenset({AlertCode.RECRUITMENT_FEE_CHARGED}),
}


@dataclass(frozen=True)
class CaseFigures:
    """One case's contribution to one party's scorecard."""

    party_kind: str
    party_id: str
    placed: int = 0
    abuse: int = 0
    wages: int = 0
    contract: int = 0
    fees: int = 0
    open_critical: int = 0
    wage_paid_pct: float | None = None


@dataclass(frozen=True)
class Scorecard:
    placements: int
    abuse_per_100: float | None
    wages_per_100: float | None
    contract_per_100: float | None
    fees_per_100: float | None
    median_wage_gap: float | None
    open_critical_alerts: int


def current_parties(state: CaseState) -> set[Party]:
    offer = state.latest_offer()
    current = {(EMPLOYER, state.employer_id)} if state.employer_id else set()
    if offer is not None and offer.recruiting_agent_id:
        current.add((AGENT, offer.recruiting_agent_id))
    return current


def case_figures(state: CaseState) -> list[CaseFigures]:
    """The rows the case contributes: its figures for its current parties, zeros for the others."""
    current = current_parties(state)
    counts = {
        name: sum(1 for alert in state.alerts.values() if alert.code in codes) for name, codes in CATEGORIES.items()
    }
    figures = CaseFigures(
        "",
        "",
        placed=int(state.departed_at is not None),
        **counts,
        open_critical=sum(
            1 for alert in state.alerts.values() if alert.unresolved and alert.severity == Severity.critical
        ),
        wage_paid_pct=wage_paid_pct(state),
    )
    rows = [_for(figures, party) for party in sorted(current)]
    return rows + [CaseFigures(kind, party_id) for kind, party_id in sorted(named_ever(state) - current)]


def wage_paid_pct(state: CaseState) -> float | None:
    contract = state.contract
    wage = contract.monthly_wage if contract is not None else None
    if wage is None or wage.amount == 0:
        return None
    paid = [received.amount.amount for received in state.wages.values() if received.amount.currency == wage.currency]
    if not paid:
        return None
    return float(round(Decimal(100) * sum(paid) / (wage.amount * len(paid)), 2))


def rate_per_100(count: int, placements: int) -> float | None:
    if placements <= 0:
        return None
    # 100 * count / placements to one decimal, half up, in integers (exact, and cheap for 50,000 parties).
    return (2000 * count + placements) // (2 * placements) / 10


def scorecard(rows: Iterable[CaseFigures]) -> Scorecard:
    """One party's scorecard from its rows (those within the officer's scope)."""
    rows = list(rows)
    placements = sum(row.placed for row in rows)
    buckets = Counter(gap_bucket(row.wage_paid_pct) for row in rows if row.wage_paid_pct is not None)
    return finish(
        placements,
        {name: sum(getattr(row, name) for row in rows) for name in CATEGORIES},
        bucket_median(buckets),
        sum(row.open_critical for row in rows),
    )


MAX_BUCKET = 300


def gap_bucket(pct: float) -> int:
    return max(0, min(MAX_BUCKET, math.floor(pct)))


def bucket_median(histogram: dict[int, int]) -> float | None:
    """The median of the values a histogram {bucket: cases} holds (the mean of the two middle
    ones when the count is even), or None when it is empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None

    def value_at(position: int) -> int:
        seen = 0
        for bucket in sorted(histogram):
            seen += histogram[bucket]
            if seen >= position:
                return bucket
        raise AssertionError("unreachable: position <= total")

    return (value_at((total + 1) // 2) + value_at(total // 2 + 1)) / 2  # the middle one, or the mean of two


Slice = tuple[str, str, str, str]  # (party_kind, party_id, destination_country or "", origin_region or "")
STAT_NAMES = ("cases", "placed", *CATEGORIES, "open_critical")


def slices(state: CaseState) -> dict[Slice, dict[str, int]]:
    """What the case adds to the aggregate row of each of its current parties (in its destination
    and origin region): its counts, and `gap_bucket` (-1 when it has no wage gap)."""
    figures = {row.party_kind + "/" + row.party_id: row for row in case_figures(state)}
    out = {}
    for kind, party_id in current_parties(state):
        row = figures[kind + "/" + party_id]
        key = (kind, party_id, state.destination_country or "", state.origin_region or "")
        out[key] = {
            "cases": 1,
            "placed": row.placed,
            **{name: getattr(row, name) for name in CATEGORIES},
            "open_critical": row.open_critical,
            "gap_bucket": -1 if row.wage_paid_pct is None else gap_bucket(row.wage_paid_pct),
        }
    return out


def delta(
    before: CaseState | None, after: CaseState
) -> tuple[dict[Slice, dict[str, int]], dict[tuple[Slice, int], int]]:
    """How the case's change moves the aggregate rows: (count changes per slice, histogram changes
    per (slice, bucket)); unchanged slices and buckets are left out."""
    old, new = (slices(before) if before is not None else {}), slices(after)
    counts: dict[Slice, dict[str, int]] = {}
    gaps: Counter[tuple[Slice, int]] = Counter()
    for key in old.keys() | new.keys():
        was, now = old.get(key, {}), new.get(key, {})
        change = {name: now.get(name, 0) - was.get(name, 0) for name in STAT_NAMES}
        if any(change.values()):
            counts[key] = change
        if was.get("gap_bucket", -1) >= 0:
            gaps[key, was["gap_bucket"]] -= 1
        if now.get("gap_bucket", -1) >= 0:
            gaps[key, now["gap_bucket"]] += 1
    return counts, {key: change for key, change in gaps.items() if change}


def finish(placements: int, counts: dict[str, int], median_gap: float | None, open_critical: int) -> Scorecard:
    """The scorecard from summed counts (what SQL returns) and the median of the wage gaps."""
    return Scorecard(
        placements=placements,
        **{f"{name}_per_100": rate_per_100(counts[name], placements) for name in CATEGORIES},
        median_wage_gap=round(median_gap, 1) if median_gap is not None else None,
        open_critical_alerts=open_critical,
    )


def _for(figures: CaseFigures, party: Party) -> CaseFigures:
    kind, party_id = party
    return CaseFigures(
        kind,
        party_id,
        figures.placed,
        figures.abuse,
        figures.wages,
        figures.contract,
        figures.fees,
        figures.open_critical,
        figures.wage_paid_pct,
    )
