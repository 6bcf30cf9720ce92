"""The journey at home: registration, skilling, recruitment and clearance (SPEC section 3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.demo import bad_actors
from services.demo import corridors as w
from services.demo.story import MONTH, Ended, Placement, Story, day


def register(s: Story, by: str) -> None:
    o, rng = s.origin, s.rng
    female = s.chance(s.occupation.female_share)
    born = s.t - timedelta(days=rng.uniform(21, 45) * 365.25)
    payload: dict[str, Any] = {
        "given_name": rng.choice(o.female_names if female else o.male_names),
        "family_name": rng.choice(o.family_names),
        "date_of_birth": day(born),
        "sex": "female" if female else "male",
        "nationality": o.code,
        "origin_region": rng.choice(o.regions),
        "consent": {"data_sharing": s.chance(0.95)},
    }
    if s.chance(0.8):
        payload["passport_number"] = f"{rng.choice('ABCKLMNPRTZ')}{rng.randrange(10**6, 10**7)}"
    if s.chance(0.9):
        payload["phone"] = f"{o.dial_code}{rng.randrange(10**8, 10**9)}{rng.randrange(10)}"
    if s.chance(0.7):
        first = rng.choices(list(o.destinations), weights=list(o.destinations.values()))[0]
        payload["aspirations"] = {"occupations": [s.occupation.code], "countries": [first]}
    s.emit(by, "migrant.registered", payload)


def skill(s: Story) -> None:
    """Assessment, a training course of some weeks, certification; a few fail or drop out."""
    rng, code = s.rng, s.occupation.code
    s.wait(3, 20)
    passed = s.chance(0.9)
    s.emit(
        "skilling_body",
        "skilling.assessed",
        {"occupation_code": code, "level": rng.randint(2, 5), "result": "pass" if passed else "fail"},
    )
    if not passed and s.chance(0.6):
        raise Ended  # did not try again
    programme = f"{s.origin.code}-PRG-{code}-{rng.randint(1, 9)}"
    s.wait(7, 30)
    s.emit(
        "skilling_body",
        "skilling.training_enrolled",
        {
            "programme_id": programme,
            "provider_id": f"{s.origin.code}-TP-{rng.randint(1, 40):03d}",
            "occupation_code": code,
            "start_date": day(s.t + timedelta(days=rng.randint(3, 14))),
        },
    )
    s.wait(21, 90)
    completed = s.chance(0.93)
    s.emit(
        "skilling_body",
        "skilling.training_completed",
        {"programme_id": programme, "occupation_code": code, "outcome": "completed" if completed else "dropped"},
    )
    if not completed:
        raise Ended
    s.wait(3, 14)
    certificate = {
        "certificate_id": f"{s.origin.code}-CERT-{rng.randrange(10**7, 10**8)}",
        "occupation_code": code,
        "level": rng.randint(3, 6),
        "issuer": s.origin.skills_body,
    }
    if s.chance(0.5):
        certificate["recognized_in"] = sorted(rng.sample(list(s.origin.destinations), 2))
    s.emit("skilling_body", "skilling.certified", certificate)
    s.wait(7, 120)  # job-ready, waiting for an offer


def recruit(s: Story, p: Placement) -> bool:
    """Offer, contract, fees, orientation, visa, insurance, clearance; updates `p` to the contract
    as signed. Returns whether a clearance the destination requires was skipped."""
    rng = s.rng
    s.wait(10, 45)
    # SPEC 4a: the offer names the agency that publishes it, which then publishes the rest of the
    # recruitment (`s.agent`); the agent number is drawn as before, so a seed keeps its journeys.
    # A migrant who goes abroad again is recruited by the same agency: the gateway binds a case
    # still deployed in the views (which lag the log) to the agency of its latest offer.
    drawn = rng.randint(1, 80)
    if p.number == 1:
        s.agent = bad_actors.recruiting_agent(s.case_id, p.number, drawn, s.traits)
    agent = s.agent
    s.emit(
        "recruiting_agent",
        "recruitment.job_offer_made",
        {
            "offer_id": p.offer_id,
            "employer_id": p.employer_id,
            "employer_name": p.employer_name,
            "destination_country": p.destination,
            "occupation_code": p.occupation.code,
            "monthly_wage": s.money(p.offered_wage, p.currency),
            "contract_months": p.offered_months,
            "recruiting_agent_id": agent,
        },
        trait="remigration" if p.number > 1 else None,
    )
    substituted = "contract_substitution" in s.traits and s.chance(0.7)
    if substituted:  # signed on less than was offered, or for a different term
        if s.chance(0.7):
            p.wage = round(p.offered_wage * rng.uniform(0.65, 0.85), w.DECIMALS.get(p.currency, 2))
        else:
            p.months = rng.choice([m for m in (12, 24, 36) if m != p.offered_months])
    s.wait(5, 21)
    s.emit(
        "recruiting_agent",
        "recruitment.contract_signed",
        {
            "offer_id": p.offer_id,
            "contract_id": p.contract_id,
            "employer_id": p.employer_id,
            "monthly_wage": s.money(p.wage, p.currency),
            "contract_months": p.months,
        },
        trait="contract_substitution" if substituted else None,
    )
    _fee(s, p)
    if s.chance(0.85):
        s.wait(3, 18)
        s.emit(
            "recruiting_agent",
            "recruitment.orientation_completed",
            {"provider_id": f"{s.origin.code}-PDO-{rng.randint(1, 12):02d}"},
        )
    s.wait(7, 28)
    # Visa and insurance cover the whole contract with a margin, so they never lapse mid-contract.
    valid_until = day(s.t + timedelta(days=60) + p.months * MONTH + timedelta(days=rng.randint(60, 120)))
    s.emit(
        "mission",
        "recruitment.visa_issued",
        {
            "visa_number": f"V{p.destination}{rng.randrange(10**8, 10**9)}",
            "destination_country": p.destination,
            "valid_until": valid_until,
        },
    )
    s.wait(0, 5)
    s.emit(
        "insurer",
        "recruitment.insurance_issued",
        {
            "policy_id": f"POL-{s.origin.code}-{rng.randrange(10**7, 10**8)}",
            "insurer": f"{s.origin.code} Overseas Workers Welfare Insurance",
            "valid_until": valid_until,
        },
    )
    needs_clearance = p.destination in s.clearance_required
    if needs_clearance and "departed_without_clearance" not in s.traits:
        s.wait(2, 10)
        s.emit(
            "emigration_authority",
            "recruitment.emigration_clearance_granted",
            {"clearance_id": f"EC-{s.origin.code}-{rng.randrange(10**8, 10**9)}", "destination_country": p.destination},
        )
    return needs_clearance and "departed_without_clearance" in s.traits


def _fee(s: Story, p: Placement) -> None:
    rng = s.rng
    if "migrant_paid_fee" in s.traits and p.number == 1:
        s.wait(0, 10)
        amount = rng.uniform(600, 3500) * s.origin.usd_rate
        s.emit(
            "recruiting_agent",
            "recruitment.fee_paid",
            {
                "amount": s.money(amount, s.origin.currency),
                "paid_by": "migrant",
                "purpose": rng.choice(w.FEE_PURPOSES),
            },
            trait="migrant_paid_fee",
        )
    elif s.chance(0.7):  # the employer pays, as the employer-pays principle asks
        s.wait(0, 10)
        rate = w.DESTINATIONS[p.destination].usd_rate
        s.emit(
            "recruiting_agent",
            "recruitment.fee_paid",
            {
                "amount": s.money(rng.uniform(300, 1500) * rate, p.currency),
                "paid_by": "employer",
                "purpose": "recruitment service fee",
            },
        )
