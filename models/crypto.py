"""Reporter identity encrypted at rest (Fernet, AES-128-CBC + HMAC), with key rotation.

The keyring is process-wide and set once by the wiring (`configure(keys)`) before any query. The first
key encrypts; every key decrypts, so a new key can be put first and old rows re-encrypted later
(`hotline keys rotate`).
"""

import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_keyring: MultiFernet | None = None
_lookup_secret: str | None = None


class KeyringMissing(RuntimeError):
    """No encryption key configured: refuse to read or write identities rather than store them in clear."""


def configure(keys: list[str]) -> None:
    global _keyring
    if not keys:
        raise KeyringMissing("no reporter encryption key configured (HOTLINE_CONTACT_KEYS)")
    _keyring = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def configure_lookup_secret(secret: str) -> None:
    """The server's secret key (HOTLINE_SECRET_KEY), for identifiers stored only as a keyed hash."""
    global _lookup_secret
    if not secret:
        raise KeyringMissing("no secret key configured for identifier hashes (HOTLINE_SECRET_KEY)")
    _lookup_secret = secret


def keyed_hash(value: str, secret_key: str) -> str:
    """HMAC-SHA256 with the server's secret key: what is stored instead of a secret or an identifier, so
    that a copy of the database reveals neither (query codes, rate-counter clients, Telegram users)."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def lookup_hash(value: str) -> str:
    """`keyed_hash` with the configured secret, for an identifier that must be found again but never read
    back (a Telegram user id), where no caller has the settings at hand."""
    if _lookup_secret is None:
        raise KeyringMissing("secret key for identifier hashes not configured")
    return keyed_hash(value, _lookup_secret)


def keyring() -> MultiFernet:
    if _keyring is None:
        raise KeyringMissing("reporter encryption keys not configured")
    return _keyring


def new_key() -> str:
    return Fernet.generate_key().decode()


def rotate_token(token: str) -> str:
    return keyring().rotate(token.encode()).decode()


class EncryptedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return keyring().encrypt(value.encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return keyring().decrypt(str(value).encode()).decode()
        except InvalidToken as exc:
            raise KeyringMissing("reporter identity cannot be decrypted with the configured keys") from exc
