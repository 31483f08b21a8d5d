"""The read side of the disclosure service: one disclosure (any version), lists of filings,
the disclosure rate of each unit, a disclosure's audits with their results, and the
self-inspection ledgers (one, or a unit's list).

Each query asks the declared policy first (`POLICY.admit`, application/access.py), then
`permit` on the record's facts, or `authorize_list` on a list's filter, which it then
applies. Lists and rates come from the read model: coroutines, awaited on the servicer's
loop (asyncpg), each making the read model current first so a caller reads its own writes (a
worker thread only when the projection is behind and must catch up). A single record (a
disclosure, its audits, a ledger) is loaded from the event store: those queries are
synchronous and the servicer runs them in a worker thread.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from disclosure.application.access import (
    POLICY,
    Filter,
    audit_facts,
    authorize_list,
    disclosure_facts,
    permit,
    sees_contact,
    self_inspection_facts,
)
from disclosure.application.commands import (
    parse_uuid,
    require_community_code,
    require_quarter,
    require_unit_filter,
    require_year,
)
from disclosure.application.handlers import self_inspection_ledger
from disclosure.application.ports import (
    DisclosureQuery,
    DisclosureRow,
    SelfInspectionQuery,
    SelfInspectionRow,
)
from disclosure.domain.disclosure import AuditRequest, Disclosure, DisclosureContent
from disclosure.domain.self_inspection_ledger import ItemStanding, SelfInspectionLedger
from pubrev_contracts.vocabulary.calendar import Quarter
from pubrev_contracts.vocabulary.campaign import shanghai_date
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import NotFound, Validator, excerpt
from servicekit.identity import Identity

if TYPE_CHECKING:
    from disclosure.application.app import DisclosureApplication


@dataclass(frozen=True)
class DisclosureView:
    disclosure_id: str
    version: int
    community_code: str
    unit: str
    year: int
    quarter: int
    content: DisclosureContent
    late: bool
    filed_at: str
    revision: int
    amendment_reason: str


@dataclass(frozen=True)
class UnitRate:
    unit: str
    communities: int
    on_time: int
    late: int
    overdue: int
    pending: int
    rate_percent: str
    on_time_rate_percent: str


@dataclass(frozen=True)
class AuditsView:
    """The audits asked for of one disclosure, each with its result once recorded."""

    disclosure_id: str
    community_code: str
    unit: str
    year: int
    quarter: int
    audits: list[AuditRequest]


@dataclass(frozen=True)
class SelfInspectionView:
    ledger_id: str
    version: int
    community_code: str
    unit: str
    company_uscc: str
    year: int
    items: list[ItemStanding]
    """As they stand today; the responsible persons blank in the public's copy."""
    posted_on: str
    owners_notified_via: list[str]
    late: bool
    filed_at: str
    due: str
    """The day the year's self_inspection stage is due (YYYY-MM-DD)."""
    due_basis: str

    @property
    def problems(self) -> int:
        return len(self.items)

    @property
    def rectified(self) -> int:
        return sum(1 for i in self.items if i.rectification is not None)


def get_disclosure(
    app: DisclosureApplication, identity: Identity, disclosure_id: str, version: int
) -> DisclosureView:
    """The disclosure at `version` (0: the latest). The public reads the current version
    only, without the contact person and phone."""
    POLICY.admit("GetDisclosure", identity)
    v = Validator()
    disclosure_uuid = parse_uuid(v, "disclosure_id", disclosure_id)
    v.require(
        version >= 0,
        "version",
        "non_negative",
        "0 (latest) or a version",
        "版本号须为0（最新）或正整数",
    )
    v.raise_if_any()
    assert disclosure_uuid is not None
    latest = _disclosure(app, disclosure_uuid)
    permit(
        "GetDisclosure",
        identity,
        disclosure_facts(latest, current=version in (0, latest.version)),
    )
    disclosure = latest
    if version and version != latest.version:
        if version > latest.version:
            raise NotFound(f"disclosure has no version {version}", f"该公示没有第 {version} 版")
        disclosure = _disclosure(app, disclosure_uuid, version)
    content = disclosure.content
    if not sees_contact(identity):
        content = replace(content, contact_name="", contact_phone="")
    return DisclosureView(
        disclosure_id=str(disclosure.id),
        version=disclosure.version,
        community_code=disclosure.community_code,
        unit=disclosure.unit,
        year=disclosure.year,
        quarter=disclosure.quarter,
        content=content,
        late=disclosure.late,
        filed_at=disclosure.filed_at.astimezone(UTC).isoformat(),
        revision=disclosure.revision,
        amendment_reason=disclosure.amendment_reason,
    )


async def list_disclosures(
    app: DisclosureApplication,
    identity: Identity,
    unit: str,
    year: int,
    quarter: int,
    company_uscc: str,
    page_size: int,
    page_token: str,
    community_code: str = "",
) -> tuple[list[DisclosureRow], str]:
    """A page of the filings matching the filter (`quarter` 0: the whole year), forced into
    the caller's scope (a county user's unit, a company's USCC, an owners' community); a
    filter naming another unit, company or community than the caller's is
    PermissionDenied. Every filed disclosure is posted by law: a list returns published
    rows only."""
    grants = POLICY.admit("ListDisclosures", identity)
    v = Validator()
    require_year(v, year)
    v.require(
        0 <= quarter <= 4,
        "quarter",
        "quarter_range",
        "quarter must be 0–4",
        "季度须为0（全年）至4",
    )
    v.require(
        0 <= page_size <= 500, "page_size", "page_size_range", "0–500", "每页条数须在0至500之间"
    )
    v.require(
        company_uscc == "" or len(company_uscc) == 18,
        "company_uscc",
        "uscc_length",
        "must be 18 characters",
        "统一社会信用代码须为18位",
    )
    if community_code:
        require_community_code(v, community_code)
    v.require(
        len(page_token) <= 64,
        "page_token",
        "page_token_length",
        "not a page token of this list",
        "分页标记无效",
    )
    require_unit_filter(v, unit)
    v.raise_if_any()
    scope = authorize_list(
        "ListDisclosures",
        identity,
        grants,
        Filter(unit=unit, company=company_uscc, community=community_code, published=True),
    )
    await app.read_model.current()
    return await app.read_model.list_disclosures(
        DisclosureQuery(
            units=[scope.unit] if scope.unit else list(COUNTY_UNITS),
            year=year,
            quarter=quarter,
            company_uscc=scope.company,
            community_code=scope.community,
            after=page_token,
            limit=page_size or 50,
        )
    )


async def disclosure_rate(
    app: DisclosureApplication, identity: Identity, unit: str, year: int, quarter: int
) -> tuple[list[UnitRate], int]:
    """Per unit: the communities that count for the quarter, filed on time, late, overdue
    (after the deadline) or pending (before it), and the rates; with the read model's
    position. CalendarNotConfigured once the answer depends on a year the holiday calendar
    lacks."""
    grants = POLICY.admit("GetDisclosureRate", identity)
    v = Validator()
    require_unit_filter(v, unit)
    require_year(v, year)
    require_quarter(v, quarter)
    v.raise_if_any()
    period = Quarter(year, quarter)
    scope = authorize_list("GetDisclosureRate", identity, grants, Filter(unit=unit))
    units = [scope.unit] if scope.unit else list(COUNTY_UNITS)
    position = await app.read_model.current()
    now = app.clock()
    deadline_passed = period.deadline_passed(now)
    # A community counts for a quarter when registered before its deadline. Until the
    # nominal deadline day is over every community registered so far does, so the holiday
    # calendar is asked only once its answer matters.
    counted_before = period.deadline if now >= period.nominal_deadline else period.nominal_deadline
    rates = []
    for c in await app.read_model.unit_counts(units, year, quarter, counted_before):
        missing = c.communities - c.on_time - c.late
        rates.append(
            UnitRate(
                unit=c.unit,
                communities=c.communities,
                on_time=c.on_time,
                late=c.late,
                overdue=missing if deadline_passed else 0,
                pending=0 if deadline_passed else missing,
                rate_percent=_percent(c.on_time + c.late, c.communities),
                on_time_rate_percent=_percent(c.on_time, c.communities),
            )
        )
    return rates, position


def get_audit_result(
    app: DisclosureApplication, identity: Identity, disclosure_id: str
) -> AuditsView:
    """The audits asked for of a disclosure, in order, each with its result once recorded:
    for the owners who asked, the company audited and the unit's supervisors (not
    published)."""
    POLICY.admit("GetAuditResult", identity)
    v = Validator()
    disclosure_uuid = parse_uuid(v, "disclosure_id", disclosure_id)
    v.raise_if_any()
    assert disclosure_uuid is not None
    disclosure = _disclosure(app, disclosure_uuid)
    permit("GetAuditResult", identity, audit_facts(disclosure))
    return AuditsView(
        disclosure_id=str(disclosure.id),
        community_code=disclosure.community_code,
        unit=disclosure.unit,
        year=disclosure.year,
        quarter=disclosure.quarter,
        audits=list(disclosure.audit_requests),
    )


def get_self_inspection(
    app: DisclosureApplication, identity: Identity, community_code: str, year: int
) -> SelfInspectionView:
    """A community's self-inspection ledger of a year, each problem as it stands today
    (Asia/Shanghai). Published; the public's copy leaves out the persons responsible."""
    POLICY.admit("GetSelfInspection", identity)
    v = Validator()
    require_community_code(v, community_code)
    require_year(v, year)
    v.raise_if_any()
    ledger = self_inspection_ledger(app, community_code, year, read_only=True)
    permit("GetSelfInspection", identity, self_inspection_facts(ledger))
    items = ledger.standing(shanghai_date(app.clock()))
    if not sees_contact(identity):
        items = [replace(i, item=replace(i.item, responsible="")) for i in items]
    stage = SelfInspectionLedger.stage(ledger.year, app.campaign)
    return SelfInspectionView(
        ledger_id=str(ledger.id),
        version=ledger.version,
        community_code=ledger.community_code,
        unit=ledger.unit,
        company_uscc=ledger.company_uscc,
        year=ledger.year,
        items=items,
        posted_on=ledger.posted_on.isoformat(),
        owners_notified_via=list(ledger.owners_notified_via),
        late=ledger.late,
        filed_at=ledger.filed_at.astimezone(UTC).isoformat(),
        due=stage.due.isoformat(),
        due_basis=stage.basis,
    )


async def list_self_inspections(
    app: DisclosureApplication,
    identity: Identity,
    unit: str,
    year: int,
    page_size: int,
    page_token: str,
) -> tuple[list[SelfInspectionRow], str]:
    """A page of the ledgers filed in a unit in a year (unit "": every unit the caller may
    see), by community code; a unit other than the caller's is PermissionDenied."""
    grants = POLICY.admit("ListSelfInspections", identity)
    v = Validator()
    require_unit_filter(v, unit)
    require_year(v, year)
    v.require(
        0 <= page_size <= 500, "page_size", "page_size_range", "0–500", "每页条数须在0至500之间"
    )
    v.require(
        len(page_token) <= 64,
        "page_token",
        "page_token_length",
        "not a page token of this list",
        "分页标记无效",
    )
    v.raise_if_any()
    scope = authorize_list("ListSelfInspections", identity, grants, Filter(unit=unit))
    await app.read_model.current()
    return await app.read_model.list_self_inspections(
        SelfInspectionQuery(
            units=[scope.unit] if scope.unit else list(COUNTY_UNITS),
            year=year,
            after=page_token,
            limit=page_size or 50,
        )
    )


def _disclosure(
    app: DisclosureApplication, disclosure_id: uuid.UUID, version: int | None = None
) -> Disclosure:
    disclosure = app.find(disclosure_id, Disclosure, version, read_only=True)
    if disclosure is None:
        raise NotFound(f"disclosure {excerpt(disclosure_id)} does not exist", "公示记录不存在")
    return disclosure


def _percent(part: int, whole: int) -> str:
    if whole == 0:
        return "0.00"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{value}"
