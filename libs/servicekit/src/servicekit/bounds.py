"""Request bounds declared in the contract, compiled once at start-up into plain checks.

Every field of every request carries its bound in the .proto files, as protovalidate
annotations (`(buf.validate.field)`), where the provincial systems that call us read them.
protovalidate's own validators interpret those rules (CEL) on every call, far too slowly
for the command path (~20 validations/s were reported for the Python one), so here the
rules are read from the descriptors once, when the server starts, and turned into tuples of
closures per message type; a call runs only those closures. The tests check, on generated
messages, that these checks and protovalidate (the oracle) find the same violations.

Only the subset of protovalidate that the contracts use is compiled; any other rule makes
start-up fail (`UnsupportedRule`), so a bound written in a .proto is never silently not
enforced:
- `required` (a field without presence: not its zero value; with presence: set),
  `ignore: IGNORE_IF_ZERO_VALUE` (an empty optional text), `ignore: IGNORE_ALWAYS`;
- `string`: `min_len`, `max_len`, `pattern`, `in`, `example` (documentation only: shown in
  the error as the expected format);
- `int32`, `int64`: `gte`, `lte`;
- `bytes`: `min_len`, `max_len` (a file's size: servicekit.evidence's upload);
- `repeated`: `min_items`, `max_items`, `items` (the rules of each item);
- a message field is checked by its own fields' rules when set.

Patterns are RE2 (what protovalidate runs) and must read `^…$` without a top-level `|`:
then "the whole text matches the inner expression" means the same in RE2 and in Python's
`re.fullmatch` (Python's `$` would also match before a final newline; `re.ASCII` keeps
`\\d` to ASCII digits as in RE2).

Violations name the request path (`content.income[0].amount_fen`), protovalidate's rule id
(`string.max_len`, `int64.gte_lte`, ...) as the reason, and an English and a zh-CN
description; never the value that was sent.

Stdlib and google.protobuf only: servicekit knows no service and no contract. The server
(grpc_kit) compiles the services it is given by name from the descriptor pool that the
service's generated stubs filled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from servicekit.errors import FieldViolation, InvalidArgument

RULES_EXTENSION = "buf.validate.field"
IGNORE_IF_ZERO_VALUE = 1
IGNORE_ALWAYS = 3

Out = list[FieldViolation]
FieldCheck = Callable[[Any, str, Out], None]
"""(message, path prefix, violations found so far) → appends this field's violations."""
ValueTest = tuple[Callable[[Any], bool], str, str, str]
"""(passes?, rule id, English, zh-CN): one rule on one value."""


class UnsupportedRule(ValueError):
    """A .proto declares a rule this compiler does not enforce: refuse to start."""


@dataclass(frozen=True)
class MessageBounds:
    """The compiled checks of one message type."""

    full_name: str
    checks: tuple[FieldCheck, ...]

    def violations(self, message: Message, prefix: str = "") -> list[FieldViolation]:
        out: Out = []
        for check in self.checks:
            check(message, prefix, out)
        return out

    def check(self, message: Message) -> None:
        """Raises InvalidArgument naming every field out of its bound."""
        out: Out = []
        for check in self.checks:
            check(message, "", out)
        if out:
            raise InvalidArgument(out)


@dataclass(frozen=True)
class RequestBounds:
    """The bounds of each RPC's request, by gRPC method path (`/pkg.Service/Method`)."""

    by_method: Mapping[str, MessageBounds]

    def for_method(self, method: str) -> MessageBounds | None:
        return self.by_method.get(method)

    @classmethod
    def for_services(
        cls, service_names: Iterable[str], pool: descriptor_pool.DescriptorPool | None = None
    ) -> RequestBounds:
        """Compiles the request of every method of the named services. The services'
        generated stubs must have been imported (they register the descriptors)."""
        pool = pool or descriptor_pool.Default()
        compiler = _Compiler(pool)
        by_method: dict[str, MessageBounds] = {}
        for name in service_names:
            service = pool.FindServiceByName(name)
            for method in service.methods:
                compiled = compiler.message(method.input_type)
                if compiled is not None:
                    by_method[f"/{service.full_name}/{method.name}"] = compiled
        return cls(by_method)


def compile_message(
    descriptor: Descriptor, pool: descriptor_pool.DescriptorPool | None = None
) -> MessageBounds:
    """The compiled checks of one message type (an empty tuple when it declares none)."""
    compiled = _Compiler(pool or descriptor_pool.Default()).message(descriptor)
    return compiled or MessageBounds(descriptor.full_name, ())


# -- the compiler ----------------------------------------------------------------------------

_INT_TYPES = {
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
}
_STRING_RULES = {"min_len", "max_len", "pattern", "in", "example"}
_INT_RULES = {"gte", "lte"}
_BYTES_RULES = {"min_len", "max_len"}
_REPEATED_RULES = {"min_items", "max_items", "items"}
_NEGATED_CLASS = re.compile(r"\^\[\^[^\]]*\]\*\$")


class _Compiler:
    def __init__(self, pool: descriptor_pool.DescriptorPool) -> None:
        self.extension: Any
        try:
            self.extension = pool.FindExtensionByName(RULES_EXTENSION)
        except KeyError:
            # No stub imports buf/validate/validate.proto: then nothing declares a bound.
            self.extension = None
        self.done: dict[str, MessageBounds | None] = {}

    def message(self, descriptor: Descriptor) -> MessageBounds | None:
        """None when neither the message nor anything inside it declares a rule."""
        name = descriptor.full_name
        if name in self.done:
            return self.done[name]
        self.done[name] = None  # a recursive type: its own fields are compiled below
        checks = tuple(c for f in descriptor.fields if (c := self.field(f)) is not None)
        compiled = MessageBounds(name, checks) if checks else None
        self.done[name] = compiled
        return compiled

    def rules(self, field: FieldDescriptor) -> Any | None:
        if self.extension is None:
            return None
        options = field.GetOptions()
        if not options.HasExtension(self.extension):
            return None
        return options.Extensions[self.extension]

    def field(self, field: FieldDescriptor) -> FieldCheck | None:
        rules = self.rules(field)
        where = field.full_name
        required = bool(rules is not None and rules.required)
        ignore = rules.ignore if rules is not None else 0
        if rules is not None:
            _refuse_unknown(
                rules,
                {"required", "ignore", "string", "int32", "int64", "bytes", "repeated"},
                where,
            )
        if ignore == IGNORE_ALWAYS:
            return None
        if ignore not in (0, IGNORE_IF_ZERO_VALUE):
            raise UnsupportedRule(f"{where}: ignore={ignore}")
        if field.is_repeated:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                if rules is not None:
                    raise UnsupportedRule(f"{where}: rules on a map field")
                return None
            return self.repeated(field, rules, required, ignore == IGNORE_IF_ZERO_VALUE)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if rules is not None and rules.WhichOneof("type") is not None:
                raise UnsupportedRule(f"{where}: type rules on a message field")
            assert field.message_type is not None
            return _message_field(field.name, self.message(field.message_type), required)
        tests = self.value_tests(field, rules, where)
        if not tests and not required:
            return None
        return _scalar_field(
            field.name, field.has_presence, required, ignore == IGNORE_IF_ZERO_VALUE, tests
        )

    def value_tests(
        self, field: FieldDescriptor, rules: Any | None, where: str
    ) -> tuple[ValueTest, ...]:
        kind = rules.WhichOneof("type") if rules is not None else None
        if kind is None or rules is None:
            return ()
        if kind == "string":
            if field.type != FieldDescriptor.TYPE_STRING:
                raise UnsupportedRule(f"{where}: string rules on a non-string field")
            return _string_tests(rules.string, where)
        if kind in ("int32", "int64"):
            if _INT_TYPES.get(field.type) != kind:
                raise UnsupportedRule(f"{where}: {kind} rules on another type")
            return _int_tests(kind, getattr(rules, kind), where)
        if kind == "bytes":
            if field.type != FieldDescriptor.TYPE_BYTES:
                raise UnsupportedRule(f"{where}: bytes rules on a non-bytes field")
            return _bytes_tests(rules.bytes, where)
        raise UnsupportedRule(f"{where}: {kind} rules")

    def repeated(
        self, field: FieldDescriptor, rules: Any | None, required: bool, ignore_zero: bool
    ) -> FieldCheck | None:
        where = field.full_name
        kind = rules.WhichOneof("type") if rules is not None else None
        if kind not in (None, "repeated"):
            raise UnsupportedRule(f"{where}: {kind} rules on a repeated field (use items)")
        count_tests: list[ValueTest] = []
        item_tests: tuple[ValueTest, ...] = ()
        if kind == "repeated" and rules is not None:
            repeated = rules.repeated
            _refuse_unknown(repeated, _REPEATED_RULES, where)
            if repeated.HasField("min_items"):
                low = repeated.min_items
                count_tests.append(
                    (_at_least(low), "repeated.min_items", f"at least {low} items", f"至少{low}项")
                )
            if repeated.HasField("max_items"):
                high = repeated.max_items
                count_tests.append(
                    (
                        _at_most(high),
                        "repeated.max_items",
                        f"at most {high} items",
                        f"不超过{high}项",
                    )
                )
            if repeated.HasField("items"):
                items = repeated.items
                _refuse_unknown(items, {"string", "int32", "int64"}, f"{where} items")
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    raise UnsupportedRule(f"{where}: item rules on message items")
                item_tests = self.value_tests(field, items, f"{where} items")
        item_message = self.message(field.message_type) if field.message_type is not None else None
        if not count_tests and not item_tests and item_message is None and not required:
            return None
        return _repeated_field(
            field.name, required, ignore_zero, tuple(count_tests), item_tests, item_message
        )


def _refuse_unknown(rules: Any, allowed: set[str], where: str) -> None:
    unknown = sorted(f.name for f, _ in rules.ListFields() if f.name not in allowed)
    if unknown:
        raise UnsupportedRule(f"{where}: {', '.join(unknown)} not enforced by servicekit.bounds")


def _string_tests(rules: Any, where: str) -> tuple[ValueTest, ...]:
    _refuse_unknown(rules, _STRING_RULES, where)
    tests: list[ValueTest] = []
    example = rules.example[0] if rules.example else ""
    if rules.HasField("min_len"):
        low = rules.min_len
        tests.append(
            (_at_least(low), "string.min_len", f"at least {low} characters", f"至少{low}个字符")
        )
    if rules.HasField("max_len"):
        high = rules.max_len
        tests.append(
            (_at_most(high), "string.max_len", f"at most {high} characters", f"不超过{high}个字符")
        )
    if rules.HasField("pattern"):
        match = python_pattern(rules.pattern, where).fullmatch
        if example:
            en = f"has the wrong format (for example {example})"
            zh = f"格式不正确（示例：{example}）"
        elif _NEGATED_CLASS.fullmatch(rules.pattern):
            # The text patterns (`^[^\x00-\x1F…]*$`): say what they forbid, not the regex.
            en = "contains a control character or another character not allowed here"
            zh = "含有控制字符等不允许的字符"
        else:
            en, zh = f"must match {rules.pattern}", f"格式不正确，须符合 {rules.pattern}"
        tests.append((_matches(match), "string.pattern", en, zh))
    if getattr(rules, "in"):
        allowed = frozenset(getattr(rules, "in"))
        listed = ", ".join(sorted(allowed))
        tests.append(
            (
                allowed.__contains__,
                "string.in",
                f"must be one of: {listed}",
                f"须为以下之一：{listed}",
            )
        )
    return tuple(tests)


def _bytes_tests(rules: Any, where: str) -> tuple[ValueTest, ...]:
    _refuse_unknown(rules, _BYTES_RULES, where)
    tests: list[ValueTest] = []
    if rules.HasField("min_len"):
        low = rules.min_len
        tests.append((_at_least(low), "bytes.min_len", f"at least {low} bytes", f"至少{low}字节"))
    if rules.HasField("max_len"):
        high = rules.max_len
        tests.append(
            (_at_most(high), "bytes.max_len", f"at most {high} bytes", f"不超过{high}字节")
        )
    return tuple(tests)


def _int_tests(kind: str, rules: Any, where: str) -> tuple[ValueTest, ...]:
    _refuse_unknown(rules, _INT_RULES, where)
    low = rules.gte if rules.HasField("gte") else None
    high = rules.lte if rules.HasField("lte") else None
    if low is not None and high is not None:
        if high < low:
            raise UnsupportedRule(f"{where}: an exclusive range (lte < gte)")
        return (
            (
                _between(low, high),
                f"{kind}.gte_lte",
                f"must be between {low} and {high}",
                f"须在{low}至{high}之间",
            ),
        )
    if low is not None:
        return ((_not_below(low), f"{kind}.gte", f"must be at least {low}", f"不得小于{low}"),)
    if high is not None:
        return ((_not_above(high), f"{kind}.lte", f"must be at most {high}", f"不得大于{high}"),)
    return ()


def python_pattern(pattern: str, where: str = "pattern") -> re.Pattern[str]:
    """The Python expression that matches exactly the texts the RE2 `pattern` matches,
    for the `^…$` patterns the contracts use (see the module's docstring)."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        raise UnsupportedRule(f"{where}: pattern {pattern!r} must be anchored as ^…$")
    inner = pattern[1:-1]
    if _top_level_alternation(inner):
        raise UnsupportedRule(f"{where}: pattern {pattern!r} has a top-level |; group it")
    for escape in ("\\s", "\\S", "\\b", "\\B", "\\A", "\\Z", "\\z", "\\u", "\\x{"):
        if escape in inner:
            raise UnsupportedRule(f"{where}: {escape} reads differently in RE2 and Python")
    return re.compile(inner, re.ASCII)


def _top_level_alternation(expression: str) -> bool:
    depth, in_class, escaped = 0, False, False
    for char in expression:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


# -- the closures a call runs ----------------------------------------------------------------


def _at_least(n: int) -> Callable[[Any], bool]:
    return lambda value: len(value) >= n


def _at_most(n: int) -> Callable[[Any], bool]:
    return lambda value: len(value) <= n


def _matches(fullmatch: Callable[[str], re.Match[str] | None]) -> Callable[[Any], bool]:
    return lambda value: fullmatch(value) is not None


def _between(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: low <= value <= high


def _not_below(low: int) -> Callable[[Any], bool]:
    return lambda value: value >= low


def _not_above(high: int) -> Callable[[Any], bool]:
    return lambda value: value <= high


def _violate(out: Out, path: str, rule: str, en: str, zh: str) -> None:
    out.append(FieldViolation(path, rule, en, zh))


def _required(out: Out, path: str) -> None:
    _violate(out, path, "required", "is required", "必填")


def _scalar_field(
    name: str, has_presence: bool, required: bool, ignore_zero: bool, tests: tuple[ValueTest, ...]
) -> FieldCheck:
    if has_presence:

        def check(message: Any, prefix: str, out: Out) -> None:
            if not message.HasField(name):
                if required:
                    _required(out, prefix + name)
                return
            value = getattr(message, name)
            for passes, rule, en, zh in tests:
                if not passes(value):
                    _violate(out, prefix + name, rule, en, zh)

        return check

    def check_implicit(message: Any, prefix: str, out: Out) -> None:
        value = getattr(message, name)
        if not value:
            if required:
                _required(out, prefix + name)
                return
            if ignore_zero:
                return
        for passes, rule, en, zh in tests:
            if not passes(value):
                _violate(out, prefix + name, rule, en, zh)

    return check_implicit


def _message_field(name: str, bounds: MessageBounds | None, required: bool) -> FieldCheck | None:
    if bounds is None and not required:
        return None
    checks = bounds.checks if bounds is not None else ()

    def check(message: Any, prefix: str, out: Out) -> None:
        if not message.HasField(name):
            if required:
                _required(out, prefix + name)
            return
        inner = getattr(message, name)
        inner_prefix = f"{prefix}{name}."
        for field_check in checks:
            field_check(inner, inner_prefix, out)

    return check


def _repeated_field(
    name: str,
    required: bool,
    ignore_zero: bool,
    count_tests: tuple[ValueTest, ...],
    item_tests: tuple[ValueTest, ...],
    item_message: MessageBounds | None,
) -> FieldCheck:
    item_checks = item_message.checks if item_message is not None else ()

    def check(message: Any, prefix: str, out: Out) -> None:
        values: Sequence[Any] = getattr(message, name)
        if not values:
            if required:
                _required(out, prefix + name)
                return
            if ignore_zero:
                return
        path = prefix + name
        for passes, rule, en, zh in count_tests:
            if not passes(values):
                _violate(out, path, rule, en, zh)
        if item_tests:
            for index, value in enumerate(values):
                for passes, rule, en, zh in item_tests:
                    if not passes(value):
                        _violate(out, f"{path}[{index}]", rule, en, zh)
        if item_checks:
            for index, item in enumerate(values):
                item_prefix = f"{path}[{index}]."
                for field_check in item_checks:
                    field_check(item, item_prefix, out)

    return check
