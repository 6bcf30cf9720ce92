"""Names a person reads for the codes the views hold: ISO 3166-1 countries and ISCO-08 occupations.

Countries come from pycountry (its common name where it has one: "Bolivia", not "Bolivia,
Plurinational State of"). ISCO-08 unit group titles come from `isco08.json`, a subset kept in the
repo (the demo's groups and those common in migration corridors; no maintained package publishes
the table). A code we cannot name is shown as it is, never hidden.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import pycountry

STAGES = ("registered", "skilling", "job_ready", "recruiting", "cleared", "deployed", "returned")
STAGE_LABELS = {
    "registered": "Registered",
    "skilling": "Skilling",
    "job_ready": "Job ready",
    "recruiting": "Recruiting",
    "cleared": "Cleared to leave",
    "deployed": "Deployed",
    "returned": "Returned",
}


@lru_cache(maxsize=512)
def country_name(code: str | None) -> str:
    if not code:
        return "No destination yet"
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


@lru_cache(maxsize=1)
def _isco() -> dict[str, str]:
    raw = json.loads(resources.files(__package__).joinpath("isco08.json").read_text(encoding="utf-8"))
    return {code: title for code, title in raw.items() if not code.startswith("_")}


def occupation_name(code: str | None) -> str:
    if not code:
        return "Occupation not known"
    return _isco().get(code, f"ISCO-08 {code}")


def stage_label(stage: str | None) -> str:
    return STAGE_LABELS.get(stage or "", stage or "Not known")
