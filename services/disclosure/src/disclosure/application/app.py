"""The disclosure application: loads aggregates, calls them, saves them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from disclosure.application.access import (
    require_bureau_of,
    require_filer_for,
    require_reader_of,
)
from disclosure.application.commands import (
    AmendDisclosure,
    DisclosureView,
    FileDisclosure,
    RegisterCommunity,
)
from disclosure.domain.calendar import Quarter
from disclosure.domain.identifiers import uscc_problem
from disclosure.domain.model import Community, Disclosure
from pubrev_contracts.units import COUNTY_UNITS
from servicekit.errors import AlreadyExists, Conflict, NotFound, Validator
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity

Clock = Callable[[], datetime]
_CODE = re.compile(r"^[A-Za-z0-9-]{2,40}$")
_DIVISION = re.compile(r"^35\d{4}$")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DisclosureApplication(ServiceApplication):
    name = "disclosure"

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = _utcnow) -> None:
        super().__init__(env=env)
        self.clock = clock

    # -- commands --------------------------------------------------------------------------

    def register_community(self, identity: Identity, cmd: RegisterCommunity) -> dict[str, Any]:
        v = Validator()
        _require_request_id(v, cmd.request_id)
        v.require(bool(_CODE.match(cmd.community_code)), "community_code", "code_format",
                  "2–40 letters, digits or '-'", "小区编码须为2至40位字母、数字或连字符")
        v.require(bool(cmd.name.strip()), "name", "required", "name is required", "缺少小区名称")
        v.require(cmd.unit in COUNTY_UNITS, "unit", "unknown_unit",
                  f"unit must be one of {', '.join(COUNTY_UNITS)}",
                  "监管单位不在莆田市七个县区（管委会）之列")
        v.require(bool(_DIVISION.match(cmd.division_code)), "division_code", "division_format",
                  "a 6-digit Fujian division code (35xxxx)", "行政区划代码须为35开头的6位数字")
        problem = uscc_problem(cmd.company_uscc)
        v.require(problem is None, "company_uscc", "uscc_check", f"USCC {problem}",
                  "统一社会信用代码不符合GB 32100-2015校验规则")
        v.require(bool(cmd.company_name.strip()), "company_name", "required",
                  "company name is required", "缺少物业服务企业名称")
        for field in ("elevator_count", "barrier_gate_count"):
            v.require(getattr(cmd, field) >= 0, field, "non_negative", "must be >= 0", "不能为负数")
        v.require(cmd.household_count >= 1, "household_count", "positive",
                  "a community has at least one household", "户数须大于0")
        v.raise_if_any()
        require_bureau_of(identity, cmd.unit)

        def execute() -> tuple[list[Community], dict[str, Any]]:
            community_id = Community.create_id(cmd.community_code)
            if community_id in self.repository:
                raise AlreadyExists(f"community {cmd.community_code} is registered already",
                                    f"小区 {cmd.community_code} 已登记")
            community = Community(
                code=cmd.community_code, name=cmd.name, address=cmd.address, unit=cmd.unit,
                division_code=cmd.division_code, township=cmd.township,
                company_uscc=cmd.company_uscc, company_name=cmd.company_name,
                signboard_at_main_entrance=cmd.signboard_at_main_entrance,
                elevator_count=cmd.elevator_count, barrier_gate_count=cmd.barrier_gate_count,
                has_leasable_space=cmd.has_leasable_space, household_count=cmd.household_count,
            )
            return [community], {"community_id": str(community.id), "version": community.version}

        return self.run_once("RegisterCommunity", cmd.request_id, cmd, execute)

    def file_disclosure(self, identity: Identity, cmd: FileDisclosure) -> dict[str, Any]:
        now = self.clock()
        v = Validator()
        _require_request_id(v, cmd.request_id)
        v.require(2000 <= cmd.year <= 2100, "year", "year_range", "year must be 2000–2100",
                  "年度须在2000至2100之间")
        quarter_ok = v.require(cmd.quarter in (1, 2, 3, 4), "quarter", "quarter_range",
                               "quarter must be 1–4", "季度须为1至4")
        period = Quarter(cmd.year, cmd.quarter) if quarter_ok else None
        if period is not None and 2000 <= cmd.year <= 2100:
            v.require(now >= period.end, "quarter", "quarter_not_over",
                      f"{period} is not over yet", f"{period} 尚未结束，不能公示")
        v.violations.extend(cmd.content.check())
        v.raise_if_any()
        assert period is not None
        community = self._community(cmd.community_code)
        require_filer_for(identity, community.unit, community.company_uscc)

        def execute() -> tuple[list[Disclosure], dict[str, Any]]:
            disclosure_id = Disclosure.create_id(cmd.community_code, period.year, period.quarter)
            if disclosure_id in self.repository:
                raise AlreadyExists(
                    f"the disclosure of {cmd.community_code} for {period} is filed already; "
                    "amend it instead",
                    f"小区 {cmd.community_code} {period} 的公示已提交，如需更正请提交更正",
                )
            disclosure = Disclosure(
                community_id=community.id, community_code=community.code, unit=community.unit,
                company_uscc=community.company_uscc, year=period.year, quarter=period.quarter,
                content=cmd.content.to_state(), late=period.is_late(now), filed_at=now,
            )
            return [disclosure], {
                "disclosure_id": str(disclosure.id), "version": disclosure.version,
                "late": disclosure.late, "zero_revenue": cmd.content.zero_revenue,
            }

        return self.run_once("FileDisclosure", cmd.request_id, cmd, execute)

    def amend_disclosure(self, identity: Identity, cmd: AmendDisclosure) -> dict[str, Any]:
        v = Validator()
        _require_request_id(v, cmd.request_id)
        disclosure_uuid = _parse_uuid(v, "disclosure_id", cmd.disclosure_id)
        v.require(cmd.expected_version >= 1, "expected_version", "positive",
                  "the version being amended is required", "须注明所更正的版本号")
        v.require(bool(cmd.reason.strip()), "reason", "required",
                  "an amendment needs its reason", "更正须说明理由")
        v.violations.extend(cmd.content.check())
        v.raise_if_any()
        assert disclosure_uuid is not None
        disclosure = self._disclosure(disclosure_uuid)
        require_filer_for(identity, disclosure.unit, disclosure.company_uscc)

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

    # -- queries ---------------------------------------------------------------------------

    def get_disclosure(
        self, identity: Identity, disclosure_id: str, version: int
    ) -> DisclosureView:
        v = Validator()
        disclosure_uuid = _parse_uuid(v, "disclosure_id", disclosure_id)
        v.require(version >= 0, "version", "non_negative", "0 (latest) or a version",
                  "版本号须为0（最新）或正整数")
        v.raise_if_any()
        assert disclosure_uuid is not None
        latest = self._disclosure(disclosure_uuid)
        require_reader_of(identity, latest.unit, latest.company_uscc)
        disclosure = latest
        if version:
            if version > latest.version:
                raise NotFound(f"disclosure has no version {version}", f"该公示没有第 {version} 版")
            disclosure = self._disclosure_at(disclosure_uuid, version)
        return DisclosureView(
            disclosure_id=str(disclosure.id), version=disclosure.version,
            community_code=disclosure.community_code, unit=disclosure.unit,
            year=disclosure.year, quarter=disclosure.quarter, content=disclosure.content,
            late=disclosure.late, filed_at=disclosure.filed_at.astimezone(UTC).isoformat(),
            revision=disclosure.revision, amendment_reason=disclosure.amendment_reason,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _community(self, code: str) -> Community:
        community = self.find(Community.create_id(code), Community)
        if community is None:
            raise NotFound(f"community {code} is not registered", f"小区 {code} 未登记")
        return community

    def _disclosure(self, disclosure_id: uuid.UUID) -> Disclosure:
        disclosure = self.find(disclosure_id, Disclosure)
        if disclosure is None:
            raise NotFound(f"disclosure {disclosure_id} does not exist", "公示记录不存在")
        return disclosure


    def _disclosure_at(self, disclosure_id: uuid.UUID, version: int) -> Disclosure:
        disclosure = self.find(disclosure_id, Disclosure, version=version)
        assert disclosure is not None
        return disclosure


def _require_request_id(v: Validator, request_id: str) -> None:
    v.require(0 < len(request_id) <= 100, "request_id", "required",
              "a client request_id (1–100 chars) makes retries safe", "缺少请求编号 request_id")


def _parse_uuid(v: Validator, field: str, text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        v.add(field, "uuid_format", "must be a UUID", "编号格式错误")
        return None
