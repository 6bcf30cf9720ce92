"""The headcount and skills charts' geometry (pure)."""

from __future__ import annotations

from services.console.pages_stats import CHART_WIDTH, headcount_rows, skill_rows


def test_headcount_rows_stack_stages_in_journey_order_scaled_to_the_largest_destination():
    rows = headcount_rows(
        [
            {"destination_country": "SA", "stage": "deployed", "count": 30},
            {"destination_country": "SA", "stage": "recruiting", "count": 10},
            {"destination_country": "AE", "stage": "deployed", "count": 20},
            {"destination_country": None, "stage": "job_ready", "count": 5},
        ]
    )
    assert [(row["destination"], row["total"]) for row in rows] == [("SA", 40), ("AE", 20), (None, 5)]
    saudi = rows[0]["segments"]
    assert [segment["stage"] for segment in saudi] == ["recruiting", "deployed"]
    assert saudi[0]["x"] == 0 and saudi[1]["x"] == saudi[0]["width"]
    assert sum(segment["width"] for segment in saudi) == CHART_WIDTH
    assert rows[1]["segments"][0]["width"] == CHART_WIDTH / 2


def test_headcount_of_nothing_is_no_rows():
    assert headcount_rows([]) == []


def test_skill_bars_share_one_scale():
    [row] = skill_rows(
        [{"occupation_code": "7112", "destination_country": "SA", "job_ready": 5, "offers_365d": 20, "deployed": 0}]
    )
    assert [(bar["name"], bar["width"]) for bar in row["bars"]] == [
        ("job_ready", CHART_WIDTH / 4),
        ("offers_365d", CHART_WIDTH),
        ("deployed", 0),
    ]
