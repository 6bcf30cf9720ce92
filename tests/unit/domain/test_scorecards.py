"""Scorecard figures (SPEC section 12) on hand-built journeys: placements, rates, median wage gap."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.domain.scorecards import (
    CaseFigures,
    bucket_median,
    case_figures,
    delta,
    rate_per_100,
    scorecard,
    slices,
)
from tests.factories import fold, make, money


def journey(case_id: str, employer: str = "E1", agent: str = "RA1", departed: bool = True, wages=(), extra=()):
    stream = [
        make("recruitment.job_offer_made", 0, case_id=case_id, employer_id=employer, recruiting_agent_id=agent),
        make("recruitment.contract_signed", 1, case_id=case_id, employer_id=employer),
    ]
    if departed:
        stream.append(make("deployment.departed", 2, case_id=case_id))
    stream += [
        make("deployment.wage_paid", 30 + i, case_id=case_id, period=f"2025-0{i + 2}", amount=money(a))
        for i, a in enumerate(wages)
    ]
    stream += [make(t, 40, case_id=case_id, **p) for t, p in extra]
    state, _ = fold(stream)
    return state


def rows_of(party: tuple[str, str], *states):
    return [row for state in states for row in case_figures(state) if (row.party_kind, row.party_id) == party]


ABUSE = ("deployment.incident_reported", {"category": "physical_abuse"})
FEE = ("recruitment.fee_paid", {"paid_by": "migrant"})
THEFT = ("deployment.grievance_filed", {"category": "wage_theft"})


def test_placements_rates_and_median_for_an_employer():
    cases = [
        journey("CASE-0001", wages=["1500.00", "1500.00"]),  # paid in full: 100%
        journey("CASE-0002", wages=["750.00"], extra=[ABUSE, THEFT]),  # half: 50% (and UNDERPAID)
        journey("CASE-0003", wages=["1200.00", "1500.00"], extra=[ABUSE]),  # 90%
        journey("CASE-0004", departed=False, extra=[FEE]),  # offered, never left: no placement
    ]
    card = scorecard(rows_of(("employer", "E1"), *cases))
    assert card.placements == 3
    assert card.abuse_per_100 == pytest.approx(66.7)  # 2 abuse alerts / 3 placements
    assert card.wages_per_100 == pytest.approx(100.0)  # WAGE_THEFT + UNDERPAID (750) + UNDERPAID (1200)
    assert card.fees_per_100 == pytest.approx(33.3)  # the fee counts though the migrant never left
    assert card.contract_per_100 == 0.0
    assert card.median_wage_gap == 90.0
    assert card.open_critical_alerts == 2  # the two ABUSE_REPORTED, unresolved


def test_the_agent_gets_the_same_cases_and_a_later_employer_takes_the_case_over():
    moved = journey(
        "CASE-0005",
        wages=["1500.00"],
        extra=[("deployment.employer_changed", {"employer_id": "E2", "contract_id": "K2"})],
    )
    assert scorecard(rows_of(("recruiting_agent", "RA1"), moved)).placements == 1
    assert scorecard(rows_of(("employer", "E2"), moved)).placements == 1
    earlier = rows_of(("employer", "E1"), moved)
    assert earlier == [CaseFigures("employer", "E1")]  # named once: a row of zeros


def test_no_placements_gives_no_rates():
    card = scorecard(rows_of(("employer", "E1"), journey("CASE-0006", departed=False)))
    assert card.placements == 0 and card.abuse_per_100 is None and card.median_wage_gap is None


@pytest.mark.parametrize(
    "count,placements,rate", [(0, 1, 0.0), (1, 3, 33.3), (2, 3, 66.7), (5, 2, 250.0), (1, 0, None)]
)
def test_rate_per_100(count, placements, rate):
    assert rate_per_100(count, placements) == rate


def test_wages_in_another_currency_are_not_compared():
    state = journey("CASE-0007", wages=[])
    state, _ = fold([make("deployment.wage_paid", 30, case_id="CASE-0007", amount=money("100.00", "USD"))], state)
    assert scorecard(rows_of(("employer", "E1"), state)).median_wage_gap is None


@given(st.lists(st.integers(0, 300), min_size=1, max_size=40))
def test_the_bucket_median_is_the_median(values):
    assert bucket_median(Counter(values)) == statistics.median(values)


def test_the_deltas_of_a_case_s_life_add_up_to_its_final_slices():
    stream = [
        make("migrant.registered", 0, case_id="CASE-0100"),
        make("recruitment.job_offer_made", 1, case_id="CASE-0100"),
        make("recruitment.contract_signed", 2, case_id="CASE-0100"),
        make("recruitment.fee_paid", 3, case_id="CASE-0100", paid_by="migrant"),
        make("deployment.departed", 4, case_id="CASE-0100"),
        make("deployment.wage_paid", 35, case_id="CASE-0100", amount=money("1000.00")),
        make("deployment.employer_changed", 60, case_id="CASE-0100", employer_id="E2", contract_id="K2"),
        make("deployment.wage_paid", 95, case_id="CASE-0100", period="2025-04", amount=money("1500.00")),
    ]
    totals: Counter = Counter()
    histogram: Counter = Counter()
    state = None
    for event in stream:
        after, _ = fold([event], state)
        counts, gaps = delta(state, after)
        for key, change in counts.items():
            totals.update({(key, name): value for name, value in change.items()})
        histogram.update(gaps)
        state = after
    expected = {
        (key, name): value
        for key, figures in slices(state).items()
        for name, value in figures.items()
        if name != "gap_bucket" and value
    }
    assert {k: v for k, v in totals.items() if v} == expected
    assert {k: v for k, v in histogram.items() if v} == {
        (key, figures["gap_bucket"]): 1 for key, figures in slices(state).items() if figures["gap_bucket"] >= 0
    }
    assert {key[:2] for key in slices(state)} == {("employer", "E2"), ("recruiting_agent", "RA1")}


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_the_rate_is_exact_to_one_decimal_half_up(count, placements):
    from decimal import ROUND_HALF_UP, Decimal

    expected = (Decimal(100 * count) / placements).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert rate_per_100(count, placements) == float(expected)
