"""servicekit.grpc_kit.status_for: service errors to gRPC status codes and rich details
(pure function, no server)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from servicekit.errors import (
    AlreadyExists,
    Conflict,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RuleViolated,
    ServiceError,
    Unauthenticated,
)
from servicekit.grpc_kit import ERROR_DOMAIN, status_for


def unpack(status: status_pb2.Status) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for detail in status.details:
        for kind in (
            error_details_pb2.BadRequest,
            error_details_pb2.LocalizedMessage,
            error_details_pb2.ErrorInfo,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                assert kind.DESCRIPTOR.name not in found, "one detail of each kind"
                found[kind.DESCRIPTOR.name] = message
    assert len(found) == len(status.details), "no unexpected details"
    return found


def test_invalid_argument_lists_every_violation_in_a_bad_request() -> None:
    error = InvalidArgument(
        [
            FieldViolation("quarter", "quarter_range", "quarter must be 1–4", "季度须为1至4"),
            FieldViolation(
                "content.contact_phone", "mobile_format", "must be a mobile", "须为手机号"
            ),
            FieldViolation("content.posting_end", "posting_too_short", "too short"),
        ]
    )
    code, status = status_for(error)

    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] == 3
    assert status.message == error.message
    details = unpack(status)
    bad_request = details["BadRequest"]
    assert [(v.field, v.reason, v.description) for v in bad_request.field_violations] == [
        ("quarter", "quarter_range", "quarter must be 1–4"),
        ("content.contact_phone", "mobile_format", "must be a mobile"),
        ("content.posting_end", "posting_too_short", "too short"),
    ]
    assert [
        (v.localized_message.locale, v.localized_message.message)
        for v in bad_request.field_violations
    ] == [
        ("zh-CN", "季度须为1至4"),
        ("zh-CN", "须为手机号"),
        ("zh-CN", "too short"),
    ]
    localized = details["LocalizedMessage"]
    assert localized.locale == "zh-CN"
    assert localized.message == error.message_zh
    assert "季度须为1至4" in localized.message
    assert details["ErrorInfo"].reason == "INVALIDARGUMENT"
    assert details["ErrorInfo"].domain == ERROR_DOMAIN


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            RuleViolated("deadline not passed", "截止日尚未届满"),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (NotFound("no such disclosure", "公示记录不存在"), grpc.StatusCode.NOT_FOUND),
        (AlreadyExists("filed already", "已提交"), grpc.StatusCode.ALREADY_EXISTS),
        (Conflict("changed concurrently", "数据已被并发修改"), grpc.StatusCode.ABORTED),
        (PermissionDenied("other unit", "无权查看"), grpc.StatusCode.PERMISSION_DENIED),
        (Unauthenticated("no identity", "未识别调用方身份"), grpc.StatusCode.UNAUTHENTICATED),
    ],
)
def test_each_error_class_maps_to_its_status(error: ServiceError, code: grpc.StatusCode) -> None:
    got, status = status_for(error)
    assert got == code
    assert status.code == code.value[0]
    assert status.message == error.message
    details = unpack(status)
    assert "BadRequest" not in details
    assert details["LocalizedMessage"].locale == "zh-CN"
    assert details["LocalizedMessage"].message == error.message_zh
    assert details["ErrorInfo"].reason == type(error).__name__.upper()


class FakeUnmappedError(ServiceError):
    """A service error with no status of its own."""


def test_an_unmapped_service_error_is_internal_never_unknown() -> None:
    code, status = status_for(FakeUnmappedError("surprise"))
    assert code == grpc.StatusCode.INTERNAL
    assert status.code == grpc.StatusCode.INTERNAL.value[0]
    assert unpack(status)["LocalizedMessage"].message == "surprise"


def test_status_survives_serialisation() -> None:
    _, status = status_for(Conflict("changed", "已修改"))
    again = status_pb2.Status.FromString(status.SerializeToString())
    assert again == status
    assert unpack(again)["LocalizedMessage"].message == "已修改"
