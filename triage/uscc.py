"""统一社会信用代码 (USCC, GB 32100-2015) validation: shape and the MOD 31 check character."""

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def check_char(first17: str) -> str:
    """The 18th character for the first 17 (GB/T 17710 MOD 31 as profiled by GB 32100)."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_error(code: str) -> str | None:
    """Why `code` is not a valid USCC, or None when it is."""
    if len(code) != 18:
        return f"USCC must be 18 characters, got {len(code)}"
    if not SHAPE.match(code):
        return "USCC has characters outside 0-9A-HJ-NPQRTUWXY or a non-numeric region code"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"USCC check character is {code[17]}, expected {expected}"
    return None


def is_valid_uscc(code: str) -> bool:
    return uscc_error(code) is None
