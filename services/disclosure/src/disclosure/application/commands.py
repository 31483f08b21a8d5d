"""The commands of the disclosure service, one per RPC of pubrev.disclosure.v1 and named
after it, each with the result it answers beside it.

A command is plain Python (no wire types). Its `check()` lists what is wrong with its own
fields (formats, lengths, ranges); the rules of the business are the aggregates'
(domain/). The idempotency receipt of a command is named after its type and its
fingerprint is taken over its fields, so receipts already stored keep answering retries
only as long as both stay as they are.

A result is flat (JSON values only): the receipt remembers it, and a repeated request is
answered from it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from disclosure.domain.disclosure import DisclosureContent
from disclosure.domain.self_inspection_ledger import SelfInspectionItem
from pubrev_contracts.vocabulary import identifiers
from pubrev_contracts.vocabulary.calendar import Quarter
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import FieldViolation, Validator

# -- RegisterCompany ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterCompany:
    request_id: str
    uscc: str
    name: str
    source: str
    """`application` ("" says the same) or `official_registry`."""

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require_text(self.name, "name", 200, "企业名称", required=True)
        return v.violations


@dataclass(frozen=True)
class CompanyRegistered:
    company_id: str
    version: int
    uscc_flagged: bool
    """The code fails GB 32100 and was kept as an official registry gave it."""


# -- RegisterCommunity -------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterCommunity:
    request_id: str
    community_code: str
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

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        require_community_code(v, self.community_code)
        # Every text is stored in the event the relay publishes: bounded and single-line
        # (a 1 MB name was once stored, over Kafka's record limit, and stopped the relay).
        v.require_text(self.name, "name", 200, "小区名称", required=True)
        v.require_text(self.address, "address", 500, "小区地址")
        v.require_text(self.township, "township", 100, "所属镇（街道）")
        v.require_text(self.company_name, "company_name", 200, "物业服务企业名称")
        require_uscc_length(v, "company_uscc", self.company_uscc)
        v.require(
            bool(self.company_name.strip()),
            "company_name",
            "required",
            "company name is required",
            "缺少物业服务企业名称",
        )
        return v.violations


@dataclass(frozen=True)
class CommunityRegistered:
    community_id: str
    version: int


# -- ChangePropertyCompany ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePropertyCompany:
    request_id: str
    community_code: str
    new_company_uscc: str
    effective_date: str
    reason: str

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        require_community_code(v, self.community_code)
        require_uscc_length(v, "new_company_uscc", self.new_company_uscc)
        v.require(
            bool(self.reason.strip()),
            "reason",
            "required",
            "the reason is required",
            "缺少更换原因",
        )
        return v.violations


@dataclass(frozen=True)
class PropertyCompanyChanged:
    community_id: str
    version: int


# -- FileDisclosure ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileDisclosure:
    request_id: str
    community_code: str
    year: int
    quarter: int
    content: DisclosureContent

    @property
    def period(self) -> Quarter | None:
        """The quarter filed; None when the year or the quarter is out of range."""
        if 2000 <= self.year <= 2100 and self.quarter in (1, 2, 3, 4):
            return Quarter(self.year, self.quarter)
        return None

    def check(self) -> list[FieldViolation]:
        """The request's own fields; the content's rules are the aggregate's
        (Disclosure.check_filing)."""
        v = Validator()
        v.require_request_id(self.request_id)
        require_community_code(v, self.community_code)
        require_year(v, self.year)
        require_quarter(v, self.quarter)
        return v.violations


@dataclass(frozen=True)
class DisclosureFiled:
    disclosure_id: str
    version: int
    late: bool
    zero_revenue: bool
    deficit: bool = False
    """Receipts written before deficit quarters could be filed (they were refused) lack it."""


# -- AmendDisclosure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AmendDisclosure:
    request_id: str
    disclosure_id: str
    expected_version: int
    """The version the amendment corrects: a stale one is ABORTED (someone amended first)."""
    reason: str
    content: DisclosureContent

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        parse_uuid(v, "disclosure_id", self.disclosure_id)
        v.require(
            self.expected_version >= 1,
            "expected_version",
            "positive",
            "the version being amended is required",
            "须注明所更正的版本号",
        )
        return v.violations


@dataclass(frozen=True)
class DisclosureAmended:
    disclosure_id: str
    version: int


# -- RequestAudit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestAudit:
    request_id: str
    disclosure_id: str
    requester: str
    """`owners_committee` or `owners`."""
    owners_count: int
    """Households asking, when `owners` ask."""
    reason: str

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        parse_uuid(v, "disclosure_id", self.disclosure_id)
        return v.violations


@dataclass(frozen=True)
class AuditRequested:
    disclosure_id: str
    version: int


# -- CloseQuarter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CloseQuarter:
    """Marks each registered community without a filing overdue, once. It keeps no receipt:
    a repeat marks nothing new and answers with the counts as they are then."""

    request_id: str
    year: int
    quarter: int
    unit: str = ""
    """Empty: every unit the caller's grant covers (a unit's bureau: its own; the city: all)."""

    def check(self) -> list[FieldViolation]:
        v = Validator()
        require_unit_filter(v, self.unit)
        require_year(v, self.year)
        require_quarter(v, self.quarter)
        return v.violations


@dataclass(frozen=True)
class QuarterClosed:
    marked_overdue: int
    already_overdue: int
    filed: int


# -- FileSelfInspection ------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSelfInspection:
    request_id: str
    community_code: str
    year: int
    items: tuple[SelfInspectionItem, ...]
    posted_on: date | None
    """None: the request's day is no date (refused as `date_format` by the ledger)."""
    owners_notified_via: tuple[str, ...]

    @property
    def campaign_year(self) -> int | None:
        """The year filed; None when out of range."""
        return self.year if 2000 <= self.year <= 2100 else None

    def check(self) -> list[FieldViolation]:
        """The request's own fields (lengths, formats); what a ledger must hold is the
        ledger's (SelfInspectionLedger.check_filing)."""
        v = Validator()
        v.require_request_id(self.request_id)
        require_community_code(v, self.community_code)
        require_year(v, self.year)
        for n, item in enumerate(self.items):
            v.require_text(item.problem, f"items[{n}].problem", 500, "问题")
            v.require_text(item.measure, f"items[{n}].measure", 500, "整改措施")
            v.require_text(item.responsible, f"items[{n}].responsible", 50, "责任人")
        return v.violations


@dataclass(frozen=True)
class SelfInspectionFiled:
    ledger_id: str
    version: int
    late: bool
    problems: int


# -- RecordSelfInspectionRectification ---------------------------------------------------------


@dataclass(frozen=True)
class RecordSelfInspectionRectification:
    request_id: str
    community_code: str
    year: int
    item: int
    """The problem's number in the ledger, from 1."""
    rectified_on: date | None
    note: str

    @property
    def campaign_year(self) -> int | None:
        return self.year if 2000 <= self.year <= 2100 else None

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        require_community_code(v, self.community_code)
        require_year(v, self.year)
        v.require(
            self.item >= 1,
            "item",
            "positive",
            "the problem's number in the ledger, from 1",
            "问题编号从1开始",
        )
        v.require_text(self.note, "note", 2000, "整改说明", multiline=True)
        return v.violations


@dataclass(frozen=True)
class SelfInspectionItemRectified:
    ledger_id: str
    version: int
    past_deadline: bool


# -- RecordAuditResult -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordAuditResult:
    request_id: str
    disclosure_id: str
    auditor: str
    """The third-party audit firm (第三方审计机构)."""
    conclusion: str
    """`consistent` or `discrepancies`."""
    discrepancy_fen: int
    summary: str
    posted_on: date | None

    def check(self) -> list[FieldViolation]:
        v = Validator()
        v.require_request_id(self.request_id)
        parse_uuid(v, "disclosure_id", self.disclosure_id)
        v.require_text(self.auditor, "auditor", 200, "第三方审计机构名称")
        v.require_text(self.summary, "summary", 4000, "审计意见摘要", multiline=True)
        return v.violations


@dataclass(frozen=True)
class AuditResultRecorded:
    disclosure_id: str
    version: int
    audit: int
    """The audit request it answers, from 1."""


# -- the checks of fields several requests share -----------------------------------------------


def require_community_code(v: Validator, code: str) -> None:
    v.require(
        identifiers.is_community_code(code),
        "community_code",
        identifiers.COMMUNITY_CODE_RULE,
        identifiers.COMMUNITY_CODE_DESCRIPTION,
        identifiers.COMMUNITY_CODE_DESCRIPTION_ZH,
    )


def require_uscc_length(v: Validator, field: str, uscc: str) -> None:
    """Names a company: 18 characters (whether it passes GB 32100 is the register's
    business, which keeps an official registry's failing code)."""
    v.require(
        len(uscc) == identifiers.USCC_LENGTH,
        field,
        "uscc_length",
        "must be 18 characters",
        "统一社会信用代码须为18位",
    )


def require_year(v: Validator, year: int) -> None:
    v.require(
        2000 <= year <= 2100,
        "year",
        "year_range",
        "year must be 2000–2100",
        "年度须在2000至2100之间",
    )


def require_quarter(v: Validator, quarter: int) -> None:
    v.require(
        quarter in (1, 2, 3, 4), "quarter", "quarter_range", "quarter must be 1–4", "季度须为1至4"
    )


def require_unit_filter(v: Validator, unit: str) -> None:
    """An asked unit filter ("" for every unit the caller may see) must be a unit."""
    v.require(
        unit == "" or unit in COUNTY_UNITS,
        "unit",
        "unknown_unit",
        f"unit must be one of {', '.join(COUNTY_UNITS)}",
        "监管单位不在莆田市七个县区（管委会）之列",
    )


def parse_uuid(v: Validator, field: str, text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        v.add(field, "uuid_format", "must be a UUID", "编号格式错误")
        return None
