"""Issue 13: a case's state stays small as its events grow (to 50,000 here), while the fold stays
idempotent and order-independent within the window `services.domain.state` documents."""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from functools import cache

from hypothesis import example, given, settings
from hypothesis import strategies as st

from events import Envelope, Stage
from services.domain import CaseState, project
from services.domain.state import WINDOW, StageRun
from tests.factories import RULES, T0, at, make, money

ALERT_FIELDS = {"alerts", "open_alerts", "top_severity"}
BIG = 50_000
MAX_STATE_BYTES = 16_384  # about 2 x WINDOW keys plus the case's fields, alerts and offers

OPENING = [
    make("migrant.registered", 0),
    make("skilling.certified", 2),
    make("recruitment.job_offer_made", 4),
    make("recruitment.contract_signed", 5),
    make("recruitment.emigration_clearance_granted", 6),
    make("deployment.departed", 8),
    make("deployment.arrived", 9),
    make("deployment.employment_started", 9),
]
# What a long-lived case keeps receiving: every stage, alerts raised once, offers re-sent.
ROUTINE = {
    "wage": make("deployment.wage_paid", 10, amount=money("1500.00")),
    "check_ok": make("deployment.welfare_check_completed", 10),
    "check_concern": make("deployment.welfare_check_completed", 10, wellbeing="concern"),
    "note": make("case.note_added", 10),
    "assistance": make("deployment.assistance_provided", 10),
    "distress": make("deployment.distress_reported", 10),
    "incident": make("deployment.incident_reported", 10),
    "returned": make("return.returned", 10),
    "reintegration": make("return.reintegration_support_provided", 10),
    "offer": make("recruitment.job_offer_made", 10),
    "other_offer": make("recruitment.job_offer_made", 10, offer_id="O2", destination_country="QA"),
    "training": make("skilling.training_enrolled", 10),
    "visa": make("recruitment.visa_issued", 10),
}
routines = st.lists(st.sampled_from(sorted(ROUTINE)), min_size=1, max_size=6)


def routine_events(kinds: list[str], count: int, first: int = 0) -> list[Envelope]:
    """`count` events cycling through `kinds`, one minute apart from day 10: copies of a template
    with a new event_id and times, which is ~20x cheaper than validating each anew."""
    stream = []
    for n in range(first, first + count):
        occurred = at(10) + timedelta(minutes=n)
        stream.append(
            ROUTINE[kinds[n % len(kinds)]].model_copy(
                update={
                    "event_id": uuid.UUID(int=(1 << 64) + n),
                    "occurred_at": occurred,
                    "recorded_at": occurred + timedelta(seconds=30),
                }
            )
        )
    return stream


def fold(stream, state: CaseState | None = None) -> CaseState:
    for event in stream:
        state, _changes = project(state, event, RULES)
    return state


def size(state: CaseState) -> int:
    return len(state.model_dump_json())


def view(state: CaseState) -> dict:
    return state.model_dump(
        mode="json",
        include=set(CaseState.model_fields) | {"stage", "stage_since", "contract", "event_count"},
        exclude=ALERT_FIELDS | {"recent", "run", "written"},
    )


@settings(max_examples=2, deadline=None)
@given(kinds=routines)
@example(kinds=["assistance", "assistance", "assistance", "offer", "assistance", "assistance"])  # ended on another kind
def test_the_state_stays_bounded_as_a_case_grows_to_50000_events(kinds):
    # The early size is taken at the same point of the cycle of kinds as the end, so both states end
    # on the same kind of event (the stage run holds different keys after an offer than after a wage).
    early_count = 1_000 + (BIG - 1_000) % len(kinds)
    state = fold(OPENING)
    state = fold(routine_events(kinds, early_count), state)
    early = size(state)
    state = fold(routine_events(kinds, BIG - early_count, first=early_count), state)
    assert state.event_count == len(OPENING) + BIG
    assert size(state) <= MAX_STATE_BYTES
    assert size(state) <= early + 256  # no growth beyond a timestamp's digits


@cache
def big_case() -> tuple[CaseState, tuple[Envelope, ...]]:
    """A 50,000-event case folded in order, and its events (built once for the module)."""
    stream = routine_events(["wage", "check_ok", "note", "returned", "offer", "distress"], BIG)
    return fold(stream, fold(OPENING)), tuple(stream)


@settings(max_examples=40, deadline=None)
@given(kinds=routines, count=st.integers(1, WINDOW // 2), data=st.data())
def test_on_a_50000_event_case_new_events_in_any_order_with_redeliveries_give_one_view(kinds, count, data):
    state, stream = big_case()
    tail = routine_events(kinds, count, first=BIG)
    expected = fold(tail, state)
    arrival = data.draw(st.permutations(tail))
    recent = list(stream[-(WINDOW - count) :]) + tail  # what the case's latest keys still hold
    for event, position in data.draw(
        st.lists(st.tuples(st.sampled_from(recent), st.integers(0, len(arrival))), max_size=10)
    ):
        arrival.insert(position, event)  # a redelivery, of a new event or of one already folded
    after = fold(arrival, state)
    assert view(after) == view(expected)
    assert after.event_count == state.event_count + count
    assert fold(arrival, after) is after  # each of them again: nothing changes


@settings(max_examples=8, deadline=None)
@given(kinds=routines, chunk=st.integers(2, WINDOW // 2), seed=st.integers(0, 2**32))
def test_a_long_stream_shuffled_within_the_window_with_redeliveries_gives_the_in_order_view(kinds, chunk, seed):
    stream = routine_events(kinds, 2_000)
    rng = random.Random(seed)
    arrival = []
    for start in range(0, len(stream), chunk):
        part = stream[start : start + chunk]
        part += rng.sample(part, k=rng.randint(0, len(part)))  # redelivered within the batch
        rng.shuffle(part)
        arrival += part
    assert view(fold(arrival, fold(OPENING))) == view(fold(stream, fold(OPENING)))


# The stage run against the definition it replaces: the stage of the greatest key, and the first
# key of the final run of equal stages, over the whole set.
keys = st.builds(
    lambda minute, tie: (at(0) + timedelta(minutes=minute), at(0), f"{tie:04d}"),
    st.integers(0, 500),
    st.integers(0, 9999),
)
entries = st.dictionaries(
    keys, st.sampled_from([Stage.registered, Stage.recruiting, Stage.deployed]), min_size=1, max_size=WINDOW
)


def exact(entries: dict) -> tuple[Stage, tuple]:
    ordered = sorted(entries.items())
    stage, since = ordered[-1][1], ordered[-1][0]
    for key, value in reversed(ordered):
        if value != stage:
            break
        since = key
    return stage, since


def run_of(pairs) -> StageRun:
    run = None
    for key, stage in pairs:
        run = StageRun.first(key, stage) if run is None else run.insert(key, stage)
    return run


@settings(max_examples=300, deadline=None)
@given(entries=entries, data=st.data())
def test_the_stage_run_is_exact_for_any_order_and_any_redelivery_within_the_window(entries, data):
    arrival = data.draw(st.permutations(list(entries.items())))
    arrival += data.draw(st.lists(st.sampled_from(arrival), max_size=10))
    run = run_of(arrival)
    assert (run.stage, run.since) == exact(entries)
    assert len(run.tail) <= WINDOW


def test_the_stage_run_in_order_is_exact_however_long():
    entries = {
        (at(0) + timedelta(minutes=n), at(0), "x"): [Stage.deployed, Stage.deployed, Stage.returned][n % 3]
        for n in range(5 * WINDOW)
    }
    entries.update({(at(0) + timedelta(minutes=5 * WINDOW + n), at(0), "x"): Stage.deployed for n in range(3 * WINDOW)})
    run = run_of(sorted(entries.items()))
    assert (run.stage, run.since) == exact(entries) and len(run.tail) == WINDOW


def test_a_state_stored_before_the_bounds_is_read_and_folds_on():
    stream = OPENING + routine_events(["wage", "returned", "offer"], 10)
    today = fold(stream)
    stored = today.model_dump(mode="json", exclude={"run", "recent"})
    stored["stages"] = [
        [[k.isoformat() for k in (e.occurred_at, e.recorded_at)] + [str(e.event_id)], stage]
        for e in stream
        if (stage := _stage(e)) is not None
    ]
    stored["seen"] = sorted(str(e.event_id) for e in stream)
    del stored["event_count"]
    old = CaseState.model_validate_json(json.dumps(stored))  # as the worker reads it
    assert (old.stage, old.stage_since, old.event_count) == (today.stage, today.stage_since, len(stream))
    more = routine_events(["check_ok", "wage"], 3, first=10)
    assert view(fold(more, old)) == view(fold(more, today))


def _stage(event: Envelope) -> str | None:
    from events import stage_of

    stage = stage_of(event.event_type)
    return stage.value if stage is not None else None


def test_event_count_counts_each_event_once():
    stream = OPENING + routine_events(["wage", "note"], 3 * WINDOW)
    state = fold(stream + stream[-WINDOW:])
    assert state.event_count == len(stream)
    assert T0 < state.stage_since


@settings(max_examples=200, deadline=None)
@given(entries=entries, data=st.data())
def test_a_state_going_on_in_place_keeps_the_run_insert_gives(entries, data):
    """`CaseState.add_stage` extends its own run in place when the run goes on; the run equals the
    one the immutable `insert` builds, and a fork's changes never reach the state it came from."""
    arrival = data.draw(st.permutations(list(entries.items())))
    arrival += data.draw(st.lists(st.sampled_from(arrival), max_size=10))
    split = data.draw(st.integers(0, len(arrival)))
    state = CaseState(case_id="CASE-1")
    for key, stage in arrival[:split]:
        state.add_stage(key, stage)
    before = state.run.model_copy(deep=True) if state.run is not None else None
    forked = state.fork()
    for key, stage in arrival[split:]:
        forked.add_stage(key, stage)
    assert forked.run == run_of(arrival)
    assert state.run == before
