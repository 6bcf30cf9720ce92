"""The welfare view (SPEC sections 5, 9 and 10), declared once: `CaseBase`.

Every field a reader of the welfare view sees is declared here, with its type, its length limit
and its default, in the order the API's JSON gives them. Three models share it:
- `services.storage.tables.Case(CaseBase, table=True)`: the `cases` table, which adds what only
  the worker and the sweep need (the folded `state`, `next_deadline`, `top_severity_rank`, the
  `referrals` JSON);
- `services.query.models.CasePublic(CaseBase)`: what the query API returns (its `contract` is the
  typed `ContractPublic` rather than the stored JSON);
- `services.worker.rows.case_row`: copies every field the domain state holds under the same name
  (`PLAIN_COLUMNS`, derived from this class).
The domain's `CaseState` produces each of these fields under the same name; a unit test holds it
to that (tests/unit/storage/test_welfare_view.py), since the domain cannot import this module.

Adding a welfare-view field is therefore: the field here, a migration adding its column, and the
fold rule that fills it in the domain (a `CaseState` register and the `services.domain.welfare`
handler that writes it). `alembic -c services/storage/alembic.ini revision --autogenerate` drafts
the migration; the schema tests (tests/unit/storage/test_migrations.py and its PostgreSQL twin)
fail until it matches, and tests/unit/storage/test_welfare_view.py until the fold fills the field.

Why here: the base is a SQLModel (it carries the column types: timestamps with time zone, JSON,
lengths), so it cannot live in `services/domain`, which does no I/O and imports no SQL; and
storage is the layer the worker and the query service both already depend on, while neither
depends on the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import JSON, DateTime, false
from sqlmodel import Field, SQLModel

# SQLite hands back naive datetimes; every stored time is UTC, so say so on the way out.
UtcDatetime = Annotated[datetime, AfterValidator(lambda d: d if d.tzinfo else d.replace(tzinfo=UTC))]


def instant(**kwargs: Any) -> Any:
    """A nullable timestamp with time zone (every instant Passage stores is UTC)."""
    return Field(default=None, sa_type=DateTime(timezone=True), **kwargs)


class CaseBase(SQLModel):
    """One case of the welfare view, as every reader sees it (no table of its own)."""

    case_id: str = Field(primary_key=True, max_length=64)
    stage: str | None = None
    stage_since: UtcDatetime | None = instant()
    given_name: str | None = None
    family_name: str | None = None
    nationality: str | None = Field(default=None, max_length=2)
    origin_region: str | None = None
    occupation_code: str | None = Field(default=None, max_length=4)
    destination_country: str | None = Field(default=None, max_length=2)
    employer_id: str | None = None
    # {"contract_id", "monthly_wage": {"amount", "currency"} | null, "contract_months"}, stored as JSON.
    contract: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    departed_at: UtcDatetime | None = instant()
    arrived_at: UtcDatetime | None = instant()
    last_wage_period: str | None = None
    last_wage_at: UtcDatetime | None = instant()
    last_welfare_check_at: UtcDatetime | None = instant()
    wellbeing: str = "unknown"  # unknown | ok | concern | distress
    open_alerts: int = 0
    top_severity: str | None = None
    returned_at: UtcDatetime | None = instant()
    return_reason: str | None = None
    event_count: int = 0
    last_event_at: UtcDatetime | None = instant()
    # SPEC section 10: who owns the case.
    assigned_officer_id: str | None = Field(default=None, max_length=128)
    # SPEC section 9: identity fields a withheld consent hides (null to those officers), the
    # latest consent, and the erasure mark.
    date_of_birth: date | None = None
    passport_number: str | None = None
    phone: str | None = None
    data_sharing: bool | None = None
    # The server default fills rows written without it (migration 0010 added the column to
    # existing rows; the benches' COPY loaders leave it out); the worker always writes it.
    erased: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    erased_at: UtcDatetime | None = instant()
