"""The welfare view is declared once (services/storage/welfare_view.py): the table, the API model
and the worker's row builder all follow `CaseBase`, and the domain's fold produces every field."""

from __future__ import annotations

from sqlalchemy import Table

from events.personal import PERSONAL_FIELDS
from services.domain import CaseState
from services.query.models import CaseDetail, CasePublic
from services.storage.tables import Case
from services.storage.welfare_view import CaseBase
from services.worker.rows import case_row
from tests.factories import RULES, fold, make, money

# The order of the case's fields in the API's JSON: SPEC section 5, then the fields sections 10
# and 9 added. Written out here so that a reordered declaration fails a test (a new field may
# follow them).
JSON_ORDER = [
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
    "returned_at",
    "return_reason",
    "event_count",
    "last_event_at",
    "assigned_officer_id",
    "date_of_birth",
    "passport_number",
    "phone",
    "data_sharing",
    "erased",
    "erased_at",
]
VIEW = list(CaseBase.model_fields)
ERASURE_FIELDS = {"erased", "erased_at"}  # set only by an erasure, which blanks the identity fields
CASES: Table = Case.__table__  # type: ignore[attr-defined]


def whole_journey() -> CaseState:
    """A case whose events fill every welfare-view field but the erasure mark."""
    state, _changes = fold(
        [
            make("migrant.registered", 0, passport_number="P1234567", phone="+919876543210"),
            make("skilling.certified", 10),
            make("recruitment.job_offer_made", 20),
            make("recruitment.contract_signed", 25, monthly_wage=money("1500.00")),
            make("deployment.departed", 40),
            make("deployment.arrived", 41),
            make("deployment.employment_started", 42),
            make("deployment.wage_paid", 70),
            make("deployment.welfare_check_completed", 80),
            make("deployment.distress_reported", 90),
            make("case.assigned", 91),
            make("return.returned", 200, reason="distress"),
        ]
    )
    return state


def erased_journey() -> CaseState:
    state, _changes = fold(
        [
            make("migrant.registered", 0, passport_number="P1234567", phone="+919876543210"),
            make("case.erasure_requested", 5),
        ]
    )
    return state


def test_the_api_gives_the_fields_in_the_spec_order():
    assert VIEW[: len(JSON_ORDER)] == JSON_ORDER
    assert list(CasePublic.model_fields) == VIEW
    assert list(CaseDetail.model_fields) == [*VIEW, "alerts", "referrals"]


def test_the_table_holds_every_field_of_the_view():
    assert set(VIEW) <= set(CASES.c.keys())


def test_the_domain_state_produces_every_field_of_the_view():
    """A field added to `CaseBase` needs a register (or computed field) of the same name in
    `CaseState` and a fold rule that fills it; extend `whole_journey` with the event that does."""
    produced = set(CaseState.model_fields) | set(CaseState.model_computed_fields)
    assert set(VIEW) - produced == set()
    whole, erased = whole_journey(), erased_journey()
    assert [name for name in VIEW if name not in ERASURE_FIELDS and getattr(whole, name) is None] == []
    assert erased.erased is True and erased.erased_at is not None


def test_the_worker_writes_exactly_the_table_columns():
    for state in (whole_journey(), erased_journey()):
        row = case_row(state, RULES)
        written = {"state" if name == "state_json" else name for name in row}
        assert written == set(CASES.c.keys())


def test_what_the_api_shows_of_a_stored_row_is_what_the_state_says():
    for state in (whole_journey(), erased_journey()):
        shown = CasePublic.model_validate(case_row(state, RULES)).model_dump(mode="json")
        assert list(shown) == VIEW
        assert shown == {name: value for name, value in state.model_dump(mode="json").items() if name in shown}


def test_an_erasure_blanks_every_personal_field_of_the_view():
    """A personal field added to the view (by name, SPEC section 9) must be blanked by erasure too."""
    personal = [name for name in VIEW if name in PERSONAL_FIELDS]
    assert personal, "the view holds personal fields"
    whole, erased = whole_journey(), erased_journey()
    assert [name for name in personal if getattr(whole, name) is None] == []
    assert {name: getattr(erased, name) for name in personal} == dict.fromkeys(personal)
