"""servicekit.policy: declared rules (RPC × agency × role × scope), default deny, the
public's rate limit, the rendered document and the matrix's cells."""

from __future__ import annotations

from collections import Counter

import pytest

from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.errors import PermissionDenied
from servicekit.identity import Identity, IdentityRules
from servicekit.policy import (
    SCOPE_TEXT,
    Grant,
    Policy,
    RateLimiter,
    Resource,
    Rule,
    Scope,
    holds,
    relations,
)

RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
USCC = "91350302MA2XN1KQ7B"
OTHER_USCC = "91110000600037341L"

OFFICER = Identity("property-bureau", "officer", "chengxiang")
HEAD = Identity("property-bureau", "head", "chengxiang")
OTHER_OFFICER = Identity("property-bureau", "officer", "licheng")
CITY_OFFICER = Identity("property-bureau", "officer", "putian")
COMPANY = Identity("property-company", "filer", "chengxiang", USCC)
OTHER_COMPANY = Identity("property-company", "filer", "chengxiang", OTHER_USCC)
COMMITTEE = Identity("owners-committee", "chair", "chengxiang", "CX-0001")
POLICE = Identity("police", "investigator", "chengxiang", "cx-psb")
OTHER_POLICE = Identity("police", "investigator", "chengxiang", "lc-psb")
AUDITOR = Identity("auditor", "auditor", "putian")
PUBLIC = Identity("public", "anonymous", "putian", via="putian-app")

RECORD = Resource(unit="chengxiang", company=USCC, community="CX-0001", office="cx-psb")


def policy(*rules: Rule, per_minute: int = 30) -> Policy:
    return Policy("test", list(rules), city=CITY, public_per_minute=per_minute)


def rule(*grants: Grant, rpc: str = "Get", limited: bool = False) -> Rule:
    return Rule(rpc, tuple(grants), "reads a thing", limited=limited)


def denied(call: object) -> PermissionDenied:
    assert callable(call)
    with pytest.raises(PermissionDenied) as caught:
        call()
    return caught.value


# -- admission: the row, the agency, the role -----------------------------------------------


def test_an_rpc_without_a_row_is_denied_to_everyone() -> None:
    p = policy(rule(Grant("property-bureau")))
    for identity in (OFFICER, CITY_OFFICER, AUDITOR, COMPANY):
        error = denied(lambda identity=identity: p.admit("Other", identity))
        assert "no policy row (default deny)" in error.message
        assert p.decide("Other", identity, RECORD) is None
        assert p.grants("Other", identity) == []
        denied(lambda identity=identity: p.authorize("Other", identity, RECORD))


def test_a_row_without_grants_denies_everyone() -> None:
    p = policy(rule())
    assert "no grant for this agency and role" in denied(lambda: p.admit("Get", AUDITOR)).message


def test_admit_needs_a_grant_naming_the_agency_and_role() -> None:
    p = policy(rule(Grant("property-bureau", ("officer",)), Grant("auditor")))
    assert p.admit("Get", OFFICER) == [Grant("property-bureau", ("officer",))]
    assert p.admit("Get", AUDITOR) == [Grant("auditor")]
    error = denied(lambda: p.admit("Get", HEAD))
    assert error.message == (
        "property-bureau/head of chengxiang may not call Get: no grant for this agency and role"
    )
    assert error.message_zh == "无权调用 Get"
    denied(lambda: p.admit("Get", COMPANY))


def test_an_empty_role_list_means_every_role_of_the_agency() -> None:
    p = policy(rule(Grant("property-bureau")))
    for role in AGENCIES["property-bureau"].roles:
        assert p.admit("Get", Identity("property-bureau", role, "chengxiang"))


def test_two_rules_for_one_rpc_are_refused() -> None:
    with pytest.raises(ValueError, match="test: Get declared twice"):
        policy(rule(Grant("auditor")), rule(Grant("property-bureau")))


# -- scopes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "identity", "resource", "expected"),
    [
        (Scope.ANY, OTHER_OFFICER, Resource(), True),
        (Scope.CITY, CITY_OFFICER, Resource(), True),
        (Scope.CITY, OFFICER, Resource(unit="chengxiang"), False),
        (Scope.JURISDICTION, OFFICER, RECORD, True),
        (Scope.JURISDICTION, OTHER_OFFICER, RECORD, False),
        (Scope.JURISDICTION, CITY_OFFICER, RECORD, True),
        (Scope.JURISDICTION, OFFICER, Resource(), False),
        (Scope.JURISDICTION, CITY_OFFICER, Resource(), True),
        (Scope.OWN_UNIT, OFFICER, RECORD, True),
        (Scope.OWN_UNIT, CITY_OFFICER, RECORD, False),
        (Scope.OWN_UNIT, OTHER_OFFICER, RECORD, False),
        (Scope.OWN_COMPANY, COMPANY, RECORD, True),
        (Scope.OWN_COMPANY, OTHER_COMPANY, RECORD, False),
        (Scope.OWN_COMPANY, OFFICER, Resource(unit="chengxiang"), False),  # "" is nobody's
        (Scope.OWN_COMMUNITY, COMMITTEE, RECORD, True),
        (Scope.OWN_COMMUNITY, COMMITTEE, Resource(community="CX-0002"), False),
        (Scope.OWN_COMMUNITY, OFFICER, Resource(), False),
        (Scope.REFERRED, POLICE, RECORD, True),
        (Scope.REFERRED, OTHER_POLICE, RECORD, False),
        (Scope.REFERRED, POLICE, Resource(unit="chengxiang"), False),  # not referred at all
        (Scope.PUBLISHED, PUBLIC, Resource(published=True), True),
        (Scope.PUBLISHED, PUBLIC, RECORD, False),
        (Scope.NOT_CONCERNED, OFFICER, Resource(concerns_unit="licheng"), True),
        (Scope.NOT_CONCERNED, OFFICER, Resource(concerns_unit="chengxiang"), False),
        (Scope.NOT_CONCERNED, CITY_OFFICER, Resource(concerns_unit="chengxiang"), True),
        (Scope.NOT_CONCERNED, OFFICER, Resource(), True),
    ],
)
def test_each_scope(scope: Scope, identity: Identity, resource: Resource, expected: bool) -> None:
    assert holds(scope, identity, resource, CITY) is expected
    p = policy(rule(Grant(identity.agency, scopes=(scope,))))
    assert (p.decide("Get", identity, resource) is not None) is expected
    if expected:
        assert p.authorize("Get", identity, resource) == Grant(identity.agency, scopes=(scope,))
    else:
        error = denied(lambda: p.authorize("Get", identity, resource))
        assert "the record is outside the caller's scope" in error.message


def test_every_scope_is_documented() -> None:
    assert set(SCOPE_TEXT) == set(Scope)


def test_all_scopes_of_a_grant_must_hold() -> None:
    p = policy(rule(Grant("property-company", scopes=(Scope.JURISDICTION, Scope.OWN_COMPANY))))
    assert p.decide("Get", COMPANY, RECORD)
    assert p.decide("Get", OTHER_COMPANY, RECORD) is None
    other_unit = Identity("property-company", "filer", "licheng", USCC)
    assert p.decide("Get", other_unit, RECORD) is None


def test_any_grant_may_allow() -> None:
    own = Grant("property-bureau", scopes=(Scope.OWN_UNIT,))
    city = Grant("property-bureau", ("head",), scopes=(Scope.CITY,))
    p = policy(rule(own, city))
    assert p.decide("Get", OFFICER, RECORD) == own
    assert p.decide("Get", Identity("property-bureau", "head", "putian"), RECORD) == city
    assert p.decide("Get", CITY_OFFICER, RECORD) is None


def test_the_default_scope_is_jurisdiction() -> None:
    assert Grant("property-bureau").scopes == (Scope.JURISDICTION,)


def test_the_city_is_the_policy_s() -> None:
    p = Policy("test", [rule(Grant("property-bureau", scopes=(Scope.CITY,)))], city="fuzhou")
    assert p.decide("Get", Identity("property-bureau", "officer", "fuzhou"), RECORD)
    assert p.decide("Get", CITY_OFFICER, RECORD) is None


# -- the public's rate limit ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_policy(clock: Clock, per_minute: int = 3) -> Policy:
    p = Policy(
        "test",
        [
            rule(
                Grant("public", scopes=(Scope.PUBLISHED,)), Grant("property-bureau"), limited=True
            ),
            rule(Grant("public", scopes=(Scope.PUBLISHED,)), rpc="Free"),
            rule(Grant("public", scopes=(Scope.PUBLISHED,)), rpc="List", limited=True),
        ],
        city=CITY,
        public_per_minute=per_minute,
        clock=clock,
    )
    return p


def test_the_public_is_rate_limited_per_front_end_and_rpc() -> None:
    clock = Clock()
    p = limited_policy(clock)
    for _ in range(3):
        p.admit("Get", PUBLIC)
    error = denied(lambda: p.admit("Get", PUBLIC))
    assert error.message == "Get: too many calls of the public, try again later"
    assert error.message_zh == "公众请求过于频繁，请稍后再试"
    # Another RPC, another front end: their own buckets.
    p.admit("List", PUBLIC)
    p.admit("Get", Identity("public", "anonymous", "putian", via="console"))
    # Not limited: an RPC without `limited`, and every caller but the public.
    for _ in range(10):
        p.admit("Free", PUBLIC)
        p.admit("Get", OFFICER)


def test_the_bucket_refills_with_time() -> None:
    clock = Clock()
    p = limited_policy(clock)
    for _ in range(3):
        p.admit("Get", PUBLIC)
    denied(lambda: p.admit("Get", PUBLIC))
    clock.now += 19  # 3 a minute: one every 20 s
    denied(lambda: p.admit("Get", PUBLIC))
    clock.now += 1
    p.admit("Get", PUBLIC)
    denied(lambda: p.admit("Get", PUBLIC))
    clock.now += 3600  # never more than a full bucket
    for _ in range(3):
        p.admit("Get", PUBLIC)
    denied(lambda: p.admit("Get", PUBLIC))


def test_one_call_is_one_call_however_the_application_asks() -> None:
    """The application admits, then authorizes once it knows the record: the public's
    bucket must lose one token for that call, not two."""
    clock = Clock()
    p = limited_policy(clock)
    published = Resource(unit="chengxiang", published=True)
    for _ in range(3):
        p.admit("Get", PUBLIC)
        p.authorize("Get", PUBLIC, published)
    denied(lambda: p.admit("Get", PUBLIC))
    # authorize alone (a list authorized on its filter) counts too.
    clock.now += 60
    for _ in range(3):
        p.authorize("List", PUBLIC, published)
    denied(lambda: p.authorize("List", PUBLIC, published))


def test_decide_and_grants_take_nothing_from_the_bucket() -> None:
    clock = Clock()
    p = limited_policy(clock)
    for _ in range(10):
        assert p.decide("Get", PUBLIC, Resource(published=True))
        assert p.grants("Get", PUBLIC)
    for _ in range(3):
        p.admit("Get", PUBLIC)


def test_rate_limiter_alone() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)
    assert all(limiter.take("a") for _ in range(60))
    assert not limiter.take("a")
    assert limiter.take("b")
    clock.now += 1
    assert limiter.take("a")
    assert not limiter.take("a")


# -- a record's history -------------------------------------------------------------------


def test_history_follows_the_read_rule_but_not_what_only_publication_opens() -> None:
    p = policy(
        rule(
            Grant("property-bureau"),
            Grant("property-company", scopes=(Scope.OWN_COMPANY,)),
            Grant("owners-committee", scopes=(Scope.OWN_COMMUNITY, Scope.PUBLISHED)),
            Grant("public", scopes=(Scope.PUBLISHED,)),
            limited=True,
        )
    )
    published = Resource(unit="chengxiang", company=USCC, community="CX-0001", published=True)
    assert p.decide_history("Get", OFFICER, published) == Grant("property-bureau")
    assert p.decide_history("Get", OTHER_OFFICER, published) is None
    assert p.decide_history("Get", COMPANY, published)
    assert p.decide_history("Get", OTHER_COMPANY, published) is None
    for reader in (COMMITTEE, PUBLIC):
        assert p.decide("Get", reader, published) is not None
        assert p.decide_history("Get", reader, published) is None
        assert not p.may_read_history_under("Get", reader)
    assert p.may_read_history_under("Get", OFFICER)
    assert not p.may_read_history_under("Missing", OFFICER)
    for _ in range(10):  # no rate limit taken
        p.decide_history("Get", PUBLIC, published)
    for _ in range(30):
        p.admit("Get", PUBLIC)


# -- the vocabulary check -------------------------------------------------------------------


def test_a_policy_true_to_the_vocabulary_has_no_problems() -> None:
    p = policy(
        rule(
            Grant("property-bureau", ("officer", "head")),
            Grant("property-company", scopes=(Scope.OWN_COMPANY,)),
            Grant("owners-committee", scopes=(Scope.OWN_COMMUNITY,)),
            Grant("police", scopes=(Scope.REFERRED,)),
            Grant("public", scopes=(Scope.PUBLISHED,)),
            limited=True,
        ),
    )
    assert p.problems(RULES) == []


def test_problems_name_what_the_vocabulary_does_not_allow() -> None:
    p = policy(
        rule(
            Grant("drc"),
            Grant("property-bureau", ("filer",)),
            Grant("property-bureau", scopes=(Scope.OWN_COMPANY,)),
            Grant("township", scopes=(Scope.REFERRED,)),
            Grant("police", scopes=(Scope.OWN_COMMUNITY,)),
            Grant("console"),
            limited=True,
        ),
        Rule("Empty", (Grant("auditor"),), " "),
    )
    assert p.problems(RULES) == [
        "Empty: no `what` says why",
        "Get: unknown agency 'drc'",
        "Get: property-bureau has no role 'filer'",
        "Get: own_company needs property-bureau to have a uscc subject, not person",
        "Get: referred needs township to have a police_office subject, not person",
        "Get: own_community needs police to have a community subject, not police_office",
        "Get: console is a front end: it acts for people and is authorized for nothing",
        "Get: rate-limited but the public has no grant",
    ]


# -- the document ---------------------------------------------------------------------------


def test_render_markdown() -> None:
    p = Policy(
        "disclosure",
        [
            Rule(
                "ListThings",
                (
                    Grant("public", scopes=(Scope.PUBLISHED,)),
                    Grant("property-bureau", ("officer", "head"), (Scope.JURISDICTION,)),
                ),
                "lists things | published ones for the public",
                limited=True,
            ),
            Rule("Nobody", (), "kept for later"),
            Rule(
                "CloseThing",
                (Grant("property-bureau", (), (Scope.OWN_UNIT, Scope.NOT_CONCERNED)),),
                "closes a thing",
            ),
        ],
        city=CITY,
    )
    assert (
        p.render_markdown()
        == "\n".join(
            [
                "## disclosure",
                "",
                "| RPC | who | scope | what |",
                "|---|---|---|---|",
                "| CloseThing | property-bureau (all roles) | record of caller's own unit only and "
                "not about caller's own unit's conduct | closes a thing |",
                "| ListThings | public (all roles) (rate-limited) | published record | "
                "lists things \\| published ones for the public |",
                "|  | property-bureau (officer, head) | record of caller's unit "
                "(the city: all) |  |",
                "| Nobody | nobody | — | kept for later |",
            ]
        )
        + "\n"
    )


# -- the matrix's cells ---------------------------------------------------------------------

OTHER = {
    "uscc": OTHER_USCC,
    "police_office": "putian-psb-other",
    "community": "ZZ-9999",
    "frontend": "some-frontend",
    "person": "someone",
}


def test_relations_enumerate_every_identity_in_every_relation() -> None:
    cells = list(relations(RULES, RECORD, "licheng", OTHER))
    per_agency = Counter(c.identity.agency for c in cells)
    assert per_agency == {
        "property-bureau": 3 * 3,
        "township": 2 * 3,
        "discipline": 3,
        "credit-office": 3,
        "market-regulation": 3,
        "police": 2 * 3 * 2,
        "property-company": 2 * 3 * 2,
        "owners-committee": 2 * 3 * 2,
        "owners": 3 * 2,
        "auditor": 1,
        "operator": 2,
        "provincial-system": 1,
        "console": 1,
        "public": 1,
    }
    assert len(cells) == 72
    assert len({(c.identity, c.relation) for c in cells}) == 72
    for cell in cells:
        assert RULES.check(cell.identity) is cell.identity  # every one valid


def test_relation_labels() -> None:
    labels = {(c.identity.render(), c.relation) for c in relations(RULES, RECORD, "licheng", OTHER)}
    assert ("agency=property-bureau;role=officer;unit=chengxiang", "same unit") in labels
    assert ("agency=property-bureau;role=officer;unit=licheng", "other unit") in labels
    assert ("agency=property-bureau;role=officer;unit=putian", "city") in labels
    assert (
        f"agency=property-company;role=filer;unit=licheng;subject={USCC}",
        "other unit, own uscc",
    ) in labels
    assert (
        f"agency=property-company;role=filer;unit=chengxiang;subject={OTHER_USCC}",
        "same unit, other uscc",
    ) in labels
    assert (
        "agency=police;role=officer;unit=putian;subject=cx-psb",
        "city, own police_office",
    ) in labels
    assert (
        "agency=owners;role=representative;unit=chengxiang;subject=ZZ-9999",
        "same unit, other community",
    ) in labels
    assert ("agency=auditor;role=auditor;unit=putian", "city") in labels
    assert ("agency=console;role=frontend;unit=putian;subject=some-frontend", "city") in labels
    assert ("agency=public;role=anonymous;unit=putian", "city") in labels


def test_a_record_without_a_subject_has_no_own_cells() -> None:
    cells = list(relations(RULES, Resource(unit="chengxiang"), "licheng", OTHER))
    assert not [c for c in cells if "own " in c.relation]
    assert Counter(c.identity.agency for c in cells)["police"] == 2 * 3
    assert len(cells) == 72 - 6 - 6 - 6 - 3


def test_relations_may_be_limited_to_some_agencies() -> None:
    cells = list(relations(RULES, RECORD, "licheng", OTHER, agencies=["auditor", "police"]))
    assert {c.identity.agency for c in cells} == {"auditor", "police"}
    assert len(cells) == 1 + 12


@pytest.mark.parametrize(
    ("record", "other_unit", "other", "says"),
    [
        (RECORD, "chengxiang", OTHER, "other unit"),
        (RECORD, "putian", OTHER, "other unit"),
        (Resource(unit="putian"), "licheng", OTHER, "a county-level unit"),
        (Resource(), "licheng", OTHER, "a county-level unit"),
        (RECORD, "licheng", {**OTHER, "uscc": USCC}, "other uscc"),
        (RECORD, "licheng", {**OTHER, "community": "CX-0001"}, "other community"),
    ],
)
def test_relations_refuse_a_scenario_that_would_blur_the_relations(
    record: Resource, other_unit: str, other: dict[str, str], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        list(relations(RULES, record, other_unit, other))
