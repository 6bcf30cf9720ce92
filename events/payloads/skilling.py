"""Skilling: registration, assessment, training and certification (SPEC section 3)."""

from pydantic import BaseModel, ConfigDict, Field

from events.payloads.base import Payload
from events.types import (
    AssessmentResult,
    BirthDate,
    CountryCode,
    Date,
    Id,
    IscoCode,
    Level,
    Name,
    Phone,
    Sex,
    TrainingOutcome,
)


class Aspirations(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    occupations: tuple[IscoCode, ...] = ()
    countries: tuple[CountryCode, ...] = ()


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    data_sharing: bool = Field(strict=True)


class MigrantRegistered(Payload):
    """A migrant enters the system; the case begins."""

    given_name: Name
    family_name: Name
    date_of_birth: BirthDate
    sex: Sex
    nationality: CountryCode
    origin_region: Name
    passport_number: Id | None = None
    phone: Phone | None = None
    aspirations: Aspirations | None = None
    consent: Consent


class SkillAssessed(Payload):
    """A skills assessment in an occupation, with its level and result."""

    occupation_code: IscoCode
    level: Level
    result: AssessmentResult


class TrainingEnrolled(Payload):
    """The migrant enrolled in a training programme."""

    programme_id: Id
    provider_id: Id
    occupation_code: IscoCode
    start_date: Date


class TrainingCompleted(Payload):
    """A training programme ended, completed or dropped."""

    programme_id: Id
    occupation_code: IscoCode
    outcome: TrainingOutcome


class SkillCertified(Payload):
    """A skill certificate was issued; the migrant is job-ready."""

    certificate_id: Id
    occupation_code: IscoCode
    level: Level
    issuer: Name
    recognized_in: tuple[CountryCode, ...] | None = None
