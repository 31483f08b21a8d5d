"""Identifier rules (DOMAIN.md §10): USCC check character and mainland mobile numbers."""

from __future__ import annotations

import pytest

from disclosure.domain.identifiers import USCC_CHARSET, is_mainland_mobile, uscc_problem


@pytest.mark.parametrize(
    "code",
    ["91110000600037341L", "91350200776049653A", "9144030071526726XG", "91430111MA4L41YT1U"],
)
def test_valid_uscc_examples_pass(code: str) -> None:
    assert uscc_problem(code) is None


def test_check_character_mismatch_is_named() -> None:
    problem = uscc_problem("91350203M0001QAY9B")
    assert problem is not None
    assert "check character is B" in problem


def test_one_changed_character_breaks_the_check() -> None:
    # A valid code with one body character changed no longer matches its check character.
    problem = uscc_problem("91350200776049654A")
    assert problem is not None
    assert "check character" in problem


@pytest.mark.parametrize(
    "code", ["", "91350200776049653", "91350200776049653AA", "9135020077604965"]
)
def test_wrong_length_is_rejected(code: str) -> None:
    assert uscc_problem(code) == "must be 18 characters"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letters_are_rejected(letter: str) -> None:
    assert letter not in USCC_CHARSET
    code = "9135020077604965" + letter + "A"
    problem = uscc_problem(code)
    assert problem is not None
    assert "outside the GB 32100 set" in problem
    assert problem.endswith(letter)


def test_lower_case_is_not_accepted() -> None:
    problem = uscc_problem("91350200776049653a")
    assert problem is not None
    assert "outside the GB 32100 set" in problem


def test_charset_has_31_characters() -> None:
    assert len(USCC_CHARSET) == 31
    assert len(set(USCC_CHARSET)) == 31


@pytest.mark.parametrize("phone", ["13800138000", "19912345678", "10000000000"])
def test_eleven_digits_starting_with_1_is_a_mobile(phone: str) -> None:
    assert is_mainland_mobile(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "0594-2345678",  # landline with area code
        "05942345678",  # 11 digits, but a landline
        "23800138000",  # 11 digits not starting with 1
        "1380013800a",  # a letter
        "138 0013 800",
        "+8613800138000",
        "",
    ],
)
def test_non_mobiles_are_rejected(phone: str) -> None:
    assert not is_mainland_mobile(phone)


def test_trailing_newline_is_not_a_mobile() -> None:
    # BUG: `re.match(r"^1\d{10}$")` lets `$` match before a final "\n".
    assert not is_mainland_mobile("13800138000\n")


def test_non_ascii_digits_are_not_a_mobile() -> None:
    # BUG: `\d` matches any Unicode decimal digit, e.g. full-width ０-９.
    assert not is_mainland_mobile("1" + "３" * 10)
