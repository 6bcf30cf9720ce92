"""Personal data (SPEC section 9): per-case data keys, field encryption, erasure, consent.

Called by the gateway and the query service (`Sealer`: encrypt before producing), by the worker
(`Opener`: decrypt while folding; `erase_cases`: crypto-shredding) and by `passage keys`; it
never calls them. The record format on the topic is described in `fields` and events/README.md.
"""

from services.privacy.consent import mask_case, mask_payload, sees_identity
from services.privacy.erasure import erase_case_ids, erase_cases
from services.privacy.fields import PERSONAL_FIELDS, personal_fields
from services.privacy.keyring import Keyring, MasterKeyMissing
from services.privacy.opener import Opener
from services.privacy.sealer import Sealer

__all__ = [
    "PERSONAL_FIELDS",
    "Keyring",
    "MasterKeyMissing",
    "Opener",
    "Sealer",
    "erase_case_ids",
    "erase_cases",
    "mask_case",
    "mask_payload",
    "personal_fields",
    "sees_identity",
]
