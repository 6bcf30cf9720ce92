"""WATCHLISTED_PARTY (SPEC section 12): raised, the near miss, self-resolved, and the refold that
makes the answer independent of when the watchlist entry reached the worker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import AlertCode, AlertStatus
from services.domain import RuleConfig
from services.domain.refold import refold
from services.domain.watchlist import Watchlist, entry_of
from tests.factories import at, fold, listing, make

W = AlertCode.WATCHLISTED_PARTY


def config(*listings) -> RuleConfig:
    return RuleConfig(watchlist=Watchlist(tuple(entry_of(e) for e in listings)))


def watchlisted(state):
    found = [a for a in state.alerts.values() if a.code == W]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize(
    "trigger",
    [
        make("recruitment.job_offer_made", 5),
        make("recruitment.job_offer_made", 5, employer_id="E9", recruiting_agent_id="RA-BAD"),
        make("recruitment.contract_signed", 5),
    ],
    ids=["offer-employer", "offer-agent", "contract-employer"],
)
def test_an_offer_or_contract_naming_a_listed_party_raises_it(trigger):
    rules = config(listing(1, "E1"), listing(1, "RA-BAD", "recruiting_agent"))
    setup = [make("recruitment.job_offer_made", 2, offer_id="O1", employer_id="E7", recruiting_agent_id="RA7")]
    state, changes = fold([*setup, trigger], rules=rules)
    alert = watchlisted(state)
    assert alert is not None and alert.status == AlertStatus.open and alert.severity.value == "high"
    assert (alert.trigger_event_id, alert.raised_at) == (str(trigger.event_id), trigger.occurred_at)
    assert [c.change for c in changes if c.alert.code == W] == ["raised"]


@pytest.mark.parametrize(
    "entries",
    [
        [listing(6, "E1")],  # listed after the offer was recorded
        [listing(1, "E1"), listing(3, "E1", added=False)],  # taken off before it
        [listing(1, "E2")],  # another employer
        [listing(1, "E1", "recruiting_agent")],  # an agent of the same id, not the employer
    ],
    ids=["listed-later", "removed-before", "other-party", "other-kind"],
)
def test_the_near_miss_raises_nothing(entries):
    state, _ = fold([make("recruitment.job_offer_made", 5)], rules=config(*entries))
    assert watchlisted(state) is None


def test_it_resolves_itself_when_a_newer_offer_names_no_listed_party():
    rules = config(listing(1, "E1"))
    clean = make("recruitment.job_offer_made", 8, offer_id="O2", employer_id="E2", recruiting_agent_id="RA2")
    state, changes = fold([make("recruitment.job_offer_made", 5), clean], rules=rules)
    alert = watchlisted(state)
    assert alert.status == AlertStatus.resolved and alert.resolved_by == "system"
    assert alert.resolved_at == clean.occurred_at
    assert [c.change for c in changes if c.alert.code == W] == ["raised", "resolved"]


def test_a_signed_contract_with_the_listed_employer_keeps_it_open():
    rules = config(listing(1, "E1"))
    state, _ = fold(
        [
            make("recruitment.job_offer_made", 5),
            make("recruitment.contract_signed", 6),
            make("recruitment.job_offer_made", 7, offer_id="O2", employer_id="E2"),
        ],
        rules=rules,
    )
    assert watchlisted(state).status == AlertStatus.open  # the latest contract still names E1


def test_a_removal_resolves_it_in_the_refold():
    offer = make("recruitment.job_offer_made", 5)
    entries = [listing(1, "E1"), listing(9, "E1", added=False)]
    state = refold([offer], [entry_of(e) for e in entries], config(*entries))
    alert = watchlisted(state)
    assert alert.status == AlertStatus.resolved and alert.resolved_by == "system"
    assert alert.resolved_at == entries[1].recorded_at


def test_the_refold_gives_the_in_order_answer_whatever_the_watchlist_held_at_first():
    entry = listing(1, "E1")
    journey = [
        make("recruitment.job_offer_made", 5),
        make("recruitment.job_offer_made", 8, offer_id="O2", employer_id="E2"),
    ]
    in_order, _ = fold(journey, rules=config(entry))
    without, _ = fold(journey)  # the worker folded the case before the entry reached it
    assert watchlisted(without) is None
    late = refold(journey, [entry_of(entry)], config(entry))
    assert late.alerts == in_order.alerts and watchlisted(late).status == AlertStatus.resolved


def test_listed_reads_the_history_as_of_an_instant():
    entries = [listing(1, "E1"), listing(3, "E1", added=False), listing(5, "E1")]
    watchlist = Watchlist(tuple(entry_of(e) for e in reversed(entries)))
    recorded = [at(day) + timedelta(minutes=1) for day in (0, 1, 2, 3, 4, 5)]
    assert [watchlist.listed("employer", "E1", moment) for moment in recorded] == [
        False,
        True,
        True,
        False,
        False,
        True,
    ]
    assert watchlist.listed_now() == {("employer", "E1")}
