"""servicekit.errors: the Validator collects every broken rule; InvalidArgument reports
them all, in English and zh-CN."""

from __future__ import annotations

import pytest

from servicekit.errors import (
    FieldViolation,
    InvalidArgument,
    NotFound,
    ServiceError,
    Validator,
)


def test_validator_collects_every_violation_and_raises_them_together() -> None:
    v = Validator()
    assert v.require(True, "name", "required", "name is required", "缺少名称") is True
    assert v.require(False, "amount_fen", "non_negative", "must be >= 0", "金额不能为负") is False
    assert v.require(False, "phone", "mobile_format", "must be a mobile") is False
    v.add("quarter", "quarter_range", "quarter must be 1–4", "季度须为1至4")

    with pytest.raises(InvalidArgument) as caught:
        v.raise_if_any()

    error = caught.value
    assert [(x.field, x.rule) for x in error.violations] == [
        ("amount_fen", "non_negative"),
        ("phone", "mobile_format"),
        ("quarter", "quarter_range"),
    ]
    for field in ("amount_fen", "phone", "quarter"):
        assert field in error.message
        assert field in error.message_zh
    assert "[non_negative]" in error.message
    assert error.message.startswith("invalid request: ")
    assert "金额不能为负" in error.message_zh
    assert "季度须为1至4" in error.message_zh
    # No zh text given: the English one stands in.
    assert "phone：must be a mobile" in error.message_zh
    assert str(error) == error.message


def test_validator_without_violations_does_not_raise() -> None:
    v = Validator()
    v.require(True, "name", "required", "name is required")
    v.raise_if_any()
    assert v.violations == []


def test_invalid_argument_refuses_an_empty_list() -> None:
    with pytest.raises(ValueError, match="at least one violation"):
        InvalidArgument([])


def test_invalid_argument_keeps_violations_immutable() -> None:
    violations = [FieldViolation("a", "required", "a is required")]
    error = InvalidArgument(violations)
    violations.append(FieldViolation("b", "required", "b is required"))
    assert len(error.violations) == 1
    assert isinstance(error.violations, tuple)


def test_field_violation_str_names_field_and_rule() -> None:
    assert str(FieldViolation("content.income[0]", "unknown_source", "bad source")) == (
        "content.income[0]: bad source [unknown_source]"
    )


def test_service_error_zh_message_defaults_to_english() -> None:
    assert NotFound("gone").message_zh == "gone"
    error = NotFound("gone", "不存在")
    assert (error.message, error.message_zh) == ("gone", "不存在")
    assert isinstance(error, ServiceError)


def test_an_exception_declaring_a_rule_violation_maps_without_servicekit_knowing_it() -> None:
    """The vocabulary (standard library only) declares its errors' meaning by a class
    attribute; servicekit maps them to RuleViolated (FAILED_PRECONDITION), both languages kept."""
    from servicekit.errors import RuleViolated, as_service_error

    class YearMissing(LookupError):
        service_error = "rule_violated"

        def __init__(self) -> None:
            super().__init__("no 2027")
            self.message = "no 2027"
            self.message_zh = "尚未录入2027年"

    mapped = as_service_error(YearMissing())
    assert isinstance(mapped, RuleViolated)
    assert (mapped.message, mapped.message_zh) == ("no 2027", "尚未录入2027年")
    assert as_service_error(KeyError("a bug")) is None
    refused = RuleViolated("x")
    assert as_service_error(refused) is refused
