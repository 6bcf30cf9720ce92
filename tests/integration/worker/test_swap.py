"""The replay's swap on PostgreSQL: shadow tables made LIKE the live ones are renamed in with the
live index names, and a live table something depends on is swapped by copying its rows."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, inspect, select, text

from services.worker import views as v
from services.worker.views import LIVE

pytestmark = pytest.mark.integration
ROW = {"by_origin": False, "destination_country": "SA", "origin_region": "", "stage": "deployed", "count": 3}


def indexes(engine) -> dict[str, list[tuple[str, str]]]:
    with engine.connect() as conn:
        return {table.name: v._indexes(conn, table.name) for table in LIVE.folded}


def test_the_swap_renames_the_shadow_tables_in_with_the_live_indexes(views_engine):
    before = indexes(views_engine)
    rebuilt = v.shadow(views_engine)
    assert {name: sorted(d for d, _ in ix) for name, ix in indexes(views_engine).items()} == {
        name: sorted(d for d, _ in ix) for name, ix in before.items()
    }
    with views_engine.begin() as conn:
        conn.execute(insert(rebuilt.counts[0]), [ROW])
        conn.execute(text(f"LOCK TABLE {LIVE.cases.name} IN ACCESS EXCLUSIVE MODE"))
        v.swap(conn, rebuilt)
    assert indexes(views_engine) == before  # the same names on the same definitions
    with views_engine.connect() as conn:
        assert [dict(row._mapping) for row in conn.execute(select(LIVE.counts[0]))] == [ROW]
    assert not [name for name in inspect(views_engine).get_table_names() if name.endswith(v.SHADOW_SUFFIX)]


def test_a_live_table_with_a_dependent_view_is_swapped_by_copying_its_rows(views_engine):
    with views_engine.begin() as conn:
        conn.execute(text(f"CREATE VIEW counted AS SELECT stage, count FROM {LIVE.counts[0].name}"))
    rebuilt = v.shadow(views_engine)
    with views_engine.begin() as conn:
        conn.execute(insert(rebuilt.counts[0]), [ROW])
        v.swap(conn, rebuilt)
    with views_engine.connect() as conn:
        assert conn.execute(text("SELECT stage, count FROM counted")).all() == [("deployed", 3)]
    assert not [name for name in inspect(views_engine).get_table_names() if name.endswith(v.SHADOW_SUFFIX)]
