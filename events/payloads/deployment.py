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
    """The migrant left the origin country."""

    destination_country: CountryCode


class Arrived(Payload):
    """The migrant arrived in the destination country."""

    destination_country: CountryCode


class EmploymentStarted(Payload):
    """Work began under a contract."""

    employer_id: Id
    contract_id: Id


class EmployerChanged(Payload):
    """The migrant moved to another employer or contract."""

    employer_id: Id
    contract_id: Id
    reason: Text


class WagePaid(Payload):
    """A month's wage was paid."""

    period: YearMonth
    amount: Money


class WelfareCheckCompleted(Payload):
    """Someone checked on the migrant and recorded how they are."""

    channel: Channel
    wellbeing: Wellbeing
    notes: Text | None = None


class GrievanceFiled(Payload):
    """The migrant filed a grievance."""

    grievance_id: Id
    category: GrievanceCategory
    description: Text


class IncidentReported(Payload):
    """An incident involving the migrant was reported."""

    incident_id: Id
    category: IncidentCategory
    description: Text


class DistressReported(Payload):
    """The migrant, or someone for them, reported distress."""

    channel: Channel
    description: Text | None = None


class AssistanceProvided(Payload):
    """Assistance was given to the migrant."""

    kind: AssistanceKind
    provider: Name
