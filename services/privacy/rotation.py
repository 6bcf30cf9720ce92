"""`passage keys rotate`: rewrap every case data key under a new master key, with no downtime.

Data keys never change, so no record on the log is re-encrypted: only the key store's wrapped
keys are, page by page, each row by compare-and-set (a concurrent erasure or rotation wins).
Services keep running throughout, because they accept the old and the new master key while the
rotation is under way (see the README, "Personal data", for the production procedure).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from services.privacy import keystore
from services.privacy.keyring import Keyring, rotate_development_key


@dataclass(frozen=True)
class Rotated:
    master_key_id: str
    rewrapped: int
    keys_by_master: dict[str | None, int]


def rotate(engine: Engine, keyring: Keyring, page: int = 500) -> Rotated:
    """Rewrap every live key not under `keyring`'s current master key."""
    total = 0
    while True:
        with engine.begin() as connection:
            done = keystore.rewrap_page(connection, keyring, page)
        total += done
        if done < page:
            break
    with engine.connect() as connection:
        counts = keystore.count_by_master_key(connection)
    return Rotated(keyring.current_id, total, counts)


def rotate_with_settings(settings, engine: Engine) -> Rotated:
    """Production (PASSAGE_MASTER_KEY set): rewrap under it, unwrapping with PASSAGE_MASTER_KEY_PREVIOUS.
    Development (keys in var/): make a new var/master.key first, keeping the old one accepted."""
    if settings.master_key:
        return rotate(engine, Keyring.from_settings(settings))
    return rotate(engine, rotate_development_key(Path(settings.var_dir), settings.secret_key))
