"""servicekit.identity: parsing the caller's identity and the city/county rule."""

from __future__ import annotations

import pytest

from servicekit.errors import Unauthenticated
from servicekit.identity import (
    CITY_UNIT,
    Identity,
    bind_identity,
    current_identity,
    reset_identity,
)


def test_parse_reads_all_parts() -> None:
    identity = Identity.parse("agency=property-bureau; role=officer ;unit=chengxiang;subject=u1")
    assert identity == Identity("property-bureau", "officer", "chengxiang", "u1")


def test_parse_without_subject() -> None:
    assert Identity.parse("agency=police;role=officer;unit=xianyou").subject == ""


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("", ["agency", "role", "unit"]),
        ("role=officer;unit=chengxiang", ["agency"]),
        ("agency=police;unit=chengxiang", ["role"]),
        ("agency=police;role=officer", ["unit"]),
        ("agency=police;role=;unit=chengxiang", ["role"]),
        ("agency police;role=officer;unit=chengxiang", ["agency"]),
    ],
)
def test_missing_parts_are_unauthenticated(text: str, missing: list[str]) -> None:
    with pytest.raises(Unauthenticated) as caught:
        Identity.parse(text)
    assert caught.value.message == f"identity lacks {', '.join(missing)}"
    assert "身份信息缺少" in caught.value.message_zh


@pytest.mark.parametrize(
    "identity",
    [
        Identity("property-bureau", "officer", "chengxiang"),
        Identity("property-company", "filer", "licheng", "91350200776049653A"),
    ],
)
def test_render_round_trip(identity: Identity) -> None:
    assert Identity.parse(identity.render()) == identity


def test_render_omits_empty_subject() -> None:
    assert Identity("a", "r", "u").render() == "agency=a;role=r;unit=u"


def test_city_may_access_every_unit() -> None:
    city = Identity("property-bureau", "officer", CITY_UNIT)
    assert city.is_city
    assert city.may_access_unit("chengxiang")
    assert city.may_access_unit("xianyou")


def test_county_may_access_only_its_own_unit() -> None:
    county = Identity("property-bureau", "officer", "chengxiang")
    assert not county.is_city
    assert county.may_access_unit("chengxiang")
    assert not county.may_access_unit("xianyou")
    assert not county.may_access_unit(CITY_UNIT)


def test_current_identity_is_bound_per_call() -> None:
    with pytest.raises(Unauthenticated):
        current_identity()
    identity = Identity("police", "officer", "hanjiang")
    token = bind_identity(identity)
    try:
        assert current_identity() is identity
    finally:
        reset_identity(token)
    with pytest.raises(Unauthenticated):
        current_identity()
