"""Return: the end of the contract, the journey home and reintegration (SPEC section 3)."""

from events.payloads.base import Payload
from events.types import ContractEndReason, Id, IscoCode, Level, ReintegrationKind, ReturnReason


class ContractEnded(Payload):
    contract_id: Id
    reason: ContractEndReason


class Returned(Payload):
    reason: ReturnReason


class ReintegrationSupportProvided(Payload):
    kind: ReintegrationKind


class SkillsRecognized(Payload):
    occupation_code: IscoCode
    level: Level
