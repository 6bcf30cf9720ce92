"""The demo's case work (SPEC section 10), after the journeys are in the views: the supervisor
takes some cases with open alerts, refers each to a service provider, and the agency referred to
answers through the gateway with its own key (some accept, some complete, some decline, some
never answer and stall). The summary then reads assignments, referrals by status and escalated
alerts back from the query API.

`plan` is pure (the same alerts and seed give the same plan); `work` does the HTTP calls.
Escalation needs time: an alert escalates PASSAGE_ACK_HOURS after Passage recorded it (default
24 h for critical), so a fresh demo shows escalations only when `passage up` runs with short
limits (e.g. PASSAGE_ACK_HOURS=critical=0.01,high=0.02,medium=0.05).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.errors import CommandError

MAX_CASES = 40
# The service an alert calls for, and the demo agency kind that provides it.
SERVICE_FOR = {
    "DISTRESS": ("shelter", "helpline"),
    "ABUSE_REPORTED": ("shelter", "helpline"),
    "MISSING": ("consular", "mission"),
    "DEATH_REPORTED": ("repatriation", "mission"),
    "DETENTION": ("consular", "mission"),
    "PASSPORT_CONFISCATED": ("consular", "mission"),
    "WAGE_THEFT": ("legal", "helpline"),
    "UNDERPAID": ("legal", "helpline"),
    "CONTRACT_SUBSTITUTION": ("legal", "helpline"),
    "WAGE_UNPAID": ("financial", "helpline"),
    "NOT_ARRIVED": ("consular", "mission"),
}
DEFAULT_SERVICE = ("psychosocial", "helpline")
# How the agency answers, as the event types it publishes in order (empty: it never answers).
ANSWERS = (
    (("referral.accepted", "referral.completed"), 4),
    (("referral.accepted",), 3),
    (("referral.declined",), 1),
    ((), 2),
)


@dataclass(frozen=True)
class Plan:
    case_id: str
    service: str
    kind: str  # the demo agency kind referred to (agency id demo-<kind>)
    answers: tuple[str, ...]


def plan(open_alerts: Iterable[dict], seed: int, limit: int = MAX_CASES) -> list[Plan]:
    """Every other case with an open alert (at most `limit`), each referred for the service its
    most severe alert calls for, with the answers its agency will give."""
    rank = {"critical": 0, "high": 1, "medium": 2}
    worst: dict[str, dict] = {}
    for alert in open_alerts:
        known = worst.get(alert["case_id"])
        if known is None or rank[alert["severity"]] < rank[known["severity"]]:
            worst[alert["case_id"]] = alert
    rng = random.Random(seed)
    chosen = sorted(worst)[::2][:limit]
    outcomes, weights = [answers for answers, _ in ANSWERS], [weight for _, weight in ANSWERS]
    return [
        Plan(
            case_id,
            *SERVICE_FOR.get(worst[case_id]["code"], DEFAULT_SERVICE),
            answers=rng.choices(outcomes, weights)[0],
        )
        for case_id in chosen
    ]


def answer_payload(event_type: str) -> dict:
    if event_type == "referral.declined":
        return {"reason": "no capacity this week; referred on to a partner organisation"}
    if event_type == "referral.completed":
        return {"outcome": "service delivered; follow-up call booked"}
    return {}


def work(
    plans: list[Plan], query, clients: dict, supervisor_id: str, agency_id: Callable[[str], str], stall_s: float = 120.0
) -> None:
    """Assign and refer each planned case, then answer each referral through the gateway (once it
    is in the views, since the gateway checks the agency against them)."""
    for item in plans:
        query.post(f"/v1/cases/{item.case_id}/assign", {"officer_id": supervisor_id})
        query.post(
            f"/v1/cases/{item.case_id}/referrals",
            {
                "service": item.service,
                "to_agency_id": agency_id(item.kind),
                "note": f"demo: please provide {item.service} support",
            },
        )
    referral_of = _wait(
        lambda: _referrals(query, plans), lambda found: len(found) == len(plans), stall_s, "the referrals in the views"
    )
    for step in range(max((len(p.answers) for p in plans), default=0)):
        by_kind: dict[str, list[dict]] = {}
        for item in plans:
            if step < len(item.answers):
                event = clients[item.kind].new_event(
                    item.answers[step],
                    item.case_id,
                    datetime.now(UTC),
                    {"referral_id": referral_of[item.case_id], **answer_payload(item.answers[step])},
                )
                by_kind.setdefault(item.kind, []).append(event)
        for kind, batch in by_kind.items():
            clients[kind].publish_batch(batch)
        expected = {
            item.case_id: item.answers[min(step, len(item.answers) - 1)].split(".")[1] for item in plans if item.answers
        }
        _wait(
            lambda wanted=expected: _statuses(query, wanted),
            lambda found, wanted=expected: found == wanted,
            stall_s,
            "the answers in the views",
        )


def summary(query, supervisor_id: str, plans: list[Plan]) -> dict:
    statuses: Counter[str] = Counter()
    for item in plans:
        statuses.update(r["status"] for r in query.case(item.case_id).get("referrals", []))
    return {
        "events": sum(2 + len(item.answers) for item in plans),  # assign, refer, the answers
        "assigned_cases": query.count("/v1/cases", {"assigned_to": supervisor_id}),
        "referrals_by_status": dict(sorted(statuses.items())),
        "escalated_alerts": query.count("/v1/alerts", {"escalated": "true"}),
    }


def _referrals(query, plans: list[Plan]) -> dict[str, str]:
    found = {}
    for item in plans:
        referrals = query.case(item.case_id).get("referrals", [])
        if referrals:
            found[item.case_id] = referrals[-1]["referral_id"]
    return found


def _statuses(query, expected: dict[str, str]) -> dict[str, str]:
    return {
        case_id: (query.case(case_id).get("referrals") or [{"status": "made"}])[-1]["status"] for case_id in expected
    }


def _wait(poll, done, stall_s: float, what: str):
    deadline = time.monotonic() + stall_s
    while True:
        found = poll()
        if done(found):
            return found
        if time.monotonic() > deadline:
            raise CommandError(f"{what} did not appear within {stall_s:.0f}s; check that `passage worker` runs")
        time.sleep(1.0)
