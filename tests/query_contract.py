"""The query API's behaviour (SPEC section 7), written once and run twice: against SQLite with a
fake publisher (tests/unit/query) and against PostgreSQL and Kafka (tests/integration/query).

A test module imports these tests with `from tests.query_contract import *` and provides an `api`
fixture: an `ApiHarness` over the world of `tests.query_seed`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

import events
from tests.factories import bearer


@dataclass
class Published:
    topic: str
    key: str
    headers: dict[str, bytes]
    event: events.Envelope


@dataclass
class ApiHarness:
    client: TestClient
    tokens: dict[str, str]
    journey_topic: str
    published: Callable[[str], Published]  # the record of an event_id, once it is on the "log"
    kafka_down: Callable[[], AbstractContextManager[None]]  # publishing fails inside this block

    def get(self, path: str, who: str | None = "sup-all", **params: Any):
        return self.client.get(path, params=params, headers=bearer(self.tokens[who]) if who else {})

    def post(self, path: str, who: str = "sup-all", body: Any = None):
        return self.client.post(path, json=body, headers=bearer(self.tokens[who]))


def ids(response, key: str = "case_id") -> list[str]:
    assert response.status_code == 200, response.text
    return [item[key] for item in response.json()["items"]]


def walk(api: ApiHarness, path: str, who: str, key: str, **params: Any) -> Iterator[list[str]]:
    """Every page of a list, following next_cursor."""
    cursor = None
    while True:
        body = api.get(path, who, **params, **({"cursor": cursor} if cursor else {})).json()
        yield [item[key] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    return body


# --- authentication -------------------------------------------------------------------------


def test_missing_bad_and_disabled_tokens_answer_401_in_the_error_shape(api):
    missing = api.get("/v1/cases", who=None)
    assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    bad = api.client.get("/v1/cases", headers=bearer("pot_not-a-real-token"))
    assert_error(bad, 401, "unauthorized")
    disabled = api.get("/v1/cases", "gone")
    assert disabled.json() == bad.json()


def test_routes_that_authenticate_in_their_own_thread_refuse_the_same_tokens(api):
    """The case lookup and the stats read the registry inside the route (services.query.auth):
    a missing, unknown or disabled token is refused there as everywhere, on every request."""
    for path in ("/v1/cases/SA-0001", "/v1/stats/stages", "/v1/stats/skills"):
        assert api.get(path).status_code == 200
        missing = api.get(path, who=None)
        assert_error(missing, 401, "unauthorized")
        assert missing.headers["www-authenticate"] == "Bearer"
        assert_error(api.client.get(path, headers=bearer("pot_not-a-real-token")), 401, "unauthorized")
        assert_error(api.get(path, "gone"), 401, "unauthorized")


def test_health_and_openapi_need_no_token(api):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/cases/{case_id}",
        "/v1/cases/{case_id}/timeline",
        "/v1/cases",
        "/v1/alerts",
        "/v1/alerts/{alert_id}/acknowledge",
        "/v1/alerts/{alert_id}/resolve",
        "/v1/cases/{case_id}/notes",
        "/v1/stats/stages",
        "/v1/stats/skills",
        "/v1/audit",
        "/healthz",
        "/readyz",
    ):
        assert path in paths


# --- one case --------------------------------------------------------------------------------


def test_case_has_welfare_fields_at_top_level_and_its_unresolved_alerts(api):
    body = api.get("/v1/cases/SA-0001").json()
    assert body["case_id"] == "SA-0001" and body["stage"] == "deployed" and body["destination_country"] == "SA"
    assert body["contract"] == {
        "contract_id": "K1",
        "monthly_wage": {"amount": "1500.00", "currency": "SAR"},
        "contract_months": 24,
    }
    assert body["open_alerts"] == 2 and body["top_severity"] == "critical" and body["wellbeing"] == "ok"
    assert body["stage_since"].endswith(("Z", "+00:00"))
    assert [a["alert_id"] for a in body["alerts"]] == ["A-DIST", "A-UNDER"]  # critical first; resolved left out
    assert {"state", "next_deadline", "top_severity_rank"}.isdisjoint(body)


def test_a_case_outside_every_scope_answers_exactly_like_a_missing_one(api):
    outside = api.get("/v1/cases/AE-0001", "off-sa")
    missing = api.get("/v1/cases/ZZ-9999", "off-sa")
    assert_error(outside, 404, "not_found")
    assert outside.json() == json.loads(json.dumps(missing.json()).replace("ZZ-9999", "AE-0001"))
    assert dict(outside.headers)["content-length"] == dict(missing.headers)["content-length"]
    assert api.get("/v1/cases/AE-0001/timeline", "off-sa").json() == outside.json()


def test_scopes_by_destination_origin_and_star(api):
    def visible(who: str) -> set[str]:
        return {
            c
            for c in ("SA-0001", "SA-0002", "AE-0001", "QA-0001", "ND-0001", "ND-0002")
            if api.get(f"/v1/cases/{c}", who).status_code == 200
        }

    assert visible("off-sa") == {"SA-0001", "SA-0002"}
    assert visible("off-kerala") == {"SA-0001", "AE-0001", "ND-0001"}  # ND-0001 has no destination yet
    assert visible("sup-all") == {"SA-0001", "SA-0002", "AE-0001", "QA-0001", "ND-0001", "ND-0002"}


def test_each_case_and_timeline_read_is_audited_and_so_is_a_refused_read(api):
    before = datetime.now(UTC)
    assert api.get("/v1/cases/SA-0002", "off-sa").status_code == 200
    assert api.get("/v1/cases/SA-0002/timeline", "off-sa").status_code == 200
    assert api.get("/v1/cases/QA-0001", "off-sa").status_code == 404
    assert api.get("/v1/cases/QA-0001/timeline", "off-sa").status_code == 404
    entries = api.get("/v1/audit", officer_id="off-sa", limit=500).json()["items"]
    mine = [e for e in entries if datetime.fromisoformat(e["at"]) >= before]
    assert [(e["officer_id"], e["case_id"], e["action"]) for e in mine] == [  # newest first
        ("off-sa", "QA-0001", "refused_read_timeline"),
        ("off-sa", "QA-0001", "refused_read_case"),
        ("off-sa", "SA-0002", "read_timeline"),
        ("off-sa", "SA-0002", "read_case"),
    ]


def test_each_page_of_cases_and_alerts_is_one_audit_row_with_the_case_ids_it_returned(api):
    before = datetime.now(UTC)
    cases_page = api.get("/v1/cases", "off-sa").json()["items"]
    alerts_page = api.get("/v1/alerts", "off-sa").json()["items"]
    entries = api.get("/v1/audit", officer_id="off-sa", limit=500).json()["items"]
    mine = [e for e in entries if datetime.fromisoformat(e["at"]) >= before]
    assert [(e["action"], e["case_id"], e["case_ids"]) for e in mine] == [
        ("list_alerts", None, list(dict.fromkeys(a["case_id"] for a in alerts_page))),
        ("list_cases", None, [c["case_id"] for c in cases_page]),
    ]


# --- timeline -------------------------------------------------------------------------------


def test_timeline_is_the_stamped_envelopes_in_occurred_recorded_event_id_order(api):
    body = api.get("/v1/cases/SA-0001/timeline").json()
    got = [(e["event_type"], e["event_id"][-1]) for e in body["events"]]
    # departed and arrived share occurred_at; departed was recorded first, though its id sorts later
    assert got == [("deployment.departed", "2"), ("deployment.arrived", "1"), ("deployment.wage_paid", "3")]
    first = body["events"][0]
    assert set(first) >= {
        "event_id",
        "event_type",
        "schema_version",
        "case_id",
        "occurred_at",
        "payload",
        "recorded_at",
        "source",
    }
    assert first["payload"] == {"destination_country": "SA"}
    assert set(first["source"]) == {"agency_id", "agency_kind"}


def test_timeline_of_a_missing_case_is_404(api):
    assert_error(api.get("/v1/cases/ZZ-9999/timeline"), 404, "not_found")


# --- case list ------------------------------------------------------------------------------


def test_case_list_is_scoped_in_case_id_order(api):
    assert ids(api.get("/v1/cases")) == ["AE-0001", "ND-0001", "ND-0002", "QA-0001", "SA-0001", "SA-0002"]
    assert ids(api.get("/v1/cases", "off-sa")) == ["SA-0001", "SA-0002"]
    assert ids(api.get("/v1/cases", "off-kerala")) == ["AE-0001", "ND-0001", "SA-0001"]
    item = api.get("/v1/cases", "off-sa").json()["items"][0]
    assert "alerts" not in item and "state" not in item and item["contract"]["contract_id"] == "K1"


def test_case_list_filters(api):
    assert ids(api.get("/v1/cases", stage="deployed")) == ["AE-0001", "SA-0001"]
    assert ids(api.get("/v1/cases", destination_country="SA")) == ["SA-0001", "SA-0002"]
    assert ids(api.get("/v1/cases", origin_region="Punjab")) == ["ND-0002", "QA-0001"]
    assert ids(api.get("/v1/cases", has_open_alerts="true")) == ["AE-0001", "SA-0001"]
    assert ids(api.get("/v1/cases", has_open_alerts="false")) == ["ND-0001", "ND-0002", "QA-0001", "SA-0002"]
    assert ids(api.get("/v1/cases", min_severity="high")) == ["AE-0001", "SA-0001"]
    assert ids(api.get("/v1/cases", min_severity="critical")) == ["SA-0001"]
    assert ids(api.get("/v1/cases", "off-kerala", stage="deployed", destination_country="AE")) == ["AE-0001"]


def test_case_list_pages_are_stable_and_complete(api):
    pages = list(walk(api, "/v1/cases", "sup-all", "case_id", limit=4))
    assert pages == [["AE-0001", "ND-0001", "ND-0002", "QA-0001"], ["SA-0001", "SA-0002"]]
    assert [len(p) for p in walk(api, "/v1/cases", "sup-all", "case_id", limit=1)] == [1] * 6
    assert api.get("/v1/cases", limit=6).json()["next_cursor"] is None
    assert len(api.get("/v1/cases").json()["items"]) == 6  # default limit 50


def test_case_list_rejects_bad_limits_cursors_and_filters(api):
    for params in (
        {"limit": 0},
        {"limit": 501},
        {"limit": "x"},
        {"cursor": "garbage"},
        {"stage": "flying"},
        {"destination_country": "ZZ"},
        {"min_severity": "low"},
    ):
        assert_error(api.get("/v1/cases", **params), 422, "invalid")
    alerts_cursor = api.get("/v1/alerts", limit=1).json()["next_cursor"]
    assert_error(api.get("/v1/cases", cursor=alerts_cursor), 422, "invalid")
    assert api.get("/v1/cases", limit=500).status_code == 200


def test_inputs_the_database_cannot_hold_are_422_not_500(api):
    from services.query.paging import encode_cursor

    for path, params in (
        ("/v1/cases", {"origin_region": "Ker\x00ala"}),
        ("/v1/alerts", {"case_id": "SA-\x000001"}),
        ("/v1/audit", {"officer_id": "off\x00sa"}),
        ("/v1/audit", {"cursor": encode_cursor("audit", [10**30])}),
        ("/v1/cases", {"cursor": encode_cursor("cases", ["SA-\x00"])}),
        ("/v1/cases/SA%000001", {}),
        ("/v1/cases/no spaces allowed/timeline", {}),
    ):
        assert_error(api.get(path, **params), 422, "invalid")
    assert_error(api.post("/v1/alerts/A%00DIST/acknowledge", "sup-all", {}), 422, "invalid")


# --- alerts inbox ---------------------------------------------------------------------------


def test_inbox_is_severity_then_oldest_first_with_every_status_by_default(api):
    assert ids(api.get("/v1/alerts"), "alert_id") == ["A-DIST", "A-WAGE", "A-PASS", "A-UNDER", "A-FEE"]
    alert = api.get("/v1/alerts", case_id="SA-0001", status="acknowledged").json()["items"][0]
    assert alert == {
        "alert_id": "A-UNDER",
        "case_id": "SA-0001",
        "code": "UNDERPAID",
        "severity": "high",
        "status": "acknowledged",
        "raised_at": alert["raised_at"],
        "trigger_event_id": None,
        "acknowledged_by": "off-sa",
        "acknowledged_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "note": None,
        "escalated_at": None,
    }


def test_inbox_filters_and_repeated_status(api):
    path = "/v1/alerts"
    assert ids(
        api.client.get(
            path, params=[("status", "open"), ("status", "acknowledged")], headers=bearer(api.tokens["sup-all"])
        ),
        "alert_id",
    ) == ["A-DIST", "A-PASS", "A-UNDER"]
    assert ids(api.get(path, status="resolved"), "alert_id") == ["A-WAGE", "A-FEE"]
    assert ids(api.get(path, severity="high"), "alert_id") == ["A-WAGE", "A-PASS", "A-UNDER"]
    assert ids(api.get(path, code="WAGE_THEFT"), "alert_id") == ["A-WAGE"]
    assert ids(api.get(path, case_id="SA-0001"), "alert_id") == ["A-DIST", "A-UNDER", "A-FEE"]
    assert ids(api.get(path, destination_country="AE"), "alert_id") == ["A-PASS"]


def test_inbox_is_scoped(api):
    assert ids(api.get("/v1/alerts", "off-sa"), "alert_id") == ["A-DIST", "A-UNDER", "A-FEE"]
    assert ids(api.get("/v1/alerts", "off-kerala"), "alert_id") == ["A-DIST", "A-PASS", "A-UNDER", "A-FEE"]


def test_inbox_pages_follow_the_order(api):
    pages = list(walk(api, "/v1/alerts", "sup-all", "alert_id", limit=2))
    assert pages == [["A-DIST", "A-WAGE"], ["A-PASS", "A-UNDER"], ["A-FEE"]]


def test_inbox_rejects_bad_parameters(api):
    for params in (
        {"status": "closed"},
        {"severity": "low"},
        {"code": "NOPE"},
        {"limit": 501},
        {"cursor": "eyJ4Ijox"},
        {"destination_country": "sa1"},
    ):
        assert_error(api.get("/v1/alerts", **params), 422, "invalid")


# --- officer actions ------------------------------------------------------------------------


def test_acknowledge_publishes_the_officer_event_stamped_by_passage(api):
    response = api.post("/v1/alerts/A-DIST/acknowledge", "off-sa", {"note": "calling her now"})
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"event_id"}
    record = api.published(response.json()["event_id"])
    assert record.topic == api.journey_topic and record.key == "SA-0001"
    assert record.headers["event_type"] == b"case.alert_acknowledged"
    event = record.event
    assert event.event_type == "case.alert_acknowledged" and event.case_id == "SA-0001"
    assert event.payload.model_dump() == {"alert_id": "A-DIST", "officer_id": "off-sa", "note": "calling her now"}
    assert event.source.model_dump(mode="json") == {"agency_id": "passage-query", "agency_kind": "passage"}
    assert event.recorded_at is not None


def test_acknowledge_without_a_body_or_note(api):
    for body in (None, {}):
        response = api.post("/v1/alerts/A-UNDER/acknowledge", "sup-all", body)
        assert response.status_code == 202, response.text
        assert api.published(response.json()["event_id"]).event.payload.note is None


def test_resolve_publishes_with_the_note(api):
    response = api.post("/v1/alerts/A-PASS/resolve", "off-kerala", {"note": "passport returned by employer"})
    assert response.status_code == 202, response.text
    event = api.published(response.json()["event_id"]).event
    assert event.event_type == "case.alert_resolved" and event.case_id == "AE-0001"
    assert event.payload.model_dump() == {
        "alert_id": "A-PASS",
        "officer_id": "off-kerala",
        "note": "passport returned by employer",
    }


def test_actions_on_missing_out_of_scope_and_resolved_alerts(api):
    assert_error(api.post("/v1/alerts/NOPE/acknowledge", "sup-all", {}), 404, "not_found")
    assert_error(api.post("/v1/alerts/A-PASS/acknowledge", "off-sa", {}), 404, "not_found")
    assert_error(api.post("/v1/alerts/A-PASS/resolve", "off-sa", {"note": "x"}), 404, "not_found")
    assert_error(api.post("/v1/alerts/A-WAGE/resolve", "sup-all", {"note": "again"}), 409, "conflict")
    assert_error(api.post("/v1/alerts/A-FEE/acknowledge", "off-sa", {}), 409, "conflict")


def test_action_bodies_are_validated(api):
    assert_error(api.post("/v1/alerts/A-DIST/resolve", "sup-all", {}), 422, "invalid")
    assert_error(api.post("/v1/alerts/A-DIST/resolve", "sup-all", {"note": ""}), 422, "invalid")
    assert_error(api.post("/v1/alerts/A-DIST/acknowledge", "sup-all", {"note": "x", "extra": 1}), 422, "invalid")
    assert_error(api.post("/v1/cases/SA-0001/notes", "sup-all", {"txt": "typo"}), 422, "invalid")


def test_kafka_not_acknowledging_answers_503(api):
    with api.kafka_down():
        for path, body in (
            ("/v1/alerts/A-DIST/acknowledge", {}),
            ("/v1/alerts/A-DIST/resolve", {"note": "x"}),
            ("/v1/cases/SA-0001/notes", {"text": "x"}),
        ):
            response = api.post(path, "sup-all", body)
            assert_error(response, 503, "unavailable")
            assert response.headers["retry-after"]


def test_note_is_published_for_a_case_in_scope_only(api):
    response = api.post("/v1/cases/SA-0002/notes", "off-sa", {"text": "met the recruiter"})
    assert response.status_code == 202, response.text
    record = api.published(response.json()["event_id"])
    assert record.key == "SA-0002" and record.event.event_type == "case.note_added"
    assert record.event.payload.model_dump() == {"officer_id": "off-sa", "text": "met the recruiter"}
    assert_error(api.post("/v1/cases/AE-0001/notes", "off-sa", {"text": "x"}), 404, "not_found")
    assert_error(api.post("/v1/cases/ZZ-9999/notes", "sup-all", {"text": "x"}), 404, "not_found")


# --- stats ----------------------------------------------------------------------------------


def rows(response, *fields: str) -> list[tuple]:
    assert response.status_code == 200, response.text
    return [tuple(item[f] for f in fields) for item in response.json()["items"]]


def test_stage_counts_per_destination_within_scope(api):
    fields = ("destination_country", "stage", "count")
    assert rows(api.get("/v1/stats/stages"), *fields) == [
        ("AE", "deployed", 1),
        ("QA", "returned", 1),
        ("SA", "deployed", 1),
        ("SA", "recruiting", 1),
        (None, "job_ready", 2),
    ]
    assert rows(api.get("/v1/stats/stages", destination_country="SA"), *fields) == [
        ("SA", "deployed", 1),
        ("SA", "recruiting", 1),
    ]
    assert rows(api.get("/v1/stats/stages", "off-kerala"), *fields) == [
        ("AE", "deployed", 1),
        ("SA", "deployed", 1),
        (None, "job_ready", 1),
    ]
    assert rows(api.get("/v1/stats/stages", "off-sa", destination_country="AE"), *fields) == []
    assert_error(api.get("/v1/stats/stages", destination_country="XX"), 422, "invalid")


def test_skills_supply_and_demand_within_scope(api):
    fields = ("occupation_code", "destination_country", "job_ready", "offers_365d", "deployed")
    assert rows(api.get("/v1/stats/skills"), *fields) == [
        ("7112", "QA", 0, 1, 0),
        ("7112", None, 1, 0, 0),
        ("9111", "AE", 0, 1, 1),
        ("9111", "SA", 0, 1, 1),
        ("9111", None, 1, 0, 0),
    ]  # the 400-day offer is out
    # origin scope: the AE offer went to a Punjab migrant, so a Kerala officer does not count it
    assert rows(api.get("/v1/stats/skills", "off-kerala"), *fields) == [
        ("9111", "AE", 0, 0, 1),
        ("9111", "SA", 0, 1, 1),
        ("9111", None, 1, 0, 0),
    ]
    assert rows(api.get("/v1/stats/skills", "off-sa"), *fields) == [("9111", "SA", 0, 1, 1)]


def test_stats_answers_are_exactly_their_documented_models(api):
    """The stats routes write their rows to JSON without the model (services.query.routes_stats):
    each answer must still be what the model would have written, no field more or less, of the
    documented types (a count that came back as PostgreSQL's numeric sum would be a string)."""
    from services.query.models import SkillStats, StageStats

    for path, model in (("/v1/stats/stages", StageStats), ("/v1/stats/skills", SkillStats)):
        for who in ("sup-all", "off-kerala", "off-sa"):
            response = api.get(path, who)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            answer = response.json()
            assert answer["items"], (path, who)
            assert model.model_validate(answer, strict=True).model_dump(mode="json") == answer, (path, who)


# --- audit ----------------------------------------------------------------------------------


def test_audit_is_for_supervisors_only(api):
    assert_error(api.get("/v1/audit", "off-sa"), 403, "forbidden")
    assert api.get("/v1/audit", "sup-sa").status_code == 200


def test_audit_filters_pages_and_scope(api):
    for _ in range(3):
        api.get("/v1/cases/AE-0001", "sup-all")
    api.get("/v1/cases/SA-0001/timeline", "sup-all")
    mine = ids(api.get("/v1/audit", officer_id="sup-all", case_id="AE-0001", limit=500), "case_id")
    assert len(mine) >= 3 and set(mine) == {"AE-0001"}
    pages = list(walk(api, "/v1/audit", "sup-all", "id", officer_id="sup-all", case_id="AE-0001", limit=2))
    flat = [i for p in pages for i in p]
    assert flat == sorted(flat, reverse=True) and len(flat) == len(set(flat)) == len(mine)
    # a dest:SA supervisor sees reads of SA cases only
    assert set(ids(api.get("/v1/audit", "sup-sa", limit=500), "case_id")) <= {"SA-0001", "SA-0002"}
    assert "SA-0001" in ids(api.get("/v1/audit", "sup-sa", limit=500), "case_id")
    assert ids(api.get("/v1/audit", "sup-sa", case_id="AE-0001"), "case_id") == []
    assert_error(api.get("/v1/audit", cursor="bm9wZQ"), 422, "invalid")


__all__ = [name for name in globals() if name.startswith("test_")]
