"""Consent (SPEC section 9): while a case's latest consent says data_sharing=false, officers other
than supervisors and `origin:` scopes of the case's region see its passport_number, phone and
date_of_birth as null: in the case, in lists of cases, and in the registration on its timeline.
Pure: the query service passes the officer's role and origin regions."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from services.privacy.fields import CONSENT_FIELDS


def sees_identity(
    data_sharing: bool | None, origin_region: str | None, *, supervisor: bool, origins: Collection[str]
) -> bool:
    """Whether this officer may see the case's identity fields. No consent recorded (None) is
    treated as consent: registration requires it, so None means a case not registered here."""
    return data_sharing is not False or supervisor or (origin_region is not None and origin_region in origins)


def mask_case(case: dict[str, Any], *, supervisor: bool, origins: Collection[str]) -> dict[str, Any]:
    """`case` (welfare view fields) with the identity fields nulled unless the officer may see them."""
    if sees_identity(case.get("data_sharing"), case.get("origin_region"), supervisor=supervisor, origins=origins):
        return case
    return {**case, **dict.fromkeys(CONSENT_FIELDS)}


def mask_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A timeline payload with the identity fields nulled (where it has them)."""
    present = [name for name in CONSENT_FIELDS if payload.get(name) is not None]
    return {**payload, **dict.fromkeys(present)} if present else payload
