"""Deployment: departure, arrival, work, wages, welfare and trouble abroad (SPEC section 3)."""

from events.payloads.base import Payload
from events.types import (
    AssistanceKind,
    Channel,
    CountryCode,
    GrievanceCategory,
    Id,
    IncidentCategory,
    Money,
    Name,
    Text,
    Wellbeing,
    YearMonth,
)


class Departed(Payload):
    destination_country: CountryCode


class Arrived(Payload):
    destination_country: CountryCode


class EmploymentStarted(Payload):
    employer_id: Id
    contract_id: Id


class EmployerChanged(Payload):
    employer_id: Id
    contract_id: Id
    reason: Text


class WagePaid(Payload):
    period: YearMonth
    amount: Money


class WelfareCheckCompleted(Payload):
    channel: Channel
    wellbeing: Wellbeing
    notes: Text | None = None


class GrievanceFiled(Payload):
    grievance_id: Id
    category: GrievanceCategory
    description: Text


class IncidentReported(Payload):
    incident_id: Id
    category: IncidentCategory
    description: Text


class DistressReported(Payload):
    channel: Channel
    description: Text | None = None


class AssistanceProvided(Payload):
    kind: AssistanceKind
    provider: Name
