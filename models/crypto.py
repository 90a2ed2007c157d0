"""Reporter identity encrypted at rest (Fernet, AES-128-CBC + HMAC), with key rotation.

The keyring is process-wide and set once by the wiring (`configure(keys)`) before any query. The first
key encrypts; every key decrypts, so a new key can be put first and old rows re-encrypted later
(`hotline keys rotate`).
"""

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_keyring: MultiFernet | None = None


class KeyringMissing(RuntimeError):
    """No encryption key configured: refuse to read or write identities rather than store them in clear."""


def configure(keys: list[str]) -> None:
    global _keyring
    if not keys:
        raise KeyringMissing("no reporter encryption key configured (HOTLINE_CONTACT_KEYS)")
    _keyring = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


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
