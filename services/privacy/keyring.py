"""The master keys: `PASSAGE_MASTER_KEY` wraps every case's data key (AES-256-GCM key wrapping).

`PASSAGE_MASTER_KEY` is base64 of 32 random bytes. Production refuses to start without it
(services/config.py). In development and tests, when it is unset, one is generated once into
`var/master.key` (mode 0600) and reused. That first key is derived from PASSAGE_SECRET_KEY
(HMAC-SHA256), not drawn at random: local processes that share a database but not a `var/`
directory (a `passage gateway` started by hand next to `passage up`, test processes) then agree
on it without configuration. A development key is only as secret as the development secret. `PASSAGE_MASTER_KEY_PREVIOUS` (comma-separated, same
form) lists keys still accepted for unwrapping while a rotation is under way; new data keys are
always wrapped with `PASSAGE_MASTER_KEY`. A key is named in the key store by its id: the first
16 hex digits of SHA-256 over it, which says which key wrapped a row without revealing the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.errors import MasterKeyMissing

KEY_BYTES = 32
MASTER_KEY_FILE = "master.key"
PREVIOUS_FILE = "master.previous"
HOW_TO_MAKE_ONE = 'generate one with: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'


def parse_master_key(text: str, name: str = "PASSAGE_MASTER_KEY") -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name} is not base64; {HOW_TO_MAKE_ONE}") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{name} decodes to {len(key)} bytes; it must be 32 bytes (AES-256); {HOW_TO_MAKE_ONE}")
    return key


def key_id(master_key: bytes) -> str:
    return hashlib.sha256(b"passage-master-key-id|" + master_key).hexdigest()[:16]


class Keyring:
    """The master keys this process holds: the current one (wraps new data keys) and the ones
    still accepted for unwrapping. In development (keys in var/), a key id it does not know makes
    it read the files again once, so a `passage keys rotate` needs no restart of running services."""

    def __init__(
        self,
        current: bytes,
        previous: Iterable[bytes] = (),
        reload: Callable[[], tuple[bytes, list[bytes]]] | None = None,
        changed: Callable[[], bool] | None = None,
    ) -> None:
        self._reload = reload
        self._changed = changed
        self._set(current, list(previous))

    def _set(self, current: bytes, previous: list[bytes]) -> None:
        keys = {key_id(key): key for key in previous}
        keys[key_id(current)] = current
        self.keys, self.current_id = keys, key_id(current)  # replaced whole: readers see one or the other

    @classmethod
    def of(cls, current: bytes, *previous: bytes) -> Keyring:
        return cls(current, previous)

    @classmethod
    def from_settings(cls, settings) -> Keyring:
        if settings.env == "production" and not settings.master_key:
            return Unavailable()  # `passage` refuses to start so; an app built in-process fails on first use
        return _keyring(
            settings.master_key or "", settings.master_key_previous or "", str(settings.var_dir), settings.secret_key
        )

    def wrap(self, case_id: str, data_key: bytes) -> bytes:
        """The data key encrypted under the current master key, bound to its case."""
        if self._reload is not None and self._changed is not None and self._changed():
            self._set(*self._reload())  # development: a rotation replaced var/master.key
        nonce = os.urandom(12)
        return nonce + _aead(self.keys[self.current_id]).encrypt(nonce, data_key, _aad(case_id))

    def unwrap(self, case_id: str, wrapped: bytes, master_key_id: str) -> bytes:
        master = self.keys.get(master_key_id)
        if master is None and self._reload is not None:
            self._set(*self._reload())
            master = self.keys.get(master_key_id)
        if master is None:
            raise MasterKeyMissing(
                f"the data key of case {case_id} is wrapped by master key {master_key_id}, which this process "
                "does not hold; set PASSAGE_MASTER_KEY_PREVIOUS to that key until `passage keys rotate` has run"
            )
        return _aead(master).decrypt(wrapped[:12], wrapped[12:], _aad(case_id))


@lru_cache(maxsize=8)
def _aead(master_key: bytes) -> AESGCM:
    return AESGCM(master_key)  # built once per master key: construction costs more than a key wrap


class Unavailable(Keyring):
    """Production without PASSAGE_MASTER_KEY: every use says what is missing."""

    def __init__(self) -> None:
        self.keys, self.current_id, self._reload, self._changed = {}, "", None, None

    def wrap(self, case_id: str, data_key: bytes) -> bytes:
        raise MasterKeyMissing("PASSAGE_MASTER_KEY is not set; production needs it to encrypt personal data")

    def unwrap(self, case_id: str, wrapped: bytes, master_key_id: str) -> bytes:
        raise MasterKeyMissing("PASSAGE_MASTER_KEY is not set; production needs it to decrypt personal data")


def _aad(case_id: str) -> bytes:
    return b"passage-data-key|" + case_id.encode()


@lru_cache(maxsize=16)
def _keyring(current: str, previous: str, var_dir: str, secret: str) -> Keyring:
    if not current:
        directory = Path(var_dir)
        keys = development_keys(directory, secret)
        return Keyring(
            *keys, reload=lambda: development_keys(directory, secret), changed=_watch(directory / MASTER_KEY_FILE)
        )
    others = [parse_master_key(text, "PASSAGE_MASTER_KEY_PREVIOUS") for text in previous.split(",") if text.strip()]
    return Keyring(parse_master_key(current), others)


def development_keys(var_dir: Path, secret: str) -> tuple[bytes, list[bytes]]:
    """var/master.key and the keys it replaced (var/master.previous, one per line)."""
    previous_file = var_dir / PREVIOUS_FILE
    previous = previous_file.read_text().split() if previous_file.exists() else []
    return _development_key(var_dir, secret), [parse_master_key(text, str(previous_file)) for text in previous]


def _watch(path: Path) -> Callable[[], bool]:
    """Whether `path` was replaced since the last call (one stat, only when a new key is wrapped)."""
    seen = [path.stat().st_mtime_ns]

    def changed() -> bool:
        now = path.stat().st_mtime_ns
        if now == seen[0]:
            return False
        seen[0] = now
        return True

    return changed


def rotate_development_key(var_dir: Path, secret: str) -> Keyring:
    """A new (random) var/master.key; the one it replaces is kept in var/master.previous for unwrapping."""
    current, previous = development_keys(var_dir, secret)
    previous_file = var_dir / PREVIOUS_FILE
    _write_private(previous_file, "".join(base64.b64encode(key).decode() + "\n" for key in [*previous, current]))
    _write_private(var_dir / MASTER_KEY_FILE, base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n")
    return Keyring(*development_keys(var_dir, secret))


def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"passage-development-master-key", hashlib.sha256).digest()


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable by its owner only."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.replace(draft, path)


def _development_key(var_dir: Path, secret: str) -> bytes:
    """var/master.key, created (0600) on first use. Only reached outside production."""
    path = var_dir / MASTER_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a concurrent reader never sees a half-written file.
        draft = var_dir / f".{MASTER_KEY_FILE}.{os.getpid()}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(_derived(secret)).decode() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            draft.unlink()
    text = path.read_text().strip()
    if not text:
        raise MasterKeyMissing(
            f"{path} is empty; delete it to have a new development key generated, or set PASSAGE_MASTER_KEY"
        )
    return parse_master_key(text, str(path))
