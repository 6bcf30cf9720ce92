"""Which payload fields are personal, and how one is sealed on the topic.

Personal fields (SPEC section 9): given_name, family_name, date_of_birth, passport_number, phone,
and free text: description, notes, an officer's note or text. They are found by name in each
event type's latest payload model, so a new event type with a `note` is covered without a list
to keep. Not personal (decisions where SPEC is silent): `deployment.employer_changed.reason`
(why a contract moved, not about the person) and `case.erasure_requested.reason` (kept in clear
so the accountability record of an erasure survives the erasure; supervisors are told not to put
personal data in it).

On the topic a sealed field's value is `{"enc": "<base64 of nonce (12 bytes) | ciphertext+tag>"}`:
AES-256-GCM under the case's data key, the event_id (its text form) as associated data, the
plaintext being the field's JSON value (a string). Records carrying sealed fields also carry the
Kafka header `encryption: passage-fields-v1`. A record with no sealed field is a plaintext record
(schema version 1 of the record format, as every record before encryption was). A personal field
of an event published after its case was erased is written `{"erased": true}`: there is no key to
seal it with, and the value says why it is absent.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.personal import PERSONAL_FIELDS, personal_fields  # noqa: F401 (re-exported)

# Identity fields that consent=false hides from officers outside the case's origin (SPEC section 9).
CONSENT_FIELDS = ("passport_number", "phone", "date_of_birth")
SEALED_MARKER = b'"enc"'  # in a record's bytes only as a JSON key or the string "enc" (text escapes quotes)
ERASED = {"erased": True}
ERASED_MARKER = b'"erased"'
HEADER = ("encryption", b"passage-fields-v1")
# Values that satisfy the payload models, used only to validate a record whose personal fields are
# gone (erased); the decoded event then holds None in their place.
PLACEHOLDERS = {"date_of_birth": "1970-01-01"}
PLACEHOLDER = "erased"


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"enc"} and isinstance(value["enc"], str)


def seal_value(aead: AESGCM, event_id: str, value: object) -> dict:
    nonce = os.urandom(12)
    plain = json.dumps(value, ensure_ascii=False).encode()
    return {"enc": base64.b64encode(nonce + aead.encrypt(nonce, plain, event_id.encode())).decode()}


def open_value(aead: AESGCM, event_id: str, sealed: dict) -> object:
    """The field's value; raises `cryptography.exceptions.InvalidTag` (or ValueError) if it does not open."""
    blob = base64.b64decode(sealed["enc"], validate=True)
    return json.loads(aead.decrypt(blob[:12], blob[12:], event_id.encode()))


def placeholder(name: str) -> str:
    return PLACEHOLDERS.get(name, PLACEHOLDER)
