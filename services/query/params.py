"""Path and query parameters shared by the routes, with the limits that keep them valid SQL input.

PostgreSQL text cannot hold a NUL character, so free-text filters refuse it (422) instead of
failing in the database (500). Case ids in paths must have the SPEC's shape (422 otherwise);
a well-formed id that is missing or outside the jurisdiction is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from events.types import CASE_ID_PATTERN

NO_NUL = r"^[^\x00]*$"

CaseIdPath = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the case id, e.g. IN-2026-000123")]
AlertIdPath = Annotated[str, Path(max_length=128, pattern=NO_NUL)]
CaseIdFilter = Annotated[str | None, Query(pattern=CASE_ID_PATTERN, description="only this case")]
OfficerIdFilter = Annotated[str | None, Query(max_length=64, pattern=NO_NUL, description="only this officer")]
RegionFilter = Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="origin_region, exact match")]
AssignedTo = Annotated[
    str | None, Query(max_length=128, pattern=NO_NUL, description="`me`, or an officer id: only cases assigned to them")
]


def assignee(assigned_to: str, officer) -> str:
    """`assigned_to=me` is the officer asking (SPEC section 10); anything else is an officer id."""
    return officer.id if assigned_to == "me" else assigned_to
