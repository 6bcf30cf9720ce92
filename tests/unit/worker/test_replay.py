"""How `passage replay --jobs N` deals the journey topic's partitions out to its jobs."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.worker import replay
from services.worker.replay import shares

sizes = st.dictionaries(st.integers(0, 47), st.integers(0, 10_000), min_size=1, max_size=48)


@given(sizes, st.integers(1, 8))
def test_every_partition_goes_to_exactly_one_job(sizes, jobs):
    dealt = shares(sizes, jobs)
    assert sorted(p for share in dealt for p in share) == sorted(sizes)
    assert 1 <= len(dealt) <= jobs
    assert all(share == sorted(share) and share for share in dealt)


@given(sizes, st.integers(2, 8))
def test_no_job_holds_more_than_an_even_share_plus_one_partition(sizes, jobs):
    dealt = shares(sizes, jobs)
    held = [sum(sizes[p] for p in share) for share in dealt]
    assert max(held) <= sum(sizes.values()) / jobs + max(sizes.values())


def test_the_bench_logs_partitions_are_dealt_evenly_where_p_mod_n_was_not():
    # Records per partition of bench.replay's 50,000-event log (the demo's journeys, seed 7):
    # dealt by p mod 2 the jobs held 26,303 and 23,697.
    sizes = dict(enumerate([5137, 3840, 5220, 4667, 3447, 3915, 3644, 3638, 4265, 3899, 4590, 3738]))
    assert [sum(sizes[p] for p in share) for share in shares(sizes, 2)] == [25_000, 25_000]


def test_one_job_takes_every_partition_and_spare_jobs_are_dropped():
    assert shares({3: 10, 0: 5, 7: 0}, 1) == [[0, 3, 7]]
    assert shares({0: 5, 1: 3}, 4) == [[0], [1]]


def test_a_job_writes_its_other_tables_only_once_the_replay_made_them_and_stops_if_it_could_not(monkeypatch):
    made, failed = threading.Event(), threading.Event()  # the same interface as multiprocessing's
    monkeypatch.setattr(replay, "_tables", (made, failed))
    failed.set()
    with pytest.raises(RuntimeError, match="could not make its shadow tables"):
        replay._wait_for_tables()
    failed.clear()
    made.set()
    replay._wait_for_tables()  # returns at once


def _a_job_that_waits_for_the_replay(settings, partitions, ends):  # forked jobs find it by name
    made, failed = replay._tables
    failed.wait()  # forever, unless the replay says it failed
    replay._go_on(0)


def test_jobs_stop_when_the_replay_fails_after_forking_them(monkeypatch):
    from multiprocessing import get_all_start_methods

    from services.config import Settings
    from services.storage.db import make_engine

    if "fork" not in get_all_start_methods():
        pytest.skip("the jobs find the stand-in job only when forked")
    monkeypatch.setattr(replay, "_job", _a_job_that_waits_for_the_replay)

    def no_tables() -> None:
        raise RuntimeError("no tables today")

    with pytest.raises(RuntimeError, match="no tables today"):  # returns: the jobs heard and stopped
        replay._bulk_jobs(Settings(), make_engine("sqlite://"), None, {0: 1, 1: 1}, [[0], [1]], False, no_tables)


def test_a_job_goes_on_after_a_fetch_until_the_replay_failed(monkeypatch):
    made, failed = threading.Event(), threading.Event()
    monkeypatch.setattr(replay, "_tables", (made, failed))
    replay._go_on(20_000)
    failed.set()
    with pytest.raises(RuntimeError, match="this job stops"):
        replay._go_on(20_000)
