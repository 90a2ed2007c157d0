"""USCC (GB 32100) validation."""

import pytest

from triage.uscc import check_char, is_valid_uscc, uscc_error


@pytest.mark.parametrize(
    "code",
    ["9144030071526726XG", "91441600MA4U00001Y", "914416257633558894"],
    ids=["public-example", "synthetic-heyuan", "register-row"],
)
def test_valid_codes_pass(code: str) -> None:
    assert is_valid_uscc(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("914416257633558895", "check character"),
        ("9144162576335588", "18 characters"),
        ("91441625763355889I", "characters outside"),
        ("9144X625763355889A", "characters outside"),
    ],
    ids=["wrong-check", "too-short", "letter-I", "letter-in-region"],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    assert not is_valid_uscc(code)
    assert reason in (uscc_error(code) or "")


def test_every_single_character_change_is_caught() -> None:
    code = "914416257633558894"
    assert check_char(code[:17]) == code[17]
    for pos in range(17):
        for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if ch != code[pos] and not (2 <= pos < 8 and not ch.isdigit()):
                changed = code[:pos] + ch + code[pos + 1 :]
                assert not is_valid_uscc(changed), changed
