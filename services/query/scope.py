"""An officer's jurisdiction (SPEC section 7): scopes `dest:<country>`, `origin:<region>`, `*`.

A case is within a jurisdiction when its destination_country is one of the `dest:` countries,
or its origin_region is one of the `origin:` regions (exact, case-sensitive match of the free
text the registering agency sent), or the jurisdiction holds `*`. A case with no destination
yet is visible through its origin only. The rule is always applied in SQL (`Jurisdiction.where`)
so lists, counts and pages never load rows the officer may not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from events.types import COUNTRY_CODES

EVERYTHING = "*"
_COUNTRIES = frozenset(COUNTRY_CODES)


def normalise_scope(scope: str) -> str:
    """The stored form of one scope, or ValueError saying what a valid scope looks like."""
    scope = scope.strip()
    if scope == EVERYTHING:
        return scope
    kind, _, value = scope.partition(":")
    if kind == "dest" and value.strip().upper() in _COUNTRIES:
        return f"dest:{value.strip().upper()}"
    if kind == "origin" and value.strip():
        return f"origin:{value.strip()}"
    raise ValueError(
        f"invalid scope {scope!r}: use dest:<ISO 3166-1 alpha-2 country> (e.g. dest:SA), "
        "origin:<region as registered> (e.g. origin:Kerala) or *"
    )


@dataclass(frozen=True)
class Jurisdiction:
    everything: bool = False
    destinations: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, scopes: Iterable[str]) -> Jurisdiction:
        normalised = [normalise_scope(scope) for scope in scopes]
        return cls(
            everything=EVERYTHING in normalised,
            destinations=frozenset(s.removeprefix("dest:") for s in normalised if s.startswith("dest:")),
            origins=frozenset(s.removeprefix("origin:") for s in normalised if s.startswith("origin:")),
        )

    def where(self, destination_country, origin_region) -> ColumnElement[bool]:
        """The SQL condition "this row is within the jurisdiction", given the row's columns."""
        if self.everything:
            return true()
        clauses = []
        if self.destinations:
            clauses.append(destination_country.in_(sorted(self.destinations)))
        if self.origins:
            clauses.append(origin_region.in_(sorted(self.origins)))
        return or_(*clauses) if clauses else false()
