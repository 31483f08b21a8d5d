"""The disclosure application: loads aggregates, calls them, saves them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from disclosure.application.access import (
    HISTORY_READS,
    POLICY,
    Filter,
    authorize_list,
    check_audit_requester,
    community_facts,
    disclosure_facts,
    permit,
    sees_contact,
)
from disclosure.application.commands import (
    AmendDisclosure,
    ChangePropertyCompany,
    DisclosureView,
    FileDisclosure,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
    UnitRate,
)
from disclosure.application.ports import DisclosureQuery, DisclosureReadModel, DisclosureRow
from disclosure.domain.model import Community, Disclosure, PropertyCompany
from pubrev_contracts.vocabulary.calendar import CalendarNotConfigured, Quarter
from pubrev_contracts.vocabulary.identifiers import uscc_problem
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    RuleViolated,
    ServiceError,
    Validator,
    excerpt,
)
from servicekit.eventstore import Prepared, ServiceApplication
from servicekit.identity import Identity
from servicekit.policy import Resource

Clock = Callable[[], datetime]
# fullmatch with ASCII classes: "CX-001\n" or full-width digits must not pass as codes.
_CODE = re.compile(r"[A-Za-z0-9-]{2,40}")
_DIVISION = re.compile(r"35[0-9]{4}")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DisclosureApplication(ServiceApplication):
    """Every method asks the declared policy (application/access.py): `POLICY.admit` before
    it reads anything, then `permit` on the record's facts, or `authorize_list` on a list's
    filter, which it then applies."""

    name = "disclosure"
    policy = POLICY
    history_reads = HISTORY_READS

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = _utcnow) -> None:
        super().__init__(env=env)
        self.clock = clock
        self._read_model: DisclosureReadModel | None = None

    @property
    def read_model(self) -> DisclosureReadModel:
        if self._read_model is None:
            raise RuntimeError("no read model wired (see bootstrap)")
        return self._read_model

    @read_model.setter
    def read_model(self, read_model: DisclosureReadModel) -> None:
        self._read_model = read_model

    def register_company(self, identity: Identity, cmd: RegisterCompany) -> dict[str, Any]:
        POLICY.admit("RegisterCompany", identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        source = cmd.source or "application"
        v.require(
            source in ("application", "official_registry"),
            "source",
            "unknown_source",
            "source is application or official_registry",
            "来源须为申请或官方登记",
        )
        problem = uscc_problem(cmd.uscc)
        if source == "application":
            # A new registration must carry a valid code...
            v.require(
                problem is None,
                "uscc",
                "uscc_check",
                f"USCC {problem}",
                "统一社会信用代码不符合GB 32100-2015校验规则",
            )
        else:
            # ...but a bad code from an official registry is kept, and flagged.
            v.require(
                len(cmd.uscc) == 18,
                "uscc",
                "uscc_length",
                "must be 18 characters",
                "统一社会信用代码须为18位",
            )
        v.require_text(cmd.name, "name", 200, "企业名称", required=True)
        v.raise_if_any()
        permit("RegisterCompany", identity, Resource())

        def execute() -> tuple[list[PropertyCompany], dict[str, Any]]:
            if self.exists(PropertyCompany.create_id(cmd.uscc)):
                raise AlreadyExists(
                    f"company {excerpt(cmd.uscc)} is registered already",
                    f"企业 {excerpt(cmd.uscc)} 已登记",
                )
            company = PropertyCompany(cmd.uscc, cmd.name, source, problem is not None)
            return [company], {
                "company_id": str(company.id),
                "version": company.version,
                "uscc_flagged": company.uscc_flagged,
            }

        return self.run_once("RegisterCompany", cmd.request_id, cmd, execute)

    # -- commands --------------------------------------------------------------------------

    def register_community(self, identity: Identity, cmd: RegisterCommunity) -> dict[str, Any]:
        POLICY.admit("RegisterCommunity", identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        _require_code(v, cmd.community_code)
        # Every text is stored in the event the relay publishes: bounded and single-line
        # (a 1 MB name was once stored, over Kafka's record limit, and stopped the relay).
        v.require_text(cmd.name, "name", 200, "小区名称", required=True)
        v.require_text(cmd.address, "address", 500, "小区地址")
        v.require_text(cmd.township, "township", 100, "所属镇（街道）")
        v.require_text(cmd.company_name, "company_name", 200, "物业服务企业名称")
        v.require(
            cmd.unit in COUNTY_UNITS,
            "unit",
            "unknown_unit",
            f"unit must be one of {', '.join(COUNTY_UNITS)}",
            "监管单位不在莆田市七个县区（管委会）之列",
        )
        v.require(
            bool(_DIVISION.fullmatch(cmd.division_code)),
            "division_code",
            "division_format",
            "a 6-digit Fujian division code (35xxxx)",
            "行政区划代码须为35开头的6位数字",
        )
        v.require(
            len(cmd.company_uscc) == 18,
            "company_uscc",
            "uscc_length",
            "must be 18 characters",
            "统一社会信用代码须为18位",
        )
        v.require(
            bool(cmd.company_name.strip()),
            "company_name",
            "required",
            "company name is required",
            "缺少物业服务企业名称",
        )
        for field in ("elevator_count", "barrier_gate_count"):
            v.require(getattr(cmd, field) >= 0, field, "non_negative", "must be >= 0", "不能为负数")
        v.require(
            cmd.household_count >= 1,
            "household_count",
            "positive",
            "a community has at least one household",
            "户数须大于0",
        )
        v.raise_if_any()
        permit("RegisterCommunity", identity, Resource(unit=cmd.unit))
        self._company(cmd.company_uscc)

        def execute() -> tuple[list[Community], dict[str, Any]]:
            community_id = Community.create_id(cmd.community_code)
            if self.exists(community_id):
                raise AlreadyExists(
                    f"community {excerpt(cmd.community_code)} is registered already",
                    f"小区 {excerpt(cmd.community_code)} 已登记",
                )
            community = Community(
                code=cmd.community_code,
                name=cmd.name,
                address=cmd.address,
                unit=cmd.unit,
                division_code=cmd.division_code,
                township=cmd.township,
                company_uscc=cmd.company_uscc,
                company_name=cmd.company_name,
                signboard_at_main_entrance=cmd.signboard_at_main_entrance,
                elevator_count=cmd.elevator_count,
                barrier_gate_count=cmd.barrier_gate_count,
                has_leasable_space=cmd.has_leasable_space,
                household_count=cmd.household_count,
                registered_at=self.clock(),
            )
            return [community], {"community_id": str(community.id), "version": community.version}

        return self.run_once("RegisterCommunity", cmd.request_id, cmd, execute)

    def file_disclosure(self, identity: Identity, cmd: FileDisclosure) -> dict[str, Any]:
        prepared = self.prepare_file_disclosure(identity, cmd)
        return prepared if isinstance(prepared, dict) else self.commit_prepared(prepared)

    def prepare_file_disclosure(
        self, identity: Identity, cmd: FileDisclosure
    ) -> Prepared | dict[str, Any]:
        """Decides a filing without committing it (for group commit)."""
        POLICY.admit("FileDisclosure", identity)
        now = self.clock()
        v = Validator()
        v.require_request_id(cmd.request_id)
        _require_code(v, cmd.community_code)
        v.require(
            2000 <= cmd.year <= 2100,
            "year",
            "year_range",
            "year must be 2000–2100",
            "年度须在2000至2100之间",
        )
        quarter_ok = v.require(
            cmd.quarter in (1, 2, 3, 4),
            "quarter",
            "quarter_range",
            "quarter must be 1–4",
            "季度须为1至4",
        )
        period = Quarter(cmd.year, cmd.quarter) if quarter_ok else None
        if period is not None and 2000 <= cmd.year <= 2100:
            v.require(
                now >= period.end,
                "quarter",
                "quarter_not_over",
                f"{period} is not over yet",
                f"{period} 尚未结束，不能公示",
            )
        v.violations.extend(cmd.content.check())
        v.raise_if_any()
        assert period is not None
        community = self._community(cmd.community_code, read_only=True)
        # The company that managed the quarter files it, even after a handover.
        company_uscc = community.company_for(period)
        permit(
            "FileDisclosure",
            identity,
            Resource(unit=community.unit, company=company_uscc, community=community.code),
        )
        # Decided before the transaction: a filing after the nominal deadline day in a year
        # the holiday calendar lacks is refused (CalendarNotConfigured), never guessed.
        late = period.is_late(now)

        disclosure_id = Disclosure.create_id(cmd.community_code, period.year, period.quarter)

        def on_conflict() -> ServiceError:
            if self.exists(disclosure_id):
                return AlreadyExists(
                    f"the disclosure of {cmd.community_code} for {period} is filed already; "
                    "amend it instead",
                    f"小区 {cmd.community_code} {period} 的公示已提交，如需更正请提交更正",
                )
            return Conflict(
                "a concurrent command changed the same record first; retry",
                "数据已被并发修改，请重试",
            )

        def execute() -> tuple[list[Disclosure], dict[str, Any]]:
            # Optimistic: no read for an existing filing; a second one fails at commit on
            # the unique version 1 of this disclosure id, and on_conflict says why.
            disclosure = Disclosure(
                community_id=community.id,
                community_code=community.code,
                unit=community.unit,
                company_uscc=company_uscc,
                year=period.year,
                quarter=period.quarter,
                content=cmd.content.to_state(),
                late=late,
                filed_at=now,
            )
            return [disclosure], {
                "disclosure_id": str(disclosure.id),
                "version": disclosure.version,
                "late": disclosure.late,
                "zero_revenue": cmd.content.zero_revenue,
                "deficit": cmd.content.deficit,
            }

        return self.prepare_once("FileDisclosure", cmd.request_id, cmd, execute, on_conflict)

    def amend_disclosure(self, identity: Identity, cmd: AmendDisclosure) -> dict[str, Any]:
        POLICY.admit("AmendDisclosure", identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        disclosure_uuid = _parse_uuid(v, "disclosure_id", cmd.disclosure_id)
        v.require(
            cmd.expected_version >= 1,
            "expected_version",
            "positive",
            "the version being amended is required",
            "须注明所更正的版本号",
        )
        v.require(
            bool(cmd.reason.strip()),
            "reason",
            "required",
            "an amendment needs its reason",
            "更正须说明理由",
        )
        v.violations.extend(cmd.content.check())
        v.raise_if_any()
        assert disclosure_uuid is not None
        disclosure = self._disclosure(disclosure_uuid)
        permit("AmendDisclosure", identity, disclosure_facts(disclosure))

        def execute() -> tuple[list[Disclosure], dict[str, Any]]:
            current = self._disclosure(disclosure_uuid)
            if current.version != cmd.expected_version:
                raise Conflict(
                    f"disclosure is at version {current.version}, not {cmd.expected_version}: "
                    "someone amended it first; read it again",
                    f"该公示已被更新至第 {current.version} 版，请重新读取后再更正",
                )
            current.amend(cmd.reason, cmd.content)
            return [current], {"disclosure_id": str(current.id), "version": current.version}

        return self.run_once("AmendDisclosure", cmd.request_id, cmd, execute)

    def change_property_company(
        self, identity: Identity, cmd: ChangePropertyCompany
    ) -> dict[str, Any]:
        POLICY.admit("ChangePropertyCompany", identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        _require_code(v, cmd.community_code)
        v.require(
            len(cmd.new_company_uscc) == 18,
            "new_company_uscc",
            "uscc_length",
            "must be 18 characters",
            "统一社会信用代码须为18位",
        )
        v.require(
            _is_date(cmd.effective_date),
            "effective_date",
            "date_format",
            "must be a date YYYY-MM-DD",
            "交接日期格式错误",
        )
        v.require(
            bool(cmd.reason.strip()), "reason", "required", "the reason is required", "缺少更换原因"
        )
        v.raise_if_any()
        community = self._community(cmd.community_code)
        permit("ChangePropertyCompany", identity, community_facts(community))
        company = self._company(cmd.new_company_uscc)

        def execute() -> tuple[list[Community], dict[str, Any]]:
            current = self._community(cmd.community_code)
            current.change_company(company.uscc, company.name, cmd.effective_date, cmd.reason)
            return [current], {"community_id": str(current.id), "version": current.version}

        return self.run_once("ChangePropertyCompany", cmd.request_id, cmd, execute)

    def request_audit(self, identity: Identity, cmd: RequestAudit) -> dict[str, Any]:
        POLICY.admit("RequestAudit", identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        disclosure_uuid = _parse_uuid(v, "disclosure_id", cmd.disclosure_id)
        v.require(
            cmd.requester in ("owners_committee", "owners"),
            "requester",
            "unknown_requester",
            "requester is owners_committee or owners",
            "申请人须为业主委员会或业主",
        )
        if cmd.requester == "owners":
            v.require(
                cmd.owners_count > 0,
                "owners_count",
                "positive",
                "how many households ask",
                "须填写提出申请的业主户数",
            )
        v.require(
            bool(cmd.reason.strip()), "reason", "required", "the reason is required", "缺少申请理由"
        )
        v.raise_if_any()
        assert disclosure_uuid is not None
        check_audit_requester(identity, cmd.requester)
        disclosure = self._disclosure(disclosure_uuid)
        permit("RequestAudit", identity, disclosure_facts(disclosure))
        community = self._community(disclosure.community_code)

        def execute() -> tuple[list[Disclosure], dict[str, Any]]:
            current = self._disclosure(disclosure_uuid)
            current.request_audit(
                cmd.requester, cmd.owners_count, community.household_count, cmd.reason
            )
            return [current], {"disclosure_id": str(current.id), "version": current.version}

        return self.run_once("RequestAudit", cmd.request_id, cmd, execute)

    def close_quarter(
        self, identity: Identity, year: int, quarter: int, unit: str = ""
    ) -> dict[str, int]:
        """Marks each registered community without a filing overdue, once. Idempotent: a
        repeat marks nothing new. `unit` "" closes every unit the caller's grant covers (a
        unit's bureau: its own; the city: all)."""
        grants = POLICY.admit("CloseQuarter", identity)
        period = self._valid_period(year, quarter, unit)
        scope = authorize_list("CloseQuarter", identity, grants, Filter(unit=unit))
        if not period.deadline_passed(self.clock()):
            due, due_zh = _due_day(period)
            raise RuleViolated(
                f"the deadline of {period} ({due}) has not passed",
                f"{period} 公示截止日（{due_zh}）尚未届满",
            )
        self.read_model.catch_up()
        counts = {"marked_overdue": 0, "already_overdue": 0, "filed": 0}
        for code in self.read_model.community_codes(registered_before=period.deadline):
            community = self._community(code)
            if scope.unit and community.unit != scope.unit:
                continue
            if self.exists(Disclosure.create_id(code, period.year, period.quarter)):
                counts["filed"] += 1
            elif community.mark_overdue(period):
                self.record(community)
                counts["marked_overdue"] += 1
            else:
                counts["already_overdue"] += 1
        return counts

    # -- queries ---------------------------------------------------------------------------

    def list_disclosures(
        self,
        identity: Identity,
        unit: str,
        year: int,
        quarter: int,
        company_uscc: str,
        page_size: int,
        page_token: str,
        community_code: str = "",
    ) -> tuple[list[DisclosureRow], str]:
        """A page of the filings matching the filter, forced into the caller's scope (a
        county user's unit, a company's USCC, an owners' community); a filter naming
        another unit, company or community than the caller's is PermissionDenied."""
        grants = POLICY.admit("ListDisclosures", identity)
        v = Validator()
        v.require(
            2000 <= year <= 2100,
            "year",
            "year_range",
            "year must be 2000–2100",
            "年度须在2000至2100之间",
        )
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
            _require_code(v, community_code)
        v.require(
            len(page_token) <= 64,
            "page_token",
            "page_token_length",
            "not a page token of this list",
            "分页标记无效",
        )
        _require_unit_filter(v, unit)
        v.raise_if_any()
        # Every filed disclosure is posted by law: a listing returns published rows only.
        scope = authorize_list(
            "ListDisclosures",
            identity,
            grants,
            Filter(unit=unit, company=company_uscc, community=community_code, published=True),
        )
        # Read your writes: the read model applies what is recorded before answering.
        self.read_model.catch_up()
        return self.read_model.list_disclosures(
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

    def disclosure_rate(
        self, identity: Identity, unit: str, year: int, quarter: int
    ) -> tuple[list[UnitRate], int]:
        grants = POLICY.admit("GetDisclosureRate", identity)
        period = self._valid_period(year, quarter, unit)
        scope = authorize_list("GetDisclosureRate", identity, grants, Filter(unit=unit))
        units = [scope.unit] if scope.unit else list(COUNTY_UNITS)
        position = self.read_model.catch_up()
        now = self.clock()
        deadline_passed = period.deadline_passed(now)
        # A community counts for a quarter when registered before its deadline. Until the
        # nominal deadline day is over every community registered so far does, so the
        # holiday calendar is asked only once its answer matters.
        counted_before = (
            period.deadline if now >= period.nominal_deadline else period.nominal_deadline
        )
        rates = []
        for c in self.read_model.unit_counts(units, year, quarter, counted_before):
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

    # -- queries ---------------------------------------------------------------------------

    def get_disclosure(
        self, identity: Identity, disclosure_id: str, version: int
    ) -> DisclosureView:
        POLICY.admit("GetDisclosure", identity)
        v = Validator()
        disclosure_uuid = _parse_uuid(v, "disclosure_id", disclosure_id)
        v.require(
            version >= 0,
            "version",
            "non_negative",
            "0 (latest) or a version",
            "版本号须为0（最新）或正整数",
        )
        v.raise_if_any()
        assert disclosure_uuid is not None
        latest = self._disclosure(disclosure_uuid)
        permit(
            "GetDisclosure",
            identity,
            disclosure_facts(latest, current=version in (0, latest.version)),
        )
        disclosure = latest
        if version:
            if version > latest.version:
                raise NotFound(f"disclosure has no version {version}", f"该公示没有第 {version} 版")
            disclosure = self._disclosure_at(disclosure_uuid, version)
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

    # -- helpers ---------------------------------------------------------------------------

    def _valid_period(self, year: int, quarter: int, unit: str = "") -> Quarter:
        v = Validator()
        _require_unit_filter(v, unit)
        v.require(
            2000 <= year <= 2100,
            "year",
            "year_range",
            "year must be 2000–2100",
            "年度须在2000至2100之间",
        )
        v.require(
            quarter in (1, 2, 3, 4),
            "quarter",
            "quarter_range",
            "quarter must be 1–4",
            "季度须为1至4",
        )
        v.raise_if_any()
        return Quarter(year, quarter)

    def _company(self, uscc: str) -> PropertyCompany:
        company = self.find(PropertyCompany.create_id(uscc), PropertyCompany)
        if company is None:
            raise RuleViolated(
                f"property company {excerpt(uscc)} is not registered; register it first",
                f"物业服务企业 {excerpt(uscc)} 未登记，请先登记企业",
            )
        return company

    def _community(self, code: str, read_only: bool = False) -> Community:
        community = self.find(Community.create_id(code), Community, read_only=read_only)
        if community is None:
            raise NotFound(
                f"community {excerpt(code)} is not registered", f"小区 {excerpt(code)} 未登记"
            )
        return community

    def _disclosure(self, disclosure_id: uuid.UUID) -> Disclosure:
        disclosure = self.find(disclosure_id, Disclosure)
        if disclosure is None:
            raise NotFound(f"disclosure {excerpt(disclosure_id)} does not exist", "公示记录不存在")
        return disclosure

    def _disclosure_at(self, disclosure_id: uuid.UUID, version: int) -> Disclosure:
        disclosure = self.find(disclosure_id, Disclosure, version=version)
        assert disclosure is not None
        return disclosure


def _due_day(period: Quarter) -> tuple[str, str]:
    """The deadline day for a message (English, Chinese); for a year the holiday calendar
    lacks, the nominal day and the rule that may move it (no guess at the holidays)."""
    try:
        day = period.deadline_day.isoformat()
    except CalendarNotConfigured:
        nominal = period.nominal_deadline_day.isoformat()
        return f"{nominal}, or the next working day", f"{nominal}，遇休息日顺延"
    return day, day


def _require_code(v: Validator, code: str) -> None:
    v.require(
        bool(_CODE.fullmatch(code)),
        "community_code",
        "code_format",
        "2–40 letters, digits or '-'",
        "小区编码须为2至40位字母、数字或连字符",
    )


def _require_unit_filter(v: Validator, unit: str) -> None:
    """An asked unit filter ("" for every unit the caller may see) must be a unit."""
    v.require(
        unit == "" or unit in COUNTY_UNITS,
        "unit",
        "unknown_unit",
        f"unit must be one of {', '.join(COUNTY_UNITS)}",
        "监管单位不在莆田市七个县区（管委会）之列",
    )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _percent(part: int, whole: int) -> str:
    if whole == 0:
        return "0.00"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{value}"


def _parse_uuid(v: Validator, field: str, text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        v.add(field, "uuid_format", "must be a UUID", "编号格式错误")
        return None
