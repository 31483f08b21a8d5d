"""servicekit.identity: the strict identity parser (IdentityRules) over the published
vocabulary (pubrev_contracts.vocabulary.agencies), and the identity bound to a call."""

from __future__ import annotations

import pytest

from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS, Agency
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.errors import Unauthenticated
from servicekit.identity import (
    MAX_IDENTITY_LENGTH,
    Identity,
    IdentityRules,
    bind_identity,
    current_identity,
    reset_identity,
)

RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
USCC = "91350302MA2XN1KQ7B"
OFFICER = "agency=property-bureau;role=officer;unit=chengxiang"


def refusal(text: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        RULES.parse(text)
    return caught.value


# -- what is accepted -----------------------------------------------------------------------


def test_parse_reads_every_part() -> None:
    identity = RULES.parse(f"agency=property-company;role=filer;unit=chengxiang;subject={USCC}")
    assert identity == Identity("property-company", "filer", "chengxiang", USCC)
    assert identity.via == ""


def test_parse_without_subject_where_none_is_required() -> None:
    assert RULES.parse(OFFICER) == Identity("property-bureau", "officer", "chengxiang")


def test_keys_may_come_in_any_order() -> None:
    assert RULES.parse("unit=chengxiang;role=officer;agency=property-bureau") == RULES.parse(
        OFFICER
    )


@pytest.mark.parametrize(
    ("agency", "subject"),
    [
        ("police", "putian-psb-chengxiang"),
        ("property-company", USCC),
        ("owners-committee", "CX-0001"),
        ("owners", "CX-0001"),
        ("property-bureau", "张三 (工号 0012)"),  # a person's name, for the audit trail only
    ],
)
def test_a_subject_of_the_agency_s_kind_is_accepted(agency: str, subject: str) -> None:
    role = next(iter(AGENCIES[agency].roles))
    text = f"agency={agency};role={role};unit=chengxiang;subject={subject}"
    assert RULES.parse(text).subject == subject


@pytest.mark.parametrize("agency", ["auditor", "operator", "public"])
def test_city_only_agencies_exist_at_the_city(agency: str) -> None:
    role = next(iter(AGENCIES[agency].roles))
    identity = RULES.parse(f"agency={agency};role={role};unit=putian")
    assert identity.unit == CITY


def test_render_round_trips_every_agency_and_role() -> None:
    subjects = {
        "uscc": USCC,
        "police_office": "putian-psb",
        "community": "CX-0001",
        "frontend": "putian-app",
        "person": "",
    }
    seen = 0
    for name, agency in AGENCIES.items():
        unit = CITY if agency.city_only else "hanjiang"
        for role in agency.roles:
            identity = Identity(name, role, unit, subjects[agency.subject])
            assert RULES.parse(identity.render()) == identity
            assert RULES.check(identity) is identity
            seen += 1
    assert seen == sum(len(a.roles) for a in AGENCIES.values()) >= len(Agency)


def test_render_omits_an_empty_subject() -> None:
    assert Identity("a", "r", "u").render() == "agency=a;role=r;unit=u"


# -- every refusal --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "identity part '' is not one of agency=…, role=…, unit=…, subject=…"),
        (f"{OFFICER};", "identity part '' is not one of"),
        (f"{OFFICER};name=zhang", "identity part 'name=zhang' is not one of"),
        (f"{OFFICER};Subject=zhang", "identity part 'Subject=zhang' is not one of"),
        ("agency property-bureau;role=officer;unit=chengxiang", "identity part 'agency property-"),
        (f"{OFFICER};subject", "identity part 'subject' is not one of"),
    ],
)
def test_unknown_or_malformed_keys_are_refused(text: str, says: str) -> None:
    error = refusal(text)
    assert says in error.message
    assert error.message_zh == "身份信息格式错误"


@pytest.mark.parametrize("key", ["agency", "role", "unit", "subject"])
def test_a_repeated_key_is_refused(key: str) -> None:
    text = f"{OFFICER};subject=zhang;{key}=x"
    error = refusal(text)
    assert error.message == f"identity names {key} twice"
    assert key in error.message_zh


@pytest.mark.parametrize(
    "text",
    [
        "agency=property-bureau; role=officer;unit=chengxiang",
        "agency=property-bureau;role=officer ;unit=chengxiang",
        " agency=property-bureau;role=officer;unit=chengxiang",
        "agency= property-bureau;role=officer;unit=chengxiang",
        f"{OFFICER}\n",
        f"{OFFICER};subject= zhang",
        f"{OFFICER};subject=zhang ",
        f"{OFFICER};subject=zhang\tsan",
        f"{OFFICER};subject=zhang\nsan",
        f"{OFFICER};subject=zhang\x00",
        f"{OFFICER};subject=zhang\u2028san",
    ],
)
def test_whitespace_around_values_and_control_characters_are_refused(text: str) -> None:
    refusal(text)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("role=officer;unit=chengxiang", "agency"),
        ("agency=property-bureau;unit=chengxiang", "role"),
        ("agency=property-bureau;role=officer", "unit"),
        ("agency=property-bureau;role=;unit=chengxiang", "role"),
        ("agency=;role=;unit=", "agency, role, unit"),
    ],
)
def test_missing_parts_are_refused(text: str, missing: str) -> None:
    error = refusal(text)
    assert error.message == f"identity lacks {missing}"
    assert "身份信息缺少" in error.message_zh


def test_an_empty_subject_is_refused_not_taken_for_none() -> None:
    assert "subject" in refusal(f"{OFFICER};subject=").message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("agency=drc;role=officer;unit=chengxiang", "unknown agency 'drc'"),
        ("agency=market;role=officer;unit=chengxiang", "unknown agency 'market'"),
        ("agency=Property-Bureau;role=officer;unit=chengxiang", "unknown agency"),
        ("agency=property-bureau;role=filer;unit=chengxiang", "has no role 'filer'"),
        ("agency=property-bureau;role=officer;unit=fuzhou", "unknown unit 'fuzhou'"),
        ("agency=property-bureau;role=officer;unit=Chengxiang", "unknown unit"),
    ],
)
def test_unknown_agency_role_or_unit_is_refused(text: str, says: str) -> None:
    assert says in refusal(text).message


def test_the_unknown_role_message_names_the_agency_s_roles() -> None:
    error = refusal("agency=police;role=officerx;unit=chengxiang;subject=putian-psb")
    assert "(roles: investigator, officer)" in error.message


@pytest.mark.parametrize(
    "agency", ["auditor", "operator", "public", "provincial-system", "console"]
)
def test_a_city_only_agency_at_a_county_is_refused(agency: str) -> None:
    role = next(iter(AGENCIES[agency].roles))
    subject = ";subject=putian-app" if AGENCIES[agency].subject_required else ""
    assert RULES.parse(f"agency={agency};role={role};unit=putian{subject}")
    error = refusal(f"agency={agency};role={role};unit=licheng{subject}")
    assert error.message == f"{agency} exists at the city level only (unit=putian)"
    assert error.message_zh == "该机构类型仅限市级"


@pytest.mark.parametrize(
    ("agency", "role", "kind"),
    [
        ("police", "investigator", "police_office"),
        ("property-company", "filer", "uscc"),
        ("owners-committee", "chair", "community"),
        ("owners", "representative", "community"),
    ],
)
def test_subject_required_where_scope_depends_on_it(agency: str, role: str, kind: str) -> None:
    error = refusal(f"agency={agency};role={role};unit=chengxiang")
    assert error.message == f"{agency} needs subject=<{kind}>"


def test_a_front_end_needs_its_name() -> None:
    assert refusal("agency=console;role=frontend;unit=putian").message == (
        "console needs subject=<frontend>"
    )


@pytest.mark.parametrize(
    ("agency", "role", "subject"),
    [
        ("property-company", "filer", "91350302MA2XN1KQ7"),  # 17 characters
        ("property-company", "filer", "91350302MA2XN1KQ7BB"),  # 19
        ("property-company", "filer", "91350302ma2xn1kq7b"),  # lower case
        ("property-company", "filer", "91350302MA2XN1KQ7I"),  # I is not in GB 32100
        ("property-company", "filer", "91350302MA2XN1KQ7O"),  # nor O
        ("police", "officer", "Putian-PSB"),  # upper case
        ("police", "officer", "-putian"),
        ("police", "officer", "p" * 65),
        ("owners-committee", "chair", "CX_0001"),
        ("owners-committee", "chair", "C" * 41),  # community codes: 2–40 characters
        ("owners", "representative", "C"),
        ("console", "frontend", "Console"),
        ("property-bureau", "officer", "z" * 65),  # a person: 64 at most
    ],
)
def test_a_subject_not_of_the_agency_s_kind_is_refused(
    agency: str, role: str, subject: str
) -> None:
    unit = "putian" if AGENCIES[agency].city_only else "chengxiang"
    error = refusal(f"agency={agency};role={role};unit={unit};subject={subject}")
    assert error.message.startswith("subject ")
    assert f"is not a {AGENCIES[agency].subject}" in error.message


def test_a_company_s_uscc_is_not_a_police_office() -> None:
    refusal(f"agency=police;role=officer;unit=chengxiang;subject={USCC}")


def test_an_overlong_identity_is_refused_before_parsing() -> None:
    text = OFFICER + ";subject=" + "z" * MAX_IDENTITY_LENGTH
    error = refusal(text)
    assert error.message == f"identity longer than {MAX_IDENTITY_LENGTH} characters"


@pytest.mark.parametrize(
    "text",
    [
        "agency=" + "x" * 400 + ";role=officer;unit=chengxiang",
        "agency=property-bureau;role=" + "x" * 400 + ";unit=chengxiang",
        "agency=property-bureau;role=officer;unit=" + "x" * 400,
        OFFICER + ";subject=" + "x" * 400,
        "nonsense" + "x" * 400,
        "agency=police;role=officer;unit=chengxiang;subject=" + "X" * 400,
    ],
)
def test_errors_echo_no_more_than_a_short_prefix(text: str) -> None:
    error = refusal(text)
    assert "x" * 33 not in error.message and "X" * 33 not in error.message
    assert "x" * 33 not in error.message_zh and "X" * 33 not in error.message_zh
    assert len(error.message) < 200


def test_check_applies_the_same_rules_to_a_built_identity() -> None:
    with pytest.raises(Unauthenticated):
        RULES.check(Identity("police", "officer", "chengxiang"))
    with pytest.raises(Unauthenticated):
        RULES.check(Identity("property-bureau", "officer", "chengxiang", "zhang "))
    with pytest.raises(Unauthenticated):
        RULES.check(Identity("auditor", "auditor", "hanjiang"))


# -- front ends -----------------------------------------------------------------------------


def test_front_ends_and_whom_they_may_assert() -> None:
    provincial = RULES.parse("agency=provincial-system;role=frontend;unit=putian;subject=app")
    console = RULES.parse("agency=console;role=frontend;unit=putian;subject=console")
    company = RULES.parse(f"agency=property-company;role=filer;unit=chengxiang;subject={USCC}")
    officer = RULES.parse(OFFICER)
    public = RULES.parse("agency=public;role=anonymous;unit=putian")
    auditor = RULES.parse("agency=auditor;role=auditor;unit=putian")
    assert RULES.is_frontend(provincial) and RULES.is_frontend(console)
    assert not RULES.is_frontend(officer) and not RULES.is_frontend(company)
    assert RULES.may_assert(provincial, company) and RULES.may_assert(provincial, public)
    assert not RULES.may_assert(provincial, officer)
    assert RULES.may_assert(console, officer) and RULES.may_assert(console, public)
    assert not RULES.may_assert(console, auditor)
    assert not RULES.may_assert(console, provincial)
    assert not RULES.may_assert(console, console)
    assert not RULES.may_assert(officer, public)  # not a front end at all


# -- the bound identity ---------------------------------------------------------------------


def test_via_does_not_change_who_the_identity_is() -> None:
    person = Identity("owners", "representative", "chengxiang", "CX-0001")
    assert Identity("owners", "representative", "chengxiang", "CX-0001", via="app") == person


def test_current_identity_is_bound_per_call() -> None:
    with pytest.raises(Unauthenticated):
        current_identity()
    identity = Identity("police", "officer", "hanjiang", "putian-psb")
    token = bind_identity(identity)
    try:
        assert current_identity() is identity
    finally:
        reset_identity(token)
    with pytest.raises(Unauthenticated):
        current_identity()
