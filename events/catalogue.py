"""The event catalogue as data: every event type, its versions, stage and publishers.

This table is the single source of truth (SPEC section 3): the gateway checks mandates with
`may_publish`, the projector reads `stage_of`, and `schemas/` is generated from `CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from events import payloads
from events.payloads import Payload, WatchlistEntryAdded, WatchlistEntryRemoved
from events.types import AgencyKind, PartyKind, Stage
from events.upcasting import Upcaster

# SPEC section 4, verbatim: which kind may publish which event types ("x.*" = a whole domain).
MANDATES: Mapping[AgencyKind, tuple[str, ...]] = {
    AgencyKind.skilling_body: ("migrant.registered", "migrant.consent_changed", "skilling.*"),
    AgencyKind.recruiting_agent: (
        "migrant.registered",
        "recruitment.job_offer_made",
        "recruitment.contract_signed",
        "recruitment.fee_paid",
        "recruitment.orientation_completed",
        "migrant.consent_changed",
    ),
    AgencyKind.emigration_authority: (
        "recruitment.emigration_clearance_granted",
        "deployment.departed",
        "return.returned",
        "watchlist.*",
    ),
    AgencyKind.insurer: ("recruitment.insurance_issued",),
    AgencyKind.employer: (
        "deployment.employment_started",
        "deployment.employer_changed",
        "deployment.wage_paid",
        "return.contract_ended",
    ),
    # A mission may watchlist employers only; the gateway refuses its recruiting_agent entries
    # (`watchlist_refusal`), which a mandate by event type cannot express.
    AgencyKind.mission: (
        "recruitment.visa_issued",
        "deployment.*",
        "return.*",
        "watchlist.*",
        "migrant.consent_changed",
    ),
    AgencyKind.helpline: (
        "deployment.welfare_check_completed",
        "deployment.grievance_filed",
        "deployment.incident_reported",
        "deployment.distress_reported",
        "deployment.assistance_provided",
        "return.reintegration_support_provided",
        "return.skills_recognized",
        "migrant.consent_changed",
    ),
    AgencyKind.passage: ("case.*",),
}
# Event types every agency kind (not Passage itself) may publish; SPEC section 10 binds each answer
# to the agency the referral names, which the gateway checks against the views.
ANY_AGENCY: tuple[str, ...] = ("referral.*",)


@dataclass(frozen=True)
class EventSpec:
    """One event type: its payload model per version, the stage it implies, who may publish it."""

    event_type: str
    latest_version: int
    models: Mapping[int, type[Payload]]
    stage: Stage | None
    publishers: frozenset[AgencyKind]
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)  # keyed by the version upgraded from

    def __post_init__(self) -> None:
        missing = [version for version in range(1, self.latest_version) if version not in self.upcasters]
        if set(self.models) != set(range(1, self.latest_version + 1)) or missing:
            raise ValueError(f"{self.event_type}: need models v1..v{self.latest_version} and upcasters from {missing}")


def publishers_of(event_type: str) -> frozenset[AgencyKind]:
    if any(fnmatchcase(event_type, pattern) for pattern in ANY_AGENCY):
        return frozenset(kind for kind in AgencyKind if kind != AgencyKind.passage)
    return frozenset(
        kind for kind, patterns in MANDATES.items() if any(fnmatchcase(event_type, pattern) for pattern in patterns)
    )


def _v1(event_type: str, model: type[Payload], stage: Stage | None) -> EventSpec:
    return EventSpec(event_type, 1, {1: model}, stage, publishers_of(event_type))


CATALOGUE: Mapping[str, EventSpec] = {
    spec.event_type: spec
    for spec in [
        _v1("migrant.registered", payloads.MigrantRegistered, Stage.registered),
        _v1("skilling.assessed", payloads.SkillAssessed, Stage.skilling),
        _v1("skilling.training_enrolled", payloads.TrainingEnrolled, Stage.skilling),
        _v1("skilling.training_completed", payloads.TrainingCompleted, Stage.skilling),
        _v1("skilling.certified", payloads.SkillCertified, Stage.job_ready),
        _v1("recruitment.job_offer_made", payloads.JobOfferMade, Stage.recruiting),
        _v1("recruitment.contract_signed", payloads.ContractSigned, Stage.recruiting),
        _v1("recruitment.fee_paid", payloads.FeePaid, Stage.recruiting),
        _v1("recruitment.orientation_completed", payloads.OrientationCompleted, Stage.recruiting),
        _v1("recruitment.emigration_clearance_granted", payloads.EmigrationClearanceGranted, Stage.cleared),
        _v1("recruitment.visa_issued", payloads.VisaIssued, Stage.cleared),
        _v1("recruitment.insurance_issued", payloads.InsuranceIssued, Stage.cleared),
        _v1("deployment.departed", payloads.Departed, Stage.deployed),
        _v1("deployment.arrived", payloads.Arrived, Stage.deployed),
        _v1("deployment.employment_started", payloads.EmploymentStarted, Stage.deployed),
        _v1("deployment.employer_changed", payloads.EmployerChanged, Stage.deployed),
        _v1("deployment.wage_paid", payloads.WagePaid, Stage.deployed),
        _v1("deployment.welfare_check_completed", payloads.WelfareCheckCompleted, Stage.deployed),
        _v1("deployment.grievance_filed", payloads.GrievanceFiled, Stage.deployed),
        _v1("deployment.incident_reported", payloads.IncidentReported, Stage.deployed),
        _v1("deployment.distress_reported", payloads.DistressReported, Stage.deployed),
        _v1("deployment.assistance_provided", payloads.AssistanceProvided, Stage.deployed),
        _v1("return.contract_ended", payloads.ContractEnded, Stage.deployed),
        _v1("return.returned", payloads.Returned, Stage.returned),
        _v1("return.reintegration_support_provided", payloads.ReintegrationSupportProvided, Stage.returned),
        _v1("return.skills_recognized", payloads.SkillsRecognized, Stage.returned),
        _v1("case.note_added", payloads.NoteAdded, None),
        _v1("case.alert_acknowledged", payloads.AlertAcknowledged, None),
        _v1("case.alert_resolved", payloads.AlertResolved, None),
        _v1("case.time_alert_raised", payloads.TimeAlertRaised, None),
        _v1("case.assigned", payloads.CaseAssigned, None),
        _v1("case.referral_made", payloads.ReferralMade, None),
        _v1("case.alert_escalated", payloads.AlertEscalated, None),
        _v1("referral.accepted", payloads.ReferralAccepted, None),
        _v1("referral.declined", payloads.ReferralDeclined, None),
        _v1("referral.completed", payloads.ReferralCompleted, None),
        _v1("watchlist.entry_added", payloads.WatchlistEntryAdded, None),
        _v1("watchlist.entry_removed", payloads.WatchlistEntryRemoved, None),
        _v1("migrant.consent_changed", payloads.ConsentChanged, None),
        _v1("case.erasure_requested", payloads.ErasureRequested, None),
    ]
}


def _one_type_per_model(catalogue: Mapping[str, EventSpec]) -> None:
    """`events.carries` tells event types apart by their payload models: none may serve two types."""
    owner: dict[type[Payload], str] = {}
    for spec in catalogue.values():
        for model in spec.models.values():
            if owner.setdefault(model, spec.event_type) != spec.event_type:
                raise ValueError(
                    f"{model.__name__} is the payload of both {owner[model]} and {spec.event_type}; "
                    "give each event type a model of its own"
                )


_one_type_per_model(CATALOGUE)

# Events about a party rather than a case: their case_id is the party id, and no case is made.
WATCHLIST_EVENTS = frozenset({"watchlist.entry_added", "watchlist.entry_removed"})


def watchlist_refusal(kind: AgencyKind | str, event_type: str, payload: object) -> str | None:
    """SPEC section 12: a mission may watchlist employers, not recruiting agents. Why an otherwise
    valid watchlist event from `kind` is outside its mandate, or None when it is within it."""
    if event_type not in WATCHLIST_EVENTS or AgencyKind(kind) != AgencyKind.mission:
        return None
    watchlisted = payload if isinstance(payload, WatchlistEntryAdded | WatchlistEntryRemoved) else None
    if watchlisted is not None and watchlisted.party_kind != PartyKind.employer:
        return (
            f"an agency of kind mission may put only employers on the watchlist, not {watchlisted.party_kind.value}; "
            "ask the emigration authority to publish it"
        )
    return None


def may_publish(kind: AgencyKind | str, event_type: str) -> bool:
    """SPEC section 4: may an agency of `kind` publish `event_type`? Unknown types: no."""
    spec = CATALOGUE.get(event_type)
    try:
        return spec is not None and AgencyKind(kind) in spec.publishers
    except ValueError:  # not an agency kind at all
        return False


def stage_of(event_type: str) -> Stage | None:
    """The journey stage an event implies, or None (officer and system events, unknown types)."""
    spec = CATALOGUE.get(event_type)
    return spec.stage if spec else None
