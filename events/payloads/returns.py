"""Return: the end of the contract, the journey home and reintegration (SPEC section 3)."""

from events.payloads.base import Payload
from events.types import ContractEndReason, Id, IscoCode, Level, ReintegrationKind, ReturnReason


class ContractEnded(Payload):
    """The employment contract ended."""

    contract_id: Id
    reason: ContractEndReason


class Returned(Payload):
    """The migrant came home."""

    reason: ReturnReason


class ReintegrationSupportProvided(Payload):
    """Support for reintegration at home was given."""

    kind: ReintegrationKind


class SkillsRecognized(Payload):
    """Skills gained abroad were recognised at home."""

    occupation_code: IscoCode
    level: Level
