"""The demo's case-work plan is pure: the same open alerts and seed give the same plan."""

from __future__ import annotations

from services.demo.casework import MAX_CASES, plan


def alert(case_id: str, code: str, severity: str) -> dict:
    return {"case_id": case_id, "code": code, "severity": severity}


ALERTS = [
    alert("C-1", "RECRUITMENT_FEE_CHARGED", "medium"),
    alert("C-1", "DISTRESS", "critical"),
    alert("C-2", "UNDERPAID", "high"),
    alert("C-3", "PASSPORT_CONFISCATED", "high"),
    alert("C-4", "WELFARE_CONCERN", "medium"),
    alert("C-5", "WAGE_THEFT", "high"),
]


def test_every_other_case_is_referred_for_what_its_worst_alert_calls_for():
    plans = plan(ALERTS, seed=7)
    assert [(p.case_id, p.service, p.kind) for p in plans] == [
        ("C-1", "shelter", "helpline"),
        ("C-3", "consular", "mission"),
        ("C-5", "legal", "helpline"),
    ]
    assert all(
        p.answers in {(), ("referral.accepted",), ("referral.declined",), ("referral.accepted", "referral.completed")}
        for p in plans
    )


def test_the_same_seed_gives_the_same_plan_and_the_plan_is_bounded():
    many = [alert(f"C-{i:04d}", "DISTRESS", "critical") for i in range(500)]
    assert plan(many, seed=3) == plan(list(reversed(many)), seed=3)
    assert len(plan(many, seed=3)) == MAX_CASES
