"""A referral of a case to a service provider and the answers of the agency referred to (SPEC 10).

Pure data, folded order-independently like the rest of the case: the referral is written by
`case.referral_made` (last writer wins by key if the same referral_id is made twice), and each
answer (`referral.accepted|declined|completed`) is kept as a step, sorted by key. Decisions
where SPEC is silent:
- status is the latest answer's (by the timeline key), `made` while there is none;
- answered_at is when the agency first answered (accepted, declined or completed): the instant
  REFERRAL_STALLED stops counting;
- outcome is the latest completion's outcome, reason the latest refusal's reason;
- every answer is by the agency referred to (history says so): the gateway admits no other;
- an answer folded before its referral (the gateway admits none, but a fold takes any order) is
  kept on a referral not made yet (`made_key` None), which no reader shows and no rule counts.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Any

from pydantic import BaseModel, computed_field

from events import ReferralService, ReferralStatus

StepKey = tuple[datetime, datetime, str]  # the timeline key (occurred_at, recorded_at, event_id)


class Step(BaseModel):
    """One answer of the agency referred to."""

    key: StepKey
    status: ReferralStatus
    text: str | None = None  # outcome (completed) or reason (declined)


class Referral(BaseModel):
    referral_id: str
    service: ReferralService | None = None  # None with made_key: answered, not made (yet)
    to_agency_id: str | None = None
    officer_id: str | None = None
    made_key: StepKey | None = None
    steps: list[Step] = []

    @property
    def made(self) -> bool:
        return self.made_key is not None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def made_at(self) -> datetime | None:
        return self.made_key[0] if self.made_key else None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def status(self) -> ReferralStatus:
        return self.steps[-1].status if self.steps else ReferralStatus.made

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def answered_at(self) -> datetime | None:
        return self.steps[0].key[0] if self.steps else None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def outcome(self) -> str | None:
        return self._latest_text(ReferralStatus.completed)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def reason(self) -> str | None:
        return self._latest_text(ReferralStatus.declined)

    def _latest_text(self, status: ReferralStatus) -> str | None:
        return next((step.text for step in reversed(self.steps) if step.status == status), None)

    def answered(self, step: Step) -> Referral:
        """A copy with `step` in key order; the same event again changes nothing."""
        if any(existing.key == step.key for existing in self.steps):
            return self
        steps = list(self.steps)
        bisect.insort(steps, step, key=lambda kept: kept.key)
        return self.model_copy(update={"steps": steps})

    def public(self) -> dict[str, Any]:
        """What the case shows of the referral (SPEC section 10), with its history."""
        history = [{"status": ReferralStatus.made.value, "at": self.made_at, "by": self.officer_id}]
        history += [{"status": step.status.value, "at": step.key[0], "by": self.to_agency_id} for step in self.steps]
        return {
            "referral_id": self.referral_id,
            "service": self.service.value if self.service is not None else None,
            "to_agency_id": self.to_agency_id,
            "officer_id": self.officer_id,
            "status": self.status.value,
            "made_at": self.made_at,
            "answered_at": self.answered_at,
            "outcome": self.outcome,
            "reason": self.reason,
            "history": history,
        }
