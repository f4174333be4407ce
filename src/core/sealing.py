"""Envelope encryption of sensitive text (AES-256-GCM, cryptography's AEAD).

Each sensitive ticket gets its own random 256-bit data key. The data key encrypts the ticket's
text; the master key (`DATA_ENCRYPTION_KEY`, or a key generated once under `DATA_DIR` for the
embedded database) encrypts the data key. A sealed value carries everything needed to open it
except the master key:

    sealed:v1:<master key id>:<wrapped data key>:<nonce and ciphertext>   (base64url parts)

so every field of a ticket, and every note of its history, can be opened on its own and the
master key can be rotated by re-wrapping data keys without touching the ciphertexts
(`khanyisa rotate-keys`). The key id is the first 16 hex digits of the master key's SHA-256:
it names the key without revealing it.
"""

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
NONCE_BYTES = 12
KEY_BYTES = 32
WRAP_CONTEXT = b"khanyisa data key"
KEY_FILE = "data_encryption_key"


class KeyError_(Exception):
    """A master key is missing, malformed, or not the one a value was sealed with."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(self.key).hexdigest()[:16]


def parse_master_key(text: str) -> MasterKey:
    try:
        key = _unb64(text.strip())
    except ValueError as exc:
        raise KeyError_("DATA_ENCRYPTION_KEY must be 32 bytes in base64url.") from exc
    if len(key) != KEY_BYTES:
        raise KeyError_("DATA_ENCRYPTION_KEY must be 32 bytes in base64url.")
    return MasterKey(key)


def generate_master_key() -> str:
    return _b64(secrets.token_bytes(KEY_BYTES))


def stored_master_key(data_dir: str) -> str:
    """The key kept in `DATA_DIR/data_encryption_key` (mode 0600), generated on first use."""
    data = Path(data_dir)
    path = data / KEY_FILE
    data.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = generate_master_key()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


@lru_cache(maxsize=1)
def _keys() -> tuple[MasterKey, dict[str, MasterKey]]:
    """The current master key, and every key that may open a value (the current one and
    `DATA_ENCRYPTION_OLD_KEYS`, comma-separated, kept while a rotation runs)."""
    from src.core.config import get_settings

    settings = get_settings()
    current = parse_master_key(settings.data_encryption_key or stored_master_key(settings.data_dir))
    ring = {current.id: current}
    for text in filter(None, (s.strip() for s in (settings.data_encryption_old_keys or "").split(","))):
        old = parse_master_key(text)
        ring.setdefault(old.id, old)
    return current, ring


def reset_keys() -> None:
    _keys.cache_clear()
    _unwrap.cache_clear()


def current_key() -> MasterKey:
    return _keys()[0]


@dataclass(frozen=True)
class DataKey:
    key: bytes
    master_id: str
    wrapped: bytes

    def seal(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        body = nonce + AESGCM(self.key).encrypt(nonce, plaintext.encode(), None)
        return f"{PREFIX}{self.master_id}:{_b64(self.wrapped)}:{_b64(body)}"


def new_data_key() -> DataKey:
    master = current_key()
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return DataKey(key, master.id, nonce + AESGCM(master.key).encrypt(nonce, key, WRAP_CONTEXT))


@lru_cache(maxsize=4096)
def _unwrap(master_id: str, wrapped: bytes) -> bytes:
    master = _keys()[1].get(master_id)
    if master is None:
        raise KeyError_(f"No master key with id {master_id} is configured.")
    return AESGCM(master.key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], WRAP_CONTEXT)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _parts(value: str) -> tuple[str, bytes, bytes]:
    master_id, wrapped, body = value[len(PREFIX) :].split(":")
    return master_id, _unb64(wrapped), _unb64(body)


def data_key_of(value: str) -> DataKey:
    """The data key a sealed value was sealed with, to seal more of the same ticket's text."""
    master_id, wrapped, _ = _parts(value)
    return DataKey(_unwrap(master_id, wrapped), master_id, wrapped)


def reveal(value: str | None) -> str | None:
    """The plaintext of a sealed value; any other value as it is."""
    if not is_sealed(value):
        return value
    assert value is not None
    master_id, wrapped, body = _parts(value)
    return AESGCM(_unwrap(master_id, wrapped)).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], None).decode()


def rewrap(value: str) -> str:
    """The same ciphertext with its data key wrapped by the current master key."""
    master_id, wrapped, body = _parts(value)
    current = current_key()
    if master_id == current.id:
        return value
    key = _unwrap(master_id, wrapped)
    nonce = secrets.token_bytes(NONCE_BYTES)
    rewrapped = nonce + AESGCM(current.key).encrypt(nonce, key, WRAP_CONTEXT)
    return f"{PREFIX}{current.id}:{_b64(rewrapped)}:{_b64(body)}"
