"""Identifier rules (DOMAIN.md §10): the USCC check character (contact numbers are the shared
kernel's, pubrev_contracts.vocabulary.identifiers, tested there and through the content rules)."""

from __future__ import annotations

import pytest

from pubrev_contracts.vocabulary.identifiers import USCC_CHARSET, uscc_problem


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
