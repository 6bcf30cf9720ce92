"""Which payload fields hold personal data (SPEC section 9), and how they look on the topic.

Agencies send these fields in clear (`schemas/` describes that); before a record is produced,
Passage's services replace each one by a sealed value (services/privacy): on the journey topic
a personal field is `{"enc": "<base64 of nonce (12 bytes) | AES-256-GCM ciphertext and tag>"}`,
or `{"erased": true}` for an event published after its case was erased, or the clear value in a
record written before encryption existed (record format 1).
"""

from __future__ import annotations

from functools import cache

from events.catalogue import CATALOGUE

PERSONAL_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "date_of_birth",
        "passport_number",
        "phone",
        "description",
        "notes",
        "note",
        "text",
    }
)
SEALED_FIELD = {
    "type": "object",
    "description": "A personal field encrypted with the case's data key (AES-256-GCM, the event_id as "
    "associated data); the plaintext is the field's JSON value.",
    "properties": {
        "enc": {
            "type": "string",
            "contentEncoding": "base64",
            "description": "nonce (12 bytes) followed by ciphertext and tag",
        }
    },
    "required": ["enc"],
    "additionalProperties": False,
}
ERASED_FIELD = {
    "type": "object",
    "description": "A personal field of an event published after its case was erased: there is no key to seal it with.",
    "properties": {"erased": {"const": True}},
    "required": ["erased"],
    "additionalProperties": False,
}


@cache
def personal_fields(event_type: str) -> tuple[str, ...]:
    """The personal fields of `event_type`'s latest payload model, in model order; () if none."""
    spec = CATALOGUE.get(event_type)
    if spec is None:
        return ()
    return tuple(name for name in spec.models[spec.latest_version].model_fields if name in PERSONAL_FIELDS)
