"""Headcount by destination and stage, and skills supply and demand, each with a server-drawn
chart (inline SVG, no script) next to the table of the same numbers (the accessible form).

Both run the API's stats functions (`routes_stats.stage_counts`, `skill_counts`), so the numbers
and the jurisdiction are the API's.
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console import later_routes
from services.console.names import STAGES
from services.console.web import ConsoleDb, Officer, call, render
from services.query import routes_stats
from services.web import ApiError

router = APIRouter()
CHART_WIDTH = 300  # SVG user units; the chart scales to the column it sits in


def headcount_rows(items: list[dict]) -> list[dict]:
    """Per destination (largest first): counts per stage, the total, and bar segments scaled to the largest."""
    by_destination: dict[str | None, dict[str, int]] = defaultdict(dict)
    for item in items:
        stage = item["stage"] if item["stage"] in STAGES else "other"
        counts = by_destination[item["destination_country"]]
        counts[stage] = counts.get(stage, 0) + item["count"]
    largest = max((sum(c.values()) for c in by_destination.values()), default=0) or 1
    rows = []
    for destination, counts in by_destination.items():
        segments, x = [], 0.0
        for stage in (*STAGES, "other"):
            width = CHART_WIDTH * counts.get(stage, 0) / largest
            if width:
                segments.append({"stage": stage, "x": round(x, 2), "width": round(width, 2)})
                x += width
        rows.append({"destination": destination, "counts": counts, "total": sum(counts.values()), "segments": segments})
    return sorted(rows, key=lambda row: (-row["total"], row["destination"] or "~"))


def skill_rows(items: list[dict]) -> list[dict]:
    """Each (occupation, destination) with bar widths for supply, demand and deployed on one scale."""
    largest = max((max(i["job_ready"], i["offers_365d"], i["deployed"]) for i in items), default=0) or 1
    return [
        {
            **item,
            "bars": [
                {"name": name, "value": item[name], "width": round(CHART_WIDTH * item[name] / largest, 2)}
                for name in ("job_ready", "offers_365d", "deployed")
            ],
        }
        for item in items
    ]


@router.get("/headcount")
def headcount(request: Request, session: Officer, db: ConsoleDb) -> Response:
    items = call(routes_stats.stage_counts, officer=session.officer, db=db, destination_country=None)["items"]
    return render(request, "headcount.html", rows=headcount_rows(items), chart_width=CHART_WIDTH, session=session)


@router.get("/skills")
def skills(request: Request, session: Officer, db: ConsoleDb) -> Response:
    items = call(routes_stats.skill_counts, officer=session.officer, db=db)["items"]
    return render(request, "skills.html", rows=skill_rows(items), chart_width=CHART_WIDTH, session=session)


@router.get("/scorecards/{kind}")
def scorecards(
    request: Request,
    kind: str,
    session: Officer,
    db: ConsoleDb,
    destination: str | None = None,
    min_placements: int | None = None,
) -> Response:
    """Employer and recruiting-agent scorecards (SPEC 12), through the API's own routes once it has them."""
    route = later_routes.SCORECARDS.get(kind)
    function = later_routes.endpoint(request.app.state.parent, *route) if route else None
    if function is None:
        raise ApiError(404, f"no {kind} scorecards on this server")
    destination = (destination or "").upper() or None
    if destination is not None and (len(destination) != 2 or not destination.isalpha()):
        raise ApiError(422, f"destination {destination!r} is not an ISO country code (two letters, e.g. SA)")
    answer = later_routes.invoke(
        function, officer=session.officer, db=db, destination_country=destination, min_placements=min_placements
    )
    items = answer.get("items", []) if isinstance(answer, dict) else answer
    columns = list(items[0]) if items else []
    return render(
        request,
        "scorecards.html",
        kind=kind,
        items=items,
        columns=columns,
        session=session,
        filters={"destination": destination, "min_placements": min_placements},
    )
