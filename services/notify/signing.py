"""Webhook signatures, Stripe-style: `Passage-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

The signing secret is never stored. It is derived from PASSAGE_SECRET_KEY and the subscription's
random salt, so `passage webhook add` can show it once and the worker can recompute it, while a
copy of the database alone cannot sign a delivery.
"""

from __future__ import annotations

import hashlib
import hmac

SECRET_PREFIX = "whsec"
TOLERANCE_S = 300  # what `verify` accepts as clock skew plus delivery delay


def signing_secret(server_secret: str, subscription_id: str, salt: str) -> str:
    digest = hmac.new(server_secret.encode(), f"webhook|{subscription_id}|{salt}".encode(), hashlib.sha256)
    return f"{SECRET_PREFIX}_{digest.hexdigest()}"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Passage-Signature` header value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: float = TOLERANCE_S) -> bool:
    """What a receiver does (the README shows the same in ten lines): recompute, compare in
    constant time, and refuse a timestamp too far from now (a replayed old delivery)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance_s and hmac.compare_digest(expected, parts.get("v1", ""))
