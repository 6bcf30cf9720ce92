"""GET /v1/stats/employers and /v1/stats/agents over SQLite: figures, scope, filters, watchlist."""

from __future__ import annotations

from tests.factories import listing, make, money
from tests.views import store


def journey(case_id: str, employer: str, agent: str, destination: str, region: str, *extra):
    return [
        make("migrant.registered", 0, case_id=case_id, origin_region=region),
        make(
            "recruitment.job_offer_made",
            1,
            case_id=case_id,
            employer_id=employer,
            recruiting_agent_id=agent,
            destination_country=destination,
        ),
        make("recruitment.contract_signed", 2, case_id=case_id, employer_id=employer),
        make("deployment.departed", 3, case_id=case_id, destination_country=destination),
        *(make(t, 30, case_id=case_id, **p) for t, p in extra),
    ]


def fold_into(engine, stream):
    store(engine, stream)


WAGE = ("deployment.wage_paid", {"amount": money("750.00")})
ABUSE = ("deployment.incident_reported", {"category": "sexual_abuse"})


def test_scorecards_within_scope(api, sqlite_engine):
    fold_into(
        sqlite_engine,
        [
            *journey("SC-0001", "EMP-BAD", "AG-1", "SA", "Kerala", WAGE, ABUSE),
            *journey(
                "SC-0002", "EMP-BAD", "AG-1", "SA", "Bihar", ("deployment.wage_paid", {"amount": money("1500.00")})
            ),
            *journey("SC-0003", "EMP-OK", "AG-2", "AE", "Kerala"),
            listing(0, "EMP-BAD"),
        ],
    )
    everything = api.get("/v1/stats/employers").json()["items"]
    assert [item["employer_id"] for item in everything] == ["EMP-BAD", "EMP-OK"]
    bad = everything[0]
    assert bad == {
        "employer_id": "EMP-BAD",
        "placements": 2,
        "abuse_per_100": 50.0,
        "wages_per_100": 50.0,
        "contract_per_100": 0.0,
        "fees_per_100": 0.0,
        "median_wage_gap": 75.0,
        "open_critical_alerts": 1,
        "watchlisted": True,
    }
    assert everything[1]["watchlisted"] is False and everything[1]["median_wage_gap"] is None

    assert [i["employer_id"] for i in api.get("/v1/stats/employers", who="off-sa").json()["items"]] == ["EMP-BAD"]
    kerala = api.get("/v1/stats/employers", who="off-kerala").json()["items"]
    assert [(i["employer_id"], i["placements"]) for i in kerala] == [("EMP-BAD", 1), ("EMP-OK", 1)]
    only_ae = api.get("/v1/stats/employers", destination_country="AE").json()["items"]
    assert [i["employer_id"] for i in only_ae] == ["EMP-OK"]
    assert [i["employer_id"] for i in api.get("/v1/stats/employers", min_placements=2).json()["items"]] == ["EMP-BAD"]

    agents = api.get("/v1/stats/agents").json()["items"]
    assert [(a["recruiting_agent_id"], a["placements"], a["watchlisted"]) for a in agents] == [
        ("AG-1", 2, False),
        ("AG-2", 1, False),
    ]


def test_bad_parameters_answer_422(api):
    assert api.get("/v1/stats/employers", min_placements=-1).status_code == 422
    assert api.get("/v1/stats/employers", destination_country="XX").status_code == 422
    assert api.get("/v1/stats/agents", who=None).status_code == 401
