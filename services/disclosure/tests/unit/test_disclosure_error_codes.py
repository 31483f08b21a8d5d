"""Every refusal of the disclosure service is asserted by a unit test: each field-error code
(the `rule` of a FieldViolation) its source can raise appears, quoted, in a unit test, and
every RuleViolated it raises is named below with the test that meets it.

The codes are read from the source (domain/ and application/), so a new code without a
test fails here rather than going unnoticed."""

from __future__ import annotations

import ast
import contextlib
import importlib
from pathlib import Path

import disclosure

SOURCE = Path(disclosure.__file__).parent
UNIT_TESTS = Path(__file__).parent
# Where the rule sits among a call's positional arguments.
RULE_ARGUMENT = {"require": 2, "add": 1, "bad": 1, "FieldViolation": 1}
# Codes a servicekit Validator helper adds (servicekit.errors.Validator).
HELPERS = {
    "require_request_id": {"required"},
    "require_text": {"required", "too_long", "control_character"},
}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def raised_codes() -> dict[str, set[str]]:
    """Field-error code → the modules that can raise it."""
    found: dict[str, set[str]] = {}
    for path in sorted([*SOURCE.glob("domain/*.py"), *SOURCE.glob("application/*.py")]):
        module_name = "disclosure." + ".".join(path.relative_to(SOURCE).with_suffix("").parts)
        module = importlib.import_module(module_name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            codes = set(HELPERS.get(name, set()))
            position = RULE_ARGUMENT.get(name)
            if position is not None and len(node.args) > position:
                rule = ast.Expression(node.args[position])
                # A literal, or a name of the vocabulary (identifiers.RULE, USCC_RULE, ...);
                # a local name is a helper passing its caller's code on (`bad`).
                with contextlib.suppress(NameError):
                    codes.add(eval(compile(rule, str(path), "eval"), vars(module)))  # noqa: S307
            for code in codes:
                found.setdefault(code, set()).add(module_name)
    return found


def test_the_source_raises_the_codes_this_test_knows_of() -> None:
    """A sanity check of the reading above: the codes of the README's refusals are found."""
    codes = raised_codes()
    for code in ("uscc_check", "quarter_not_over", "contact_number_format", "unknown_requester"):
        assert code in codes, code
    assert len(codes) >= 30


def test_every_field_error_code_is_asserted_by_a_unit_test() -> None:
    tests = "\n".join(
        p.read_text(encoding="utf-8") for p in UNIT_TESTS.glob("test_*.py") if p != Path(__file__)
    )
    missing = {code: sorted(where) for code, where in raised_codes().items()}
    missing = {code: where for code, where in missing.items() if f'"{code}"' not in tests}
    assert missing == {}


RULE_VIOLATIONS = {
    # raise site (module: words of its message) → the test asserting it
    "domain.community: is already managed by": (
        "test_disclosure_domain.py::test_a_handover_to_the_company_in_charge_is_refused"
    ),
    "domain.community: the deadline of": (
        "test_disclosure_domain.py::test_a_quarter_is_overdue_only_after_its_deadline_and_only_once"
    ),
    "domain.disclosure: households is under 20%": (
        "test_disclosure_domain.py::test_owners_need_a_fifth_of_the_households_and_the_committee_none"
    ),
    "domain.disclosure: no audit was requested of this disclosure": (
        "test_disclosure_audit_result.py::test_no_result_without_a_request"
    ),
    "domain.disclosure: has its result already": (
        "test_disclosure_audit_result.py::test_one_result_per_request_in_the_order_asked"
    ),
    "domain.self_inspection_ledger: was recorded rectified on": (
        "test_disclosure_self_inspection.py::"
        "test_a_problem_rectified_is_recorded_once_with_whether_it_kept_its_deadline"
    ),
    "application.handlers: is not registered; register it first": (
        "test_disclosure_app.py::test_a_community_of_an_unregistered_company_is_refused"
    ),
}


def test_every_rule_violated_is_named_with_its_test() -> None:
    raised: list[str] = []
    for path in sorted([*SOURCE.glob("domain/*.py"), *SOURCE.glob("application/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and _name(node.exc) == "RuleViolated"
            ):
                module = ".".join(path.relative_to(SOURCE).with_suffix("").parts)
                raised.append(f"{module}: {ast.unparse(node.exc.args[0])}")
    named = dict.fromkeys(RULE_VIOLATIONS, 0)
    for site in raised:
        keys = [k for k in RULE_VIOLATIONS if site.startswith(k.split(":")[0] + ":")]
        matched = [k for k in keys if k.split(": ", 1)[1] in site]
        assert len(matched) == 1, site
        named[matched[0]] += 1
    assert all(named.values()), named
    for test in RULE_VIOLATIONS.values():
        file, name = test.split("::")
        assert f"def {name}(" in (UNIT_TESTS / file).read_text(encoding="utf-8"), test
