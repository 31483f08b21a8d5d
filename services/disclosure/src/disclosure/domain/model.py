"""Aggregates of the disclosure service: Community (小区) and Disclosure (季度公示).

Event class names are stored with every event: renaming one is a data migration.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from disclosure.domain.content import DisclosureContent
from pubrev_contracts.vocabulary.calendar import Quarter
from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31")
AUDIT_OWNER_SHARE = (1, 5)
"""Owners holding at least 1/5 (20%) of households may ask for a third-party audit."""


class PropertyCompany(Aggregate):
    """A property service company (物业服务企业), known by its 统一社会信用代码."""

    class Registered(Aggregate.Created):
        uscc: str
        name: str
        source: str
        uscc_flagged: bool

    @event(Registered)
    def __init__(self, uscc: str, name: str, source: str, uscc_flagged: bool) -> None:
        self.uscc = uscc
        self.name = name
        self.source = source
        self.uscc_flagged = uscc_flagged

    @staticmethod
    def create_id(uscc: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"company:{uscc}")


class Community(Aggregate):
    """A residential community under one supervising unit, managed by one property company."""

    class Registered(Aggregate.Created):
        code: str
        name: str
        address: str
        unit: str
        division_code: str
        township: str
        company_uscc: str
        company_name: str
        signboard_at_main_entrance: bool
        elevator_count: int
        barrier_gate_count: int
        has_leasable_space: bool
        household_count: int
        registered_at: datetime

    @event(Registered)
    def __init__(
        self,
        code: str,
        name: str,
        address: str,
        unit: str,
        division_code: str,
        township: str,
        company_uscc: str,
        company_name: str,
        signboard_at_main_entrance: bool,
        elevator_count: int,
        barrier_gate_count: int,
        has_leasable_space: bool,
        household_count: int,
        registered_at: datetime,
    ) -> None:
        self.code = code
        self.name = name
        self.address = address
        self.unit = unit
        self.division_code = division_code
        self.township = township
        self.company_uscc = company_uscc
        self.company_name = company_name
        self.signboard_at_main_entrance = signboard_at_main_entrance
        self.elevator_count = elevator_count
        self.barrier_gate_count = barrier_gate_count
        self.has_leasable_space = has_leasable_space
        self.household_count = household_count
        self.registered_at = registered_at

        self.overdue_quarters: list[str] = []
        self.companies: list[tuple[str, str]] = [(company_uscc, "")]
        """Every company that managed the community, with the date it took over."""

    @staticmethod
    def create_id(code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"community:{code}")

    class CompanyChanged(Aggregate.Event):
        unit: str
        code: str
        previous_uscc: str
        new_uscc: str
        new_company_name: str
        effective_date: str
        reason: str

    def change_company(
        self, new_uscc: str, new_company_name: str, effective_date: str, reason: str
    ) -> None:
        if new_uscc == self.company_uscc:
            raise RuleViolated(
                f"community {self.code} is already managed by {new_uscc}",
                f"小区 {self.code} 已由该企业服务",
            )
        self._company_changed(
            unit=self.unit,
            code=self.code,
            previous_uscc=self.company_uscc,
            new_uscc=new_uscc,
            new_company_name=new_company_name,
            effective_date=effective_date,
            reason=reason,
        )

    @event(CompanyChanged)
    def _company_changed(
        self,
        unit: str,
        code: str,
        previous_uscc: str,
        new_uscc: str,
        new_company_name: str,
        effective_date: str,
        reason: str,
    ) -> None:
        self.company_uscc = new_uscc
        self.company_name = new_company_name
        self.companies.append((new_uscc, effective_date))

    class DisclosureOverdue(Aggregate.Event):
        unit: str
        code: str
        company_uscc: str
        year: int
        quarter: int

    def company_for(self, period: Quarter) -> str:
        """The company whose duty the quarter's disclosure is: the one in charge on the
        quarter's last day (a handover takes effect at 00:00 of its effective date). The
        disclosure reports that quarter's revenue and its use (《民法典》第九百四十三条;
        DOMAIN.md §3: the quarterly disclosure of one community), so it stays the duty, and
        the right, of the company that managed the quarter to its end, even after a later
        handover; the incoming company files the quarters it ends in charge of."""
        last_day = period.last_day.isoformat()
        # ISO dates order as text; the registered company's "" precedes every date. The
        # latest handover in effect wins, a later record of the same date over an earlier.
        in_effect = [
            (effective, n, uscc)
            for n, (uscc, effective) in enumerate(self.companies)
            if effective <= last_day
        ]
        return max(in_effect)[2]

    def is_overdue(self, period: Quarter) -> bool:
        return str(period) in self.overdue_quarters

    def mark_overdue(self, period: Quarter) -> bool:
        """Records that no disclosure came by the deadline; False when already recorded."""
        if self.is_overdue(period):
            return False
        # Charged to the company that owed it, not to whoever manages the community now.
        self._overdue(
            unit=self.unit,
            code=self.code,
            company_uscc=self.company_for(period),
            year=period.year,
            quarter=period.quarter,
        )
        return True

    @event(DisclosureOverdue)
    def _overdue(self, unit: str, code: str, company_uscc: str, year: int, quarter: int) -> None:
        self.overdue_quarters.append(str(Quarter(year, quarter)))


class Disclosure(Aggregate):
    """One community's disclosure for one quarter. Never edited: corrected by amendments,
    and every version stays in the event history."""

    class Filed(Aggregate.Created):
        community_id: uuid.UUID
        community_code: str
        unit: str
        company_uscc: str
        year: int
        quarter: int
        content: dict[str, Any]
        late: bool
        filed_at: datetime

    class Amended(Aggregate.Event):
        reason: str
        content: dict[str, Any]
        unit: str
        community_id: uuid.UUID
        community_code: str
        company_uscc: str
        year: int
        quarter: int
        revision: int
        late: bool

    @event(Filed)
    def __init__(
        self,
        community_id: uuid.UUID,
        community_code: str,
        unit: str,
        company_uscc: str,
        year: int,
        quarter: int,
        content: dict[str, Any],
        late: bool,
        filed_at: datetime,
    ) -> None:
        self.community_id = community_id
        self.community_code = community_code
        self.unit = unit
        self.company_uscc = company_uscc
        self.year = year
        self.quarter = quarter
        self.content_state = content
        self.late = late
        self.filed_at = filed_at
        self.revision = 0
        self.amendment_reason = ""
        self.audits: list[str] = []

    @staticmethod
    def create_id(community_code: str, year: int, quarter: int) -> uuid.UUID:
        # eventsourcing calls this with the constructor's arguments of the same names.
        return uuid.uuid5(NAMESPACE, f"disclosure:{community_code}:{Quarter(year, quarter)}")

    @property
    def content(self) -> DisclosureContent:
        return DisclosureContent.from_state(self.content_state)

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    def amend(self, reason: str, content: DisclosureContent) -> None:
        # The event repeats the disclosure's identity (unit, community, quarter) so that it
        # can be published on its own, without replaying the aggregate.
        self._amended(
            reason=reason,
            content=content.to_state(),
            unit=self.unit,
            community_id=self.community_id,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            year=self.year,
            quarter=self.quarter,
            revision=self.revision + 1,
            late=self.late,
        )

    class AuditRequested(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        year: int
        quarter: int
        requester: str
        owners_count: int
        household_count: int
        reason: str

    def request_audit(
        self, requester: str, owners_count: int, household_count: int, reason: str
    ) -> None:
        """业主委员会, or owners of at least 20% of households, may ask for an audit."""
        if requester == "owners":
            needed_num, needed_den = AUDIT_OWNER_SHARE
            if owners_count * needed_den < household_count * needed_num:
                raise RuleViolated(
                    f"{owners_count} of {household_count} households is under 20%: an audit "
                    "needs the owners' committee or owners of at least 20% of households",
                    f"申请业主 {owners_count} 户，不足总户数 {household_count} 户的20%，"
                    "须由业主委员会或占总户数20%以上的业主提出",
                )
        self._audit_requested(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            year=self.year,
            quarter=self.quarter,
            requester=requester,
            owners_count=owners_count,
            household_count=household_count,
            reason=reason,
        )

    @event(AuditRequested)
    def _audit_requested(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        year: int,
        quarter: int,
        requester: str,
        owners_count: int,
        household_count: int,
        reason: str,
    ) -> None:
        self.audits.append(requester)

    @event(Amended)
    def _amended(
        self,
        reason: str,
        content: dict[str, Any],
        unit: str,
        community_id: uuid.UUID,
        community_code: str,
        company_uscc: str,
        year: int,
        quarter: int,
        revision: int,
        late: bool,
    ) -> None:
        self.content_state = content
        self.revision = revision
        self.amendment_reason = reason
