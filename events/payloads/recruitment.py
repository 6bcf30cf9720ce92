"""Recruitment: offer, contract, fees, orientation, clearance, visa, insurance (SPEC section 3)."""

from events.payloads.base import Payload
from events.types import CountryCode, Date, FeePayer, Id, IscoCode, Money, Months, Name


class JobOfferMade(Payload):
    offer_id: Id
    employer_id: Id
    employer_name: Name
    destination_country: CountryCode
    occupation_code: IscoCode
    monthly_wage: Money
    contract_months: Months
    recruiting_agent_id: Id


class ContractSigned(Payload):
    offer_id: Id
    contract_id: Id
    employer_id: Id
    monthly_wage: Money
    contract_months: Months


class FeePaid(Payload):
    amount: Money
    paid_by: FeePayer
    purpose: Name


class OrientationCompleted(Payload):
    provider_id: Id


class EmigrationClearanceGranted(Payload):
    clearance_id: Id
    destination_country: CountryCode


class VisaIssued(Payload):
    visa_number: Id
    destination_country: CountryCode
    valid_until: Date


class InsuranceIssued(Payload):
    policy_id: Id
    insurer: Name
    valid_until: Date
