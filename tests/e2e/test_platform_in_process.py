"""The in-process platform (tests/support/platform.py) carries events as Kafka would: a
filing registered and filed in disclosure reaches inspection's community watch and
casework's facts through the relay translations and the consumers' own reading rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from disclosure.application.commands import FileDisclosure, RegisterCommunity, RegisterCompany
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.disclosure.tests.support.scenario import COMPANY, content
from tests.support.platform import InProcessPlatform

pytestmark = pytest.mark.infra

CITY = Identity("property-bureau", "officer", "putian")
OFFICER = Identity("property-bureau", "officer", "licheng")


@pytest.fixture
def platform(service_settings):
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    built = InProcessPlatform(service_settings, clock)
    yield built
    built.close()


def test_a_filing_travels_from_disclosure_to_inspection_and_casework(platform) -> None:
    platform.handle("disclosure", CITY, RegisterCompany("c1", COMPANY, "荔园物业", ""))
    platform.handle(
        "disclosure",
        OFFICER,
        RegisterCommunity(
            "r1",
            "LC-0001",
            "荔园小区",
            "荔城区荔园路8号",
            "licheng",
            "350304",
            "镇海街道",
            COMPANY,
            "荔园物业",
            True,
            6,
            2,
            True,
            480,
        ),
    )
    platform.clock.now = datetime(2026, 4, 10, 9, 0, tzinfo=SHANGHAI)
    platform.handle("disclosure", OFFICER, FileDisclosure("f1", "LC-0001", 2026, 1, content()))
    assert platform.delivered.problems == []
    assert platform.delivered.published["disclosure"] == [
        "pubrev.disclosure.PropertyCompanyRegistered.v1",
        "pubrev.disclosure.CommunityRegistered.v1",
        "pubrev.disclosure.DisclosureFiled.v1",
    ]
    # inspection's watch and casework's facts each applied the registration and the filing
    assert platform.delivered.applied >= 4
    assert platform.settle() == 0  # nothing left to carry: settled
