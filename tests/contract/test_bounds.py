"""The bounds the .proto files declare: every request field has one, servicekit compiles
them all, and its compiled checks find exactly what protovalidate (the oracle) finds on
generated messages of every request type of the four services (and of the operators'
service they all serve)."""

from __future__ import annotations

from typing import Any

import protovalidate
import pytest
from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pubrev.casework.v1 import casework_pb2
from pubrev.common.v1 import admin_pb2, evidence_pb2
from pubrev.credit.v1 import credit_pb2
from pubrev.disclosure.v1 import disclosure_pb2
from pubrev.inspection.v1 import inspection_pb2
from servicekit.bounds import RequestBounds, UnsupportedRule, python_pattern
from servicekit.errors import FieldViolation, InvalidArgument
from servicekit.grpc_kit import status_for

SERVICES = {
    f"{module.DESCRIPTOR.package}.{name}": module
    for module, name in (
        (disclosure_pb2, "DisclosureService"),
        (inspection_pb2, "InspectionService"),
        (credit_pb2, "CreditService"),
        (casework_pb2, "CaseworkService"),
        (admin_pb2, "AdminService"),  # the operators', served by all four
        (evidence_pb2, "EvidenceService"),  # served by inspection and casework
    )
}
BOUNDS = RequestBounds.for_services(SERVICES)
REQUESTS: dict[str, Descriptor] = {
    f"/{service.full_name}/{method.name}": method.input_type
    for module in SERVICES.values()
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
}
ORACLE = protovalidate.Validator()  # type: ignore[no-untyped-call]


def rules(field: FieldDescriptor) -> Any:
    options = field.GetOptions()
    return (
        options.Extensions[validate_pb2.field] if options.HasExtension(validate_pb2.field) else None
    )


def unbounded(descriptor: Descriptor, seen: set[str]) -> list[str]:
    if descriptor.full_name in seen:
        return []
    seen.add(descriptor.full_name)
    missing = []
    for field in descriptor.fields:
        declared = rules(field)
        kind = declared.WhichOneof("type") if declared is not None else None
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated and kind != "repeated":
                missing.append(f"{field.full_name}: no repeated.max_items")
            assert field.message_type is not None
            missing += unbounded(field.message_type, seen)
        elif field.type == FieldDescriptor.TYPE_BOOL:
            continue  # two values: bounded by its type
        elif field.is_repeated:
            if (
                kind != "repeated"
                or not declared.repeated.HasField("max_items")
                or not declared.repeated.HasField("items")
            ):
                missing.append(f"{field.full_name}: no max_items with item rules")
        elif kind == "string":
            if not declared.string.HasField("max_len"):
                missing.append(f"{field.full_name}: no string.max_len")
        elif field.type == FieldDescriptor.TYPE_BYTES:
            if kind != "bytes" or not declared.bytes.HasField("max_len"):
                missing.append(f"{field.full_name}: no bytes.max_len")
        elif kind in ("int32", "int64"):
            numeric = getattr(declared, kind)
            if not (numeric.HasField("gte") and numeric.HasField("lte")):
                missing.append(f"{field.full_name}: no {kind} gte and lte")
        else:
            missing.append(f"{field.full_name}: no bound")
    return missing


def test_every_field_of_every_request_declares_a_bound() -> None:
    seen: set[str] = set()
    missing = [m for d in REQUESTS.values() for m in unbounded(d, seen)]
    assert missing == []
    # and every request is compiled (one without fields, GetLag's, has nothing to check)
    assert set(BOUNDS.by_method) == {m for m, d in REQUESTS.items() if d.fields}


# -- generated messages: the compiled checks agree with protovalidate ------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
SAMPLES = st.sampled_from(
    [
        "CX-0001",
        "91350200776049653A",
        "2026-04-10",
        "13805940000",
        "2026-05-12T09:30:00+08:00",
        "2026-05-12T09:30:00Z",
        "parking",
        "chengxiang",
        "莆城管罚决〔2026〕12号",
        "a\tb",
        "a\nb",
        "\x85",
        "0001-01-01T00:00:00+14:00",
        "2026-05-12T09:30:00+08:00\n",
        "abc\n",
        "",
        " ",
        "５",
        "350302",
        "91350203M0001QAY9B",
    ]
)


def strings(field: FieldDescriptor, declared: Any | None) -> st.SearchStrategy[str]:
    choices = [TEXT, SAMPLES]
    string_rules = None
    if declared is not None and declared.WhichOneof("type") == "string":
        string_rules = declared.string
    elif declared is not None and declared.WhichOneof("type") == "repeated":
        string_rules = declared.repeated.items.string
    if string_rules is not None:
        choices += [st.sampled_from(list(string_rules.example) or ["x"])]
        if string_rules.HasField("max_len"):
            limit = string_rules.max_len
            choices += [st.sampled_from(["x" * limit, "x" * (limit + 1), "文" * (limit + 1)])]
    return st.one_of(*choices)


def integers(field: FieldDescriptor, declared: Any | None) -> st.SearchStrategy[int]:
    bits = 31 if field.type == FieldDescriptor.TYPE_INT32 else 63
    edges = [0, -1, 1, 2**bits - 1, -(2**bits)]
    kind = declared.WhichOneof("type") if declared is not None else None
    if kind in ("int32", "int64"):
        numeric = getattr(declared, kind)
        for bound in (numeric.gte, numeric.lte):
            edges += [b for b in (bound - 1, bound, bound + 1) if -(2**bits) <= b < 2**bits]
    return st.one_of(
        st.sampled_from(edges), st.integers(min_value=-(2**bits), max_value=2**bits - 1)
    )


@st.composite
def messages(draw: st.DrawFn, descriptor: Descriptor, depth: int = 0) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue  # unset: its zero value, or absent
        declared = rules(field)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 2 or field.message_type is None:
                continue
            one = messages(field.message_type, depth + 1)
            values[field.name] = draw(st.lists(one, max_size=3) if field.is_repeated else one)
        elif field.type == FieldDescriptor.TYPE_STRING:
            one_s = strings(field, declared)
            values[field.name] = draw(st.lists(one_s, max_size=3) if field.is_repeated else one_s)
        elif field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
            one_i = integers(field, declared)
            values[field.name] = draw(st.lists(one_i, max_size=3) if field.is_repeated else one_i)
        elif field.type == FieldDescriptor.TYPE_BOOL:
            values[field.name] = draw(st.booleans())
        elif field.type == FieldDescriptor.TYPE_BYTES:
            # Small: the 20 MiB edge is test_a_bytes_field_at_and_past_its_bound's.
            values[field.name] = draw(st.binary(max_size=64))
    return values


def build(descriptor: Descriptor, values: dict[str, Any]) -> Message:
    module = next(m for m in SERVICES.values() if descriptor.file.name == m.DESCRIPTOR.name)
    message: Message = getattr(module, descriptor.name)()
    fill(message, values)
    return message


def fill(message: Message, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    fill(getattr(message, name).add(), item)
            else:
                getattr(message, name).SetInParent()
                fill(getattr(message, name), value)
        elif field.is_repeated:
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)


def oracle_paths(message: Message) -> set[tuple[str, str]]:
    found = set()
    for violation in ORACLE.collect_violations(message):
        path = ""
        for element in violation.proto.field.elements:
            path += ("." if path else "") + element.field_name
            if element.WhichOneof("subscript") == "index":
                path += f"[{element.index}]"
        found.add((path, violation.proto.rule_id))
    return found


@pytest.mark.parametrize("method", sorted(m for m, d in REQUESTS.items() if d.fields))
def test_the_compiled_checks_agree_with_protovalidate(method: str) -> None:
    descriptor = REQUESTS[method]
    compiled = BOUNDS.by_method[method]

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(messages(descriptor))
    def agree(values: dict[str, Any]) -> None:
        message = build(descriptor, values)
        ours = {(v.field, v.rule) for v in compiled.violations(message)}
        assert ours == oracle_paths(message)

    agree()


# -- the compiler's own rules ---------------------------------------------------------------


def test_a_pattern_reads_the_same_in_python_as_in_re2() -> None:
    digits = python_pattern("^[0-9]{4}$")
    assert digits.fullmatch("2026") and not digits.fullmatch("2026\n")  # Python's $ would
    assert not python_pattern("^[0-9]*$").fullmatch("٣")  # ASCII classes, as in RE2
    for bad in ("[0-9]+", "^a|b$", "^\\s*$"):
        with pytest.raises(UnsupportedRule):
            python_pattern(bad)


def test_an_unsupported_rule_refuses_to_start() -> None:
    """A rule servicekit does not compile (here `string.email`) is never silently not
    enforced: compiling it fails, and with it the server's start."""
    from servicekit import bounds

    declared = validate_pb2.FieldRules()
    declared.string.email = True
    declared.string.max_len = 10
    with pytest.raises(UnsupportedRule, match="email"):
        bounds._string_tests(declared.string, "t.R.email")


def test_an_error_stays_small_whatever_was_sent() -> None:
    """Ten thousand broken fields still make trailers far under a client's 8 KiB."""
    violations = [
        FieldViolation(
            f"content.income[{n}].note",
            "string.max_len",
            "at most 500 characters",
            "不超过500个字符",
        )
        for n in range(10_000)
    ]
    _, status = status_for(InvalidArgument(violations))
    assert len(status.SerializeToString()) < 6000
    bad_request = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad_request) for d in status.details)
    assert len(bad_request.field_violations) == 21
    assert bad_request.field_violations[-1].reason == "more_violations"


def test_a_bytes_field_at_and_past_its_bound() -> None:
    """EvidenceService's content: 20 MiB passes, one byte more is `bytes.max_len`, as the
    oracle says (the generated messages keep bytes small)."""
    method = "/pubrev.common.v1.EvidenceService/UploadAttachment"
    bounds = BOUNDS.for_method(method)
    assert bounds is not None
    limit = 20 * 1024 * 1024
    at = evidence_pb2.UploadAttachmentRequest(
        request_id="r1", content=b"x" * limit, media_type="application/pdf", filename="a.pdf"
    )
    past = evidence_pb2.UploadAttachmentRequest()
    past.CopyFrom(at)
    past.content = b"x" * (limit + 1)
    assert ("content", "bytes.max_len") not in oracle_paths(at)
    assert ("content", "bytes.max_len") in oracle_paths(past)
    bounds.check(at)
    with pytest.raises(InvalidArgument) as refused:
        bounds.check(past)
    assert [(v.field, v.rule) for v in refused.value.violations] == [("content", "bytes.max_len")]
