"""What inspection knows about a community from its disclosures (input to spot-check pools:
late, zero-revenue and inconsistent filings are priorities)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from pubrev_contracts.vocabulary.calendar import quarter_label

NAMESPACE = uuid.UUID("b5b0a4c4-6a0e-4d1b-9b0e-3c2b7d7e9a21")


@dataclass(frozen=True)
class NotedDisclosure:
    disclosure_id: str
    community_code: str
    unit: str
    year: int
    quarter: int
    revision: int
    income_total_fen: int
    surplus_fen: int
    late: bool
    zero_revenue: bool


class CommunityWatch(Aggregate):
    """Inspection's file on one community (小区监管档案)."""

    class Opened(Aggregate.Created):
        community_code: str
        unit: str

    @event(Opened)
    def __init__(self, community_code: str, unit: str) -> None:
        self.community_code = community_code
        self.unit = unit
        self.latest: NotedDisclosure | None = None
        self.disclosures_noted = 0
        self.company_uscc = ""
        self.township = ""
        """The township (镇（街道）) the community is registered in ("" : not told)."""
        self.registered = False
        self.overdue_quarters: list[str] = []
        self.leads = 0
        self.handed_down = False
        self.major_petition = False

    @staticmethod
    def create_id(community_code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"watch:{community_code}")

    @property
    def zero_revenue(self) -> bool:
        """The latest disclosure declared no revenue (a priority for spot checks)."""
        return self.latest is not None and self.latest.zero_revenue

    class RegistrationNoted(Aggregate.Event):
        class_version = 2
        company_uscc: str
        township: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["township"] = ""  # registrations noted before the township was kept

    def note_registration(self, company_uscc: str, township: str = "") -> None:
        self._registration(company_uscc=company_uscc, township=township)

    @event(RegistrationNoted)
    def _registration(self, company_uscc: str, township: str) -> None:
        self.registered = True
        self.company_uscc = company_uscc
        self.township = township

    class CompanyNoted(Aggregate.Event):
        company_uscc: str

    def note_company(self, company_uscc: str) -> None:
        self._company(company_uscc=company_uscc)

    @event(CompanyNoted)
    def _company(self, company_uscc: str) -> None:
        self.company_uscc = company_uscc

    class OverdueNoted(Aggregate.Event):
        year: int
        quarter: int

    def note_overdue(self, year: int, quarter: int) -> None:
        self._overdue(year=year, quarter=quarter)

    @event(OverdueNoted)
    def _overdue(self, year: int, quarter: int) -> None:
        self.overdue_quarters.append(quarter_label(year, quarter))

    class LeadNoted(Aggregate.Event):
        channel: str
        major: bool
        category: str

    def note_lead(self, channel: str, major: bool, category: str) -> None:
        """A complaint about the community (线索): a priority for spot checks."""
        self._lead(channel=channel, major=major, category=category)

    @event(LeadNoted)
    def _lead(self, channel: str, major: bool, category: str) -> None:
        self.leads += 1
        self.handed_down = self.handed_down or channel == "handed_down"
        self.major_petition = self.major_petition or major

    def note_disclosure(self, d: NotedDisclosure, company_uscc: str = "") -> None:
        """A filing or an amendment of the community's disclosure; the company that filed it
        is noted too when inspection did not know the community's company yet."""
        if company_uscc and not self.company_uscc:
            self.note_company(company_uscc)
        self.note(d)

    def note(self, d: NotedDisclosure) -> None:
        self._noted(
            disclosure_id=d.disclosure_id,
            year=d.year,
            quarter=d.quarter,
            revision=d.revision,
            income_total_fen=d.income_total_fen,
            surplus_fen=d.surplus_fen,
            late=d.late,
            zero_revenue=d.zero_revenue,
        )

    class DisclosureNoted(Aggregate.Event):
        disclosure_id: str
        year: int
        quarter: int
        revision: int
        income_total_fen: int
        surplus_fen: int
        late: bool
        zero_revenue: bool

    @event(DisclosureNoted)
    def _noted(
        self,
        disclosure_id: str,
        year: int,
        quarter: int,
        revision: int,
        income_total_fen: int,
        surplus_fen: int,
        late: bool,
        zero_revenue: bool,
    ) -> None:
        self.disclosures_noted += 1
        current = self.latest
        if current is None or (year, quarter, revision) >= (
            current.year,
            current.quarter,
            current.revision,
        ):
            # A newer quarter, or an amendment of the latest one, replaces what we show;
            # an older quarter, or an older revision of the latest one (re-driven after the
            # newer one was applied), arriving late is kept in the history only.
            self.latest = NotedDisclosure(
                disclosure_id=disclosure_id,
                community_code=self.community_code,
                unit=self.unit,
                year=year,
                quarter=quarter,
                revision=revision,
                income_total_fen=income_total_fen,
                surplus_fen=surplus_fen,
                late=late,
                zero_revenue=zero_revenue,
            )


# Watches were stored under inspection.domain.watch until issue 12 named each aggregate's
# module after it: their stored topics keep resolving here (ADR 0014). Never remove a line
# while such events are stored.
register_topic("inspection.domain.watch:CommunityWatch", CommunityWatch)
register_topic("inspection.domain.watch:CommunityWatch.Opened", CommunityWatch.Opened)
register_topic(
    "inspection.domain.watch:CommunityWatch.RegistrationNoted", CommunityWatch.RegistrationNoted
)
register_topic("inspection.domain.watch:CommunityWatch.CompanyNoted", CommunityWatch.CompanyNoted)
register_topic("inspection.domain.watch:CommunityWatch.OverdueNoted", CommunityWatch.OverdueNoted)
register_topic("inspection.domain.watch:CommunityWatch.LeadNoted", CommunityWatch.LeadNoted)
register_topic(
    "inspection.domain.watch:CommunityWatch.DisclosureNoted", CommunityWatch.DisclosureNoted
)
