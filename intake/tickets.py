"""Secret query codes (查询码) and keyed hashes. Ticket numbers are taken in intake/storing.py."""

import hmac
import secrets

from models.crypto import keyed_hash

# No 0/O, 1/I/L: a code read over the phone or copied from a screen is not mistyped.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10 ≈ 8e14 codes


def new_query_code() -> str:
    """A uniformly random code: one draw from the OS's generator, written in the code alphabet."""
    number = secrets.randbelow(len(CODE_ALPHABET) ** CODE_LENGTH)
    digits = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[digit])
    return "".join(digits)


def hash_query_code(code: str, secret_key: str) -> str:
    return keyed_hash(code.strip().upper(), secret_key)


def query_code_matches(code: str, stored_hash: str, secret_key: str) -> bool:
    return hmac.compare_digest(hash_query_code(code, secret_key), stored_hash)
