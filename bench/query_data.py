"""Synthetic welfare and protection views for the query benchmark, as COPY text (tab-separated).

Shapes follow what the worker writes: destinations weighted towards the Gulf, pre-offer stages
without a destination, about 3 alerts per case (mostly resolved), each case's open_alerts and
top severity consistent with its alerts, a folded `state` JSON of about 1 KB per case, and one
job offer per case past the offer stage.
Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import uuid
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

NULL = r"\N"
CHUNK = 5000
END = datetime(2026, 11, 1, tzinfo=UTC)
DESTINATIONS = {
    "SA": 22,
    "AE": 20,
    "QA": 10,
    "KW": 8,
    "OM": 6,
    "MY": 6,
    "BH": 4,
    "SG": 4,
    "GB": 4,
    "JO": 3,
    "IT": 3,
    "DE": 3,
    "CA": 3,
    "LB": 2,
    "AU": 2,
}
ORIGINS = [
    "Kerala",
    "Uttar Pradesh",
    "Bihar",
    "Tamil Nadu",
    "Rajasthan",
    "Punjab",
    "Andhra Pradesh",
    "Telangana",
    "West Bengal",
    "Maharashtra",
    "Gujarat",
    "Karnataka",
    "Odisha",
    "Jharkhand",
    "Assam",
    "Haryana",
    "Himachal Pradesh",
    "Uttarakhand",
    "Goa",
    "Madhya Pradesh",
    "Chhattisgarh",
    "Delhi",
    "Jammu and Kashmir",
    "Manipur",
    "Tripura",
    "Meghalaya",
    "Nagaland",
    "Mizoram",
    "Sikkim",
    "Ladakh",
]
STAGES = {
    "registered": 5,
    "skilling": 8,
    "job_ready": 7,
    "recruiting": 10,
    "cleared": 5,
    "deployed": 50,
    "returned": 15,
}
PRE_OFFER = {"registered", "skilling", "job_ready"}
OCCUPATIONS = [
    "9111",
    "9112",
    "7112",
    "7115",
    "7126",
    "7411",
    "8322",
    "5120",
    "5131",
    "5322",
    "9313",
    "9329",
    "7212",
    "7231",
    "8332",
    "6111",
    "9211",
    "3221",
    "2221",
    "5141",
]
CODES = [
    ("DISTRESS", "critical"),
    ("ABUSE_REPORTED", "critical"),
    ("DEATH_REPORTED", "critical"),
    ("MISSING", "critical"),
    ("DETENTION", "high"),
    ("PASSPORT_CONFISCATED", "high"),
    ("WAGE_THEFT", "high"),
    ("UNDERPAID", "high"),
    ("CONTRACT_SUBSTITUTION", "high"),
    ("DEPARTED_WITHOUT_CLEARANCE", "high"),
    ("WAGE_UNPAID", "high"),
    ("NOT_ARRIVED", "high"),
    ("RECRUITMENT_FEE_CHARGED", "medium"),
    ("WELFARE_CONCERN", "medium"),
    ("NO_WELFARE_CHECK", "medium"),
    ("VISA_EXPIRED", "medium"),
    ("INSURANCE_LAPSED", "medium"),
]
RANK = {"critical": 3, "high": 2, "medium": 1}
STATUSES = ["resolved"] * 83 + ["open"] * 12 + ["acknowledged"] * 5
CASE_COLUMNS = [
    "case_id",
    "stage",
    "stage_since",
    "given_name",
    "family_name",
    "nationality",
    "origin_region",
    "occupation_code",
    "destination_country",
    "employer_id",
    "contract",
    "departed_at",
    "arrived_at",
    "last_wage_period",
    "last_wage_at",
    "last_welfare_check_at",
    "wellbeing",
    "open_alerts",
    "top_severity",
    "top_severity_rank",
    "returned_at",
    "return_reason",
    "event_count",
    "last_event_at",
    "next_deadline",
    "state",
]
OFFER_COLUMNS = [
    "event_id",
    "case_id",
    "offer_id",
    "occupation_code",
    "destination_country",
    "origin_region",
    "occurred_at",
]
ALERT_COLUMNS = [
    "alert_id",
    "case_id",
    "code",
    "severity",
    "severity_rank",
    "status",
    "raised_at",
    "trigger_event_id",
    "acknowledged_by",
    "acknowledged_at",
    "resolved_by",
    "resolved_at",
    "note",
    "destination_country",
    "origin_region",
]


def _weighted(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=n)


class World:
    def __init__(self, n_cases: int, n_alerts: int, seed: int) -> None:
        rng = random.Random(seed)
        self.n_cases, self.n_alerts = n_cases, n_alerts
        self.times = [
            (END - timedelta(seconds=rng.randrange(3 * 365 * 86400))).isoformat(sep=" ") for _ in range(20_000)
        ]
        self.stage = _weighted(rng, STAGES, n_cases)
        dests = _weighted(rng, DESTINATIONS, n_cases)
        self.dest = [None if s in PRE_OFFER else d for s, d in zip(self.stage, dests, strict=True)]
        self.origin = rng.choices(ORIGINS, weights=[30 - i for i in range(len(ORIGINS))], k=n_cases)
        self.occupation = rng.choices(OCCUPATIONS, k=n_cases)
        # Alerts land on cases past the offer (their welfare and recruitment rules fire there).
        eligible = array("l", (i for i, s in enumerate(self.stage) if s not in PRE_OFFER))
        self.alert_case = array("l", (eligible[rng.randrange(len(eligible))] for _ in range(n_alerts)))
        self.alert_code = array("b", (rng.randrange(len(CODES)) for _ in range(n_alerts)))
        self.alert_status = array("b", (rng.randrange(len(STATUSES)) for _ in range(n_alerts)))
        self.alert_time = array("l", (rng.randrange(len(self.times)) for _ in range(n_alerts)))
        self.open_alerts = array("l", bytes(8 * n_cases))
        self.top_rank = array("b", bytes(n_cases))
        for case, code, status in zip(self.alert_case, self.alert_code, self.alert_status, strict=True):
            if STATUSES[status] != "resolved":
                self.open_alerts[case] += 1
                self.top_rank[case] = max(self.top_rank[case], RANK[CODES[code][1]])

    @staticmethod
    def case_id(i: int) -> str:
        return f"IN-{2020 + i % 7}-{i:07d}"

    def case_chunks(self) -> Iterator[bytes]:
        severity_of = {0: NULL, 1: "medium", 2: "high", 3: "critical"}
        seen = json.dumps([str(uuid.UUID(int=k)) for k in range(1, 20)])
        lines = []
        for i in range(self.n_cases):
            cid, stage, dest = self.case_id(i), self.stage[i], self.dest[i]
            t = self.times[i % len(self.times)]
            deployed = stage in ("deployed", "returned")
            contract = (
                f'{{"contract_id": "K-{i}", "monthly_wage": {{"amount": "1500.00", "currency": "SAR"}}, '
                '"contract_months": 24}'
                if deployed
                else NULL
            )
            state = f'{{"case_id": "{cid}", "seen": {seen}, "stages": [["{t}", "{stage}"]]}}'
            rank = self.top_rank[i]
            lines.append(
                "\t".join(
                    (
                        cid,
                        stage,
                        t,
                        "Asha",
                        "Kumari",
                        "IN",
                        self.origin[i],
                        self.occupation[i],
                        dest or NULL,
                        f"E-{i % 5000}" if dest else NULL,
                        contract,
                        t if deployed else NULL,
                        t if deployed else NULL,
                        "2026-09" if deployed else NULL,
                        t if deployed else NULL,
                        t if deployed else NULL,
                        "ok" if deployed else "unknown",
                        str(self.open_alerts[i]),
                        severity_of[rank],
                        str(rank),
                        t if stage == "returned" else NULL,
                        "completed" if stage == "returned" else NULL,
                        "12",
                        t,
                        NULL,
                        state,
                    )
                )
            )
            if len(lines) == CHUNK:
                yield ("\n".join(lines) + "\n").encode()
                lines = []
        if lines:
            yield ("\n".join(lines) + "\n").encode()

    def offer_chunks(self) -> Iterator[bytes]:
        """One job offer per case past the offer (recruiting and later), made at a time spread over
        the three years before END: about a third of them fall in the offers_365d window."""
        lines = []
        for i in range(self.n_cases):
            if self.stage[i] in PRE_OFFER:
                continue
            t = self.times[(i * 7919) % len(self.times)]
            lines.append(
                "\t".join(
                    (
                        str(uuid.UUID(int=(1 << 64) + i)),
                        self.case_id(i),
                        f"O-{i}",
                        self.occupation[i],
                        self.dest[i],
                        self.origin[i],
                        t,
                    )
                )
            )
            if len(lines) == CHUNK:
                yield ("\n".join(lines) + "\n").encode()
                lines = []
        if lines:
            yield ("\n".join(lines) + "\n").encode()

    def alert_chunks(self) -> Iterator[bytes]:
        lines = []
        for j in range(self.n_alerts):
            case = self.alert_case[j]
            code, severity = CODES[self.alert_code[j]]
            status = STATUSES[self.alert_status[j]]
            t = self.times[self.alert_time[j]]
            lines.append(
                "\t".join(
                    (
                        str(uuid.UUID(int=j + 1)),
                        self.case_id(case),
                        code,
                        severity,
                        str(-RANK[severity]),
                        status,
                        t,
                        NULL,
                        "officer-1" if status != "open" else NULL,
                        t if status != "open" else NULL,
                        "officer-1" if status == "resolved" else NULL,
                        t if status == "resolved" else NULL,
                        "handled" if status == "resolved" else NULL,
                        self.dest[case] or NULL,
                        self.origin[case],
                    )
                )
            )
            if len(lines) == CHUNK:
                yield ("\n".join(lines) + "\n").encode()
                lines = []
        if lines:
            yield ("\n".join(lines) + "\n").encode()
