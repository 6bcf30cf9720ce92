"""Agency keys and officer tokens: random, shown once, stored only as an HMAC under the server secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(prefix: str) -> str:
    """A fresh high-entropy credential, e.g. `pak_...` for agencies, `pot_...` for officers."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(server_secret: str, credential: str) -> str:
    """HMAC-SHA256 hex digest: a database dump without the server secret reveals no usable key.
    (Credentials are 256-bit random, so a slow hash would add cost without adding safety.)"""
    return hmac.new(server_secret.encode(), credential.encode(), hashlib.sha256).hexdigest()
