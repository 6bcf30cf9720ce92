"""The demo summary's accountability tables: the top employers and the top recruiting agents."""

from __future__ import annotations

from services.demo.cli import _render_accountability


def _card(**figures) -> dict:
    return {
        "placements": 40,
        "abuse_per_100": 2.5,
        "wages_per_100": 0.0,
        "contract_per_100": 5.0,
        "fees_per_100": 25.0,
        "median_wage_gap": 100.0,
        "open_critical_alerts": 0,
        "watchlisted": False,
        **figures,
    }


def test_the_summary_lists_the_recruiting_agents_that_stand_out():
    summary = {
        "top_employers_by_abuse": [_card(employer_id="SA-E007", watchlisted=True)],
        "top_agents_by_fees": [
            _card(recruiting_agent_id="demo-recruiting_agent-3"),
            _card(recruiting_agent_id="demo-recruiting_agent", fees_per_100=None),
        ],
        "watchlisted_party_alerts": ["open"],
        "watchlisted_employer": "SA-E007",
    }
    text = "\n".join(_render_accountability(summary))
    assert "Top five recruiting agents by fees charged to migrants per 100 placements" in text
    row = next(line for line in text.splitlines() if "demo-recruiting_agent-3" in line)
    assert row.split() == ["demo-recruiting_agent-3", "40", "25.0", "5.0", "2.5"]
    assert next(line for line in text.splitlines() if "demo-recruiting_agent " in line).split()[2] == "-"
