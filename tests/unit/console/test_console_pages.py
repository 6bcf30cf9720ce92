"""The console's pages over the query API's own code: sessions, CSRF, scoping, actions, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from services.console.sessions import COOKIE, sessions
from services.query.app import create_app
from services.query.sql import audit
from services.storage.db import make_engine
from tests.fakes import FakePublisher


def test_pages_need_a_session_and_send_you_to_sign_in(console):
    for path in ("/console/inbox", "/console/cases", "/console/cases/SA-0001", "/console/headcount", "/console/skills"):
        answer = console.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in"), path


def test_signing_in_sets_a_strict_http_only_cookie_and_opens_the_inbox(console):
    answer = console.sign_in()
    assert answer.status_code == 303 and answer.headers["location"] == "/console/inbox"
    cookie = [h for h in answer.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")][0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "max-age=28800" in cookie and "secure" not in cookie  # plain HTTP here; Secure behind TLS
    inbox = console.get("/console/inbox")
    assert inbox.status_code == 200 and "Distress" in inbox.text and "AE-0001" in inbox.text
    assert inbox.headers["cache-control"] == "no-store" and inbox.headers["x-content-type-options"] == "nosniff"
    [policy] = inbox.headers.get_list("content-security-policy")  # the console's, not the API's 'none'
    assert "default-src 'self'" in policy and "script-src 'none'" in policy


def test_a_bad_token_or_a_forged_sign_in_form_is_refused(console):
    assert console.sign_in(token="pot_wrong").status_code == 401
    assert console.sign_in(who="gone").status_code == 401
    forged = console.client.post(
        "/console/sign-in", data={"token": console.tokens["sup-all"], "csrf_token": "x"}, follow_redirects=False
    )
    assert forged.status_code == 400 and COOKIE not in forged.cookies


def test_signing_out_makes_the_old_cookie_worthless(console):
    console.sign_in()
    stolen = console.client.cookies.get(COOKIE)
    out = console.post("/console/sign-out", {})
    assert out.status_code == 303 and "signed_out" in out.headers["location"]
    console.client.cookies.set(COOKIE, stolen, path="/console")
    assert console.get("/console/inbox").headers["location"].startswith("/console/sign-in")


def test_an_expired_session_gets_the_sign_in_page(console, sqlite_engine):
    console.sign_in()
    with sqlite_engine.begin() as conn:
        conn.execute(update(sessions).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert console.get("/console/inbox").headers["location"].startswith("/console/sign-in")


def test_forms_without_the_session_csrf_token_are_refused(console):
    console.sign_in()
    answer = console.post("/console/cases/SA-0001/notes", {"text": "hello"}, csrf="forged")
    assert answer.status_code == 403 and console.publisher.records == []


def test_the_case_page_reads_through_the_api_and_is_audited(console, sqlite_engine):
    console.sign_in("off-sa")
    page = console.get("/console/cases/SA-0001")
    assert page.status_code == 200
    assert "Case SA-0001" in page.text and "Saudi Arabia" in page.text and "Domestic cleaners and helpers" in page.text
    assert "Arrived in" in page.text and "Departed for" in page.text  # the timeline as sentences
    with sqlite_engine.connect() as conn:
        actions = (
            conn.execute(select(audit.c.action).where(audit.c.case_id == "SA-0001", audit.c.officer_id == "off-sa"))
            .scalars()
            .all()
        )
    assert sorted(actions) == ["read_case", "read_timeline"]


def test_out_of_scope_missing_and_malformed_cases_give_the_same_not_found_page(console):
    console.sign_in("off-sa")
    pages = [console.get(f"/console/cases/{case_id}") for case_id in ("AE-0001", "XX-9999", "bad id!")]
    assert {page.status_code for page in pages} == {404}
    assert pages[0].text == pages[1].text and "Not found" in pages[0].text


def test_search_by_case_id_opens_the_case_and_explains_a_malformed_id(console):
    console.sign_in()
    assert console.get("/console/cases", case_id="SA-0001").headers["location"] == "/console/cases/SA-0001"
    bad = console.get("/console/cases", case_id="no")
    assert bad.status_code == 200 and "is not a case id" in bad.text


def test_acknowledge_resolve_and_note_publish_the_officer_events(console):
    console.sign_in("off-sa")
    ack = console.post(
        "/console/alerts/A-DIST/acknowledge", {"note": "called her", "next": "/console/inbox?status=open"}
    )
    assert ack.status_code == 303 and ack.headers["location"] == "/console/inbox?status=open&notice=acknowledged"
    resolved = console.post(
        "/console/alerts/A-DIST/resolve", {"note": "moved to shelter", "next": "https://evil.test/"}
    )
    assert resolved.headers["location"] == "/console/inbox?notice=resolved"
    note = console.post("/console/cases/SA-0001/notes", {"text": "spoke to the employer"})
    assert note.headers["location"] == "/console/cases/SA-0001?notice=note"
    published = console.published()
    assert [(e.event_type, e.payload.officer_id) for e in published] == [
        ("case.alert_acknowledged", "off-sa"),
        ("case.alert_resolved", "off-sa"),
        ("case.note_added", "off-sa"),
    ]


def test_actions_out_of_scope_or_on_resolved_alerts_publish_nothing(console):
    console.sign_in("off-sa")
    assert console.post("/console/alerts/A-PASS/resolve", {"note": "x"}).status_code == 404
    assert console.post("/console/alerts/A-FEE/resolve", {"note": "x"}).status_code == 409
    assert console.post("/console/alerts/A-DIST/resolve", {"note": "  "}).status_code == 422
    assert console.post("/console/cases/AE-0001/notes", {"text": "x"}).status_code == 404
    assert console.publisher.records == []


def test_kafka_down_shows_the_retry_page(console):
    console.sign_in()
    console.publisher.down = True
    answer = console.post("/console/cases/SA-0001/notes", {"text": "hello"})
    assert answer.status_code == 503 and "reload" in answer.text and "Traceback" not in answer.text


def test_inbox_filters_paging_and_the_empty_state(console):
    console.sign_in("sup-all")
    critical = console.get("/console/inbox", severity="critical")
    assert "SA-0001" in critical.text and "AE-0001" not in critical.text
    resolved = console.get("/console/inbox", status="resolved", destination="qa")
    assert "QA-0001" in resolved.text and "SA-0001" not in resolved.text
    empty = console.get("/console/inbox", code="MISSING")
    assert "No alerts match these filters" in empty.text
    invalid = console.get("/console/inbox", severity="extreme")
    assert invalid.status_code == 200 and "is not one of the choices" in invalid.text


def test_headcount_and_skills_show_names_and_a_chart(console):
    console.sign_in("sup-all")
    headcount = console.get("/console/headcount")
    assert headcount.status_code == 200 and "Saudi Arabia" in headcount.text and "<svg" in headcount.text
    skills = console.get("/console/skills")
    assert "Bricklayers and related workers" in skills.text and "<svg" in skills.text


def test_static_assets_are_served_by_passage(console):
    css = console.get("/console/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_an_unreachable_database_shows_a_retry_page_not_a_traceback(unit_settings):
    engine = make_engine("postgresql+psycopg://passage:x@127.0.0.1:9/passage")  # nothing listens on port 9
    with TestClient(create_app(unit_settings, engine=engine, publisher=FakePublisher())) as client:
        client.cookies.set(COOKIE, "anything", path="/console")
        answer = client.get("/console/inbox", follow_redirects=False)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "reload" in answer.text and "<html" in answer.text


def test_the_session_cookie_is_secure_when_the_request_came_over_tls(world):
    client, tokens = world
    tls = TestClient(client.app, base_url="https://testserver")
    page = tls.get("/console/sign-in")
    csrf_token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = tls.post(
        "/console/sign-in", data={"token": tokens["sup-all"], "csrf_token": csrf_token}, follow_redirects=False
    )
    cookie = [h for h in answer.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")][0].lower()
    assert answer.status_code == 303 and "; secure" in cookie


def test_the_session_lasts_as_long_as_configured(sqlite_engine, unit_settings):
    from tests.query_seed import seed
    from tests.unit.console.conftest import Console

    tokens = seed(sqlite_engine, unit_settings.secret_key)
    settings = unit_settings.model_copy(update={"console_session_hours": 0.5})
    with TestClient(create_app(settings, engine=sqlite_engine, publisher=FakePublisher())) as client:
        answer = Console(client, tokens, FakePublisher()).sign_in()
    assert "max-age=1800" in answer.headers["set-cookie"].lower()
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(sessions.c.created_at, sessions.c.expires_at)).one()
    assert row.expires_at - row.created_at == timedelta(minutes=30)
