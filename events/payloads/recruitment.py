"""Recruitment: offer, contract, fees, orientation, clearance, visa, insurance (SPEC section 3)."""

from events.payloads.base import Payload
from events.types import CountryCode, Date, FeePayer, Id, IscoCode, Money, Months, Name


class JobOfferMade(Payload):
    """An employer abroad offered a job through a recruiting agent."""

    offer_id: Id
    employer_id: Id
    employer_name: Name
    destination_country: CountryCode
    occupation_code: IscoCode
    monthly_wage: Money
    contract_months: Months
    recruiting_agent_id: Id


class ContractSigned(Payload):
    """The employment contract for an offer was signed."""

    offer_id: Id
    contract_id: Id
    employer_id: Id
    monthly_wage: Money
    contract_months: Months


class FeePaid(Payload):
    """A recruitment fee was paid, by the migrant or by the employer."""

    amount: Money
    paid_by: FeePayer
    purpose: Name


class OrientationCompleted(Payload):
    """Pre-departure orientation was completed."""

    provider_id: Id


class EmigrationClearanceGranted(Payload):
    """The origin country's emigration authority cleared the migrant for a destination."""

    clearance_id: Id
    destination_country: CountryCode


class VisaIssued(Payload):
    """The destination country issued a work visa."""

    visa_number: Id
    destination_country: CountryCode
    valid_until: Date


class InsuranceIssued(Payload):
    """An insurance policy for the migrant was issued."""

    policy_id: Id
    insurer: Name
    valid_until: Date
