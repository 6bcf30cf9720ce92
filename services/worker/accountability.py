"""The worker's side of SPEC section 12, in the batch's transaction: watchlist entries into their
table, the watchlist the rules need for the batch, scorecard rows per case, and the refold of the
cases a late watchlist entry concerns (see `services.domain.refold`).

Watchlist events carry a party id as their case_id and make no case: they are kept out of the
case fold, deduplicated by their own table's primary key, and never written to the timeline.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Connection, Text, cast, delete, insert, select, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import events
from events import WATCHLIST_EVENTS, AlertCode, AlertStatus, WatchlistEntryAdded
from services.domain import Alert, AlertChange, CaseState, RuleConfig
from services.domain.alerts import Change
from services.domain.refold import refold
from services.domain.scorecards import STAT_NAMES, case_figures, delta
from services.domain.watchlist import Entry, Party, Watchlist, entry_of, named_by, named_ever
from services.worker import upsert
from services.worker.rows import Delivered, alert_message, alert_row, utc
from services.worker.views import Views

OFFERS = frozenset({"recruitment.job_offer_made", "recruitment.contract_signed"})


def split(
    conn: Connection, views: Views, fresh: list[Delivered]
) -> tuple[list[Delivered], list[Delivered], list[tuple[Delivered, str]]]:
    """(case events, new watchlist events, watchlist events already held with the envelope held
    under their event_id): the caller counts those as duplicates or conflicting duplicates."""
    listings = [d for d in fresh if d.event.event_type in WATCHLIST_EVENTS]
    cases = [d for d in fresh if d.event.event_type not in WATCHLIST_EVENTS]
    if not listings or views.watchlist is None:
        return cases, [], []
    w = views.watchlist.c
    held: dict[str, str] = dict(
        conn.execute(
            select(w.event_id, cast(w.envelope, Text)).where(w.event_id.in_([str(d.event.event_id) for d in listings]))
        ).all()
    )
    new, known = [], []
    for delivered in listings:
        event_id = str(delivered.event.event_id)
        if event_id in held:
            known.append((delivered, held[event_id]))
        else:
            held[event_id] = delivered.envelope  # the same event twice in one batch
            new.append(delivered)
    return cases, new, known


def rules_for_batch(
    conn: Connection,
    views: Views,
    rules: RuleConfig,
    case_events: Sequence[Delivered],
    states: dict[str, CaseState],
    listings: Sequence[Delivered],
) -> RuleConfig:
    """`rules` with the watchlist history of every party the batch's offers and contracts (and their
    cases' earlier ones) name, plus the batch's own entries."""
    parties: set[Party] = set()
    for delivered in case_events:
        event = delivered.event
        if event.event_type in OFFERS:
            state = states.get(event.case_id) or CaseState(case_id=event.case_id)
            parties |= named_by(state, event) | named_ever(state)
    batch = [entry_of(d.event) for d in listings]
    if not parties and not batch:
        return rules
    return replace(rules, watchlist=Watchlist(tuple(_load_entries(conn, views, parties)) + tuple(batch)))


def write_party_cases(
    conn: Connection, views: Views, states: dict[str, CaseState], before: dict[str, CaseState]
) -> None:
    """Replace the scorecard rows of each case in `states` by its current figures, and move the
    aggregate rows by the difference from `before` (the cases as they were loaded; absent: new)."""
    table = views.party_cases
    if table is None or not states:
        return
    conn.execute(delete(table).where(table.c.case_id.in_(list(states))))
    rows = party_rows(states)
    if rows:
        conn.execute(insert(table), rows)
    add_aggregates(conn, views, states, before)


def party_rows(states: dict[str, CaseState]) -> list[dict]:
    """The `party_cases` rows of `states`."""
    return [
        {
            **figures.__dict__,
            "case_id": case_id,
            "destination_country": state.destination_country,
            "origin_region": state.origin_region,
        }
        for case_id, state in states.items()
        for figures in case_figures(state)
    ]


def add_aggregates(conn: Connection, views: Views, states: dict[str, CaseState], before: dict[str, CaseState]) -> None:
    """Move `party_stats` and `party_wage_gaps` by what the cases changed since `before`."""
    counts: dict = defaultdict(Counter)
    gaps: Counter = Counter()
    for case_id, state in states.items():
        case_counts, case_gaps = delta(before.get(case_id), state)
        for key, change in case_counts.items():
            counts[key].update(change)
        gaps.update(case_gaps)
    names = ("party_kind", "party_id", "destination_country", "origin_region")
    _add(
        conn,
        views.party_stats,
        names,
        STAT_NAMES,
        [{**dict(zip(names, key, strict=True)), **{n: counts[key][n] for n in STAT_NAMES}} for key in sorted(counts)],
    )
    _add(
        conn,
        views.party_wage_gaps,
        (*names, "bucket"),
        ("cases",),
        [
            {**dict(zip(names, key, strict=True)), "bucket": bucket, "cases": gaps[key, bucket]}
            for key, bucket in sorted(gaps)
            if gaps[key, bucket]
        ],
    )
    # A row left at zero goes, so the rows are a function of the cases, not of how batches fell
    # (a replay folds in other batches and must find the same rows).
    for table, keys in ((views.party_stats, list(counts)), (views.party_wage_gaps, [key for key, _ in gaps])):
        if table is not None and keys and before:
            parties = sorted({(kind, party_id) for kind, party_id, _, _ in keys})
            conn.execute(
                delete(table).where(table.c.cases == 0, tuple_(table.c.party_kind, table.c.party_id).in_(parties))
            )


def _add(conn: Connection, table, keys: tuple[str, ...], names: tuple[str, ...], rows: list[dict]) -> None:
    """Add each row's `names` to the stored row with the same `keys` (insert it if there is none).
    Rows go in key order, so two workers adding to the same rows cannot deadlock."""
    if table is None or not rows:
        return
    if conn.dialect.name == "postgresql":
        upsert.add_rows(conn, table, keys, names, rows)
        return
    statement = sqlite_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in names}
    )
    conn.execute(statement, rows)


WriteCase = Callable[[Connection, Views, dict[str, CaseState], dict, RuleConfig], None]
UpsertAlerts = Callable[[Connection, Views, list[dict]], None]


def apply_listings(
    conn: Connection,
    views: Views,
    listings: Sequence[Delivered],
    rules: RuleConfig,
    changes_out: list[dict],
    write_cases: WriteCase,
    upsert_alerts: UpsertAlerts,
) -> None:
    """Store the entries, then refold each case the entries may concern: one whose events Passage
    recorded after an entry (it was judged without it) or with an unresolved WATCHLISTED_PARTY."""
    if views.watchlist is None:
        return
    entries = [entry_of(d.event) for d in listings]
    conn.execute(insert(views.watchlist), [watchlist_row(d, e) for d, e in zip(listings, entries, strict=True)])
    refold_concerned(conn, views, entries, rules, changes_out, write_cases, upsert_alerts)


def refold_concerned(
    conn: Connection,
    views: Views,
    entries: list[Entry],
    rules: RuleConfig,
    changes_out: list[dict],
    write_cases: WriteCase,
    upsert_alerts: UpsertAlerts,
) -> None:
    """Refold each case the stored `entries` may concern (also the last step of a bulk replay,
    which folds the cases without the watchlist first)."""
    if not entries:
        return
    for case_id in sorted(_concerned(conn, views, entries)):
        _refold_case(
            conn, views, case_id, rules, changes_out, write_cases, upsert_alerts, trigger=max(entries).event_id
        )


def stored_entries(conn: Connection, views: Views) -> list[Entry]:
    """Every watchlist entry `views` hold."""
    if views.watchlist is None:
        return []
    w = views.watchlist.c
    rows = conn.execute(select(w.event_id, w.party_kind, w.party_id, w.listed, w.recorded_at))
    return [Entry(utc(_aware(r.recorded_at)), r.event_id, r.party_kind, r.party_id, r.listed) for r in rows]


def _concerned(conn: Connection, views: Views, entries: list[Entry]) -> set[str]:
    if views.party_cases is None:
        return set()
    concerned: set[str] = set()
    pc, t, a = views.party_cases.c, views.timeline.c, views.alerts.c
    for entry in entries:
        cases = select(pc.case_id).where(pc.party_kind == entry.party_kind, pc.party_id == entry.party_id)
        later = select(t.case_id).where(t.case_id.in_(cases), t.recorded_at > entry.recorded_at)
        flagged = select(a.case_id).where(
            a.case_id.in_(cases), a.code == AlertCode.WATCHLISTED_PARTY.value, a.status != AlertStatus.resolved.value
        )
        concerned |= set(conn.execute(later.union(flagged)).scalars())
    return concerned


def _refold_case(
    conn: Connection,
    views: Views,
    case_id: str,
    rules: RuleConfig,
    changes_out: list[dict],
    write_cases: WriteCase,
    upsert_alerts: UpsertAlerts,
    trigger: str,
) -> None:
    c, t = views.cases.c, views.timeline.c
    row = conn.execute(
        select(cast(c.state, Text).label("state"), c.event_count, c.destination_country, c.origin_region).where(
            c.case_id == case_id
        )
    ).one_or_none()
    if row is None:
        return
    before = CaseState.model_validate_json(row.state)
    envelopes = conn.execute(
        select(cast(t.envelope, Text))
        .where(t.case_id == case_id)
        .order_by(t.topic_partition, t.topic_offset, t.recorded_at, t.event_id)
    ).scalars()
    case_events = [events.decode(text.encode()) for text in envelopes]
    watchlist = Watchlist(tuple(_load_entries(conn, views, named_ever(before))))
    after = refold(case_events, watchlist.entries, replace(rules, watchlist=watchlist))
    if after is None or after.alerts == before.alerts:
        return
    changed = [alert for alert_id, alert in after.alerts.items() if before.alerts.get(alert_id) != alert]
    gone = [alert_id for alert_id in before.alerts if alert_id not in after.alerts]
    write_cases(
        conn,
        views,
        {case_id: after},
        {case_id: (before, row.event_count, (row.destination_country, row.origin_region))},
        rules,
    )
    if gone:
        conn.execute(delete(views.alerts).where(views.alerts.c.alert_id.in_(gone)))
    alert_changes = [AlertChange(alert=alert, change=_change_of(alert)) for alert in changed]
    upsert_alerts(conn, views, [alert_row(change, after) for change in alert_changes])
    changes_out += [alert_message(change, after, trigger) for change in alert_changes]
    write_party_cases(conn, views, {case_id: after}, {case_id: before})


def _change_of(alert: Alert) -> Change:
    return _CHANGE_OF[alert.status.value]


_CHANGE_OF: dict[str, Change] = {"open": "raised", "acknowledged": "acknowledged", "resolved": "resolved"}


def _load_entries(conn: Connection, views: Views, parties: Iterable[Party]) -> list[Entry]:
    parties = sorted(set(parties))
    if views.watchlist is None or not parties:
        return []
    w = views.watchlist.c
    rows = conn.execute(
        select(w.event_id, w.party_kind, w.party_id, w.listed, w.recorded_at).where(
            tuple_(w.party_kind, w.party_id).in_(parties)
        )
    )
    return [Entry(utc(_aware(r.recorded_at)), r.event_id, r.party_kind, r.party_id, r.listed) for r in rows]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite keeps no offset


def watchlist_row(delivered: Delivered, entry: Entry) -> dict:
    event = delivered.event
    return {
        "event_id": entry.event_id,
        "party_kind": entry.party_kind,
        "party_id": entry.party_id,
        "listed": entry.listed,
        "reason": event.payload.reason if isinstance(event.payload, WatchlistEntryAdded) else None,
        "recorded_at": entry.recorded_at,
        "occurred_at": utc(event.occurred_at),
        "source_agency_id": event.source.agency_id if event.source else None,
        "envelope": json.loads(delivered.envelope),
    }
