"""The casework application: complaints to closure, rectification cases, police referrals."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from campaign import contact
from campaign.sources import local, plan
from casework.application import ledgers
from casework.application.ports import CaseReadModel, CaseRow, PersonalDataVault, WarningRow
from casework.domain import reporting
from casework.domain.case import (
    CHANNELS,
    FEEDBACK_CHANNELS,
    OFFENCES,
    POLICE_OUTCOMES,
    TIME_LIMIT_BASIS,
    Case,
    time_limit,
)
from pubrev_contracts.units import COUNTY_UNITS
from servicekit.errors import NotFound, PermissionDenied, Validator
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import Identity

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BUREAU = "property-bureau"
POLICE = "police"
TOWNSHIP = "township"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CaseTimeLimits:
    """Days to close a complaint, by channel (configurable, versioned). The plan asks for
    timely handling (五（三）: 及时处理) but sets no number, so these are the bureau's own.
    A rectification case's deadline is the one inspection ordered (RectificationOrdered)."""

    version: str = "putian-casework-2023.1"
    complaint_days: int = 30
    handed_down_days: int = 15
    legal_basis: str = (f"{plan('五（三）')}；"
                        + local("投诉办理时限30日，上级交办件15日")
                        + f"；期限计算：{TIME_LIMIT_BASIS}")


@dataclass(frozen=True)
class Complaint:
    request_id: str
    channel: str
    major: bool
    community_code: str
    company_uscc: str
    category: str
    description: str
    unit: str
    complainant_name: str
    complainant_phone: str
    received_at: datetime | None


@dataclass(frozen=True)
class MonthlyLedgers:
    """双台账 of a unit and month, with the day they are due at the city (plan 六（四）)."""

    problems: list[dict[str, Any]]
    work: list[dict[str, Any]]
    due_on: date
    due_legal_basis: str


@dataclass
class CaseView:
    case: Case
    personal_data: dict[str, str] | None
    overdue: bool
    extra: dict[str, Any] = field(default_factory=dict)


class CaseworkApplication(ServiceApplication):
    name = "casework"

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = _utcnow,
                 limits: CaseTimeLimits | None = None) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.limits = limits or CaseTimeLimits()
        self._vault: PersonalDataVault | None = None
        self._read_model: CaseReadModel | None = None

    def wire(self, vault: PersonalDataVault, read_model: CaseReadModel | None) -> None:
        self._vault = vault
        self._read_model = read_model

    @property
    def vault(self) -> PersonalDataVault:
        if self._vault is None:
            raise RuntimeError("no personal-data vault wired (see bootstrap)")
        return self._vault

    @property
    def read_model(self) -> CaseReadModel:
        if self._read_model is None:
            raise RuntimeError("no read model wired (see bootstrap)")
        return self._read_model

    # -- commands --------------------------------------------------------------------------

    def receive_complaint(self, identity: Identity, cmd: Complaint) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(cmd.request_id)
        v.require(cmd.channel in CHANNELS, "channel", "unknown_channel",
                  f"one of {', '.join(CHANNELS)}", "投诉渠道不正确")
        v.require(cmd.unit in COUNTY_UNITS, "unit", "unknown_unit",
                  "the handling unit: one of the 7 county-level units", "承办单位不正确")
        v.require(bool(cmd.category.strip()), "category", "required", "category required",
                  "缺少投诉类别")
        v.require(bool(cmd.community_code or cmd.company_uscc), "community_code",
                  "subject_missing", "name a community or a company",
                  "须注明被投诉的小区或物业服务企业")
        # Complainants call from landlines too: the kernel's one contact-number rule.
        phone = cmd.complainant_phone
        v.require(not phone or contact.is_contact_number(phone), "complainant_phone",
                  contact.RULE, contact.DESCRIPTION, contact.DESCRIPTION_ZH)
        v.require(cmd.received_at is None or cmd.received_at.tzinfo is not None,
                  "received_at", "time_format", "RFC 3339 with offset", "受理时间格式错误")
        v.raise_if_any()
        if identity.agency != BUREAU or not identity.may_access_unit(cmd.unit):
            raise PermissionDenied("complaints are received by the property bureau",
                                   "投诉由物业管理主管部门受理")
        received = cmd.received_at or self.clock()
        days = (self.limits.handed_down_days if cmd.channel == "handed_down"
                else self.limits.complaint_days)

        def execute() -> tuple[list[Case], dict[str, Any]]:
            key = f"complaint:{uuid.uuid4()}"
            case_id = Case.create_id(key)
            sealed = self.vault.seal(case_id, {"name": cmd.complainant_name,
                                               "phone": cmd.complainant_phone})
            due_on, due_at, provisional = time_limit(received, days)
            if provisional:
                log.warning("complaint time limit ends in a year the holiday calendar lacks:"
                            " the nominal day stands until the year is entered",
                            extra={"case_key": key, "due_on": due_on.isoformat()})
            case = Case(key, "complaint", cmd.channel, cmd.major, cmd.unit,
                        cmd.community_code, cmd.company_uscc, cmd.category, cmd.description,
                        received, due_at, sealed, "", due_on)
            return [case], {"case_id": str(case.id), "due_at": case.due_at.isoformat()}

        # Personal data is not fingerprinted in clear: a hash of it suffices for the retry
        # check and keeps it out of the receipt.
        payload = (cmd.request_id, cmd.channel, cmd.unit, cmd.community_code, cmd.category,
                   cmd.description)
        return self.run_once("ReceiveComplaint", cmd.request_id, payload, execute)

    def open_rectification_case(self, finding_id: str, unit: str, community_code: str,
                                company_uscc: str, kind: str, deadline: datetime,
                                found_at: datetime, delivery: DeliveryRef) -> bool:
        """Each ViolationFound opens a rectification case, once."""
        if self.already_applied(delivery):
            return False
        key = f"rectification:{finding_id}"
        if self.exists(Case.create_id(key)):
            return self.record(delivery=delivery)
        case = Case(key, "rectification", "inspection", False, unit, community_code,
                    company_uscc, f"violation:{kind}", "", found_at, deadline, "", finding_id)
        return self.record(case, delivery=delivery)

    def act(self, identity: Identity, request_id: str, case_id: str, action: str,
            *args: Any) -> Case:
        """Runs one lifecycle action on a case the caller may handle."""
        v = Validator()
        v.require_request_id(request_id)
        v.raise_if_any()
        case = self.case(case_id)
        self._authorise(identity, case, action)

        def execute() -> tuple[list[Case], dict[str, Any]]:
            current = self.case(case_id)
            self._apply(current, action, args)
            return [current], {"case_id": case_id, "version": current.version}

        self.run_once(action, request_id, (case_id, *map(str, args)), execute)
        return self.case(case_id)

    def _apply(self, case: Case, action: str, args: tuple[Any, ...]) -> None:
        v = Validator()
        if action == "assign":
            unit, township, assignee = args
            v.require(unit in COUNTY_UNITS, "unit", "unknown_unit", "a county-level unit",
                      "承办单位不正确")
            v.raise_if_any()
            case.assign(unit, township, assignee)
        elif action == "start_investigation":
            case.start_investigation()
        elif action == "resolve":
            (result,) = args
            v.require(bool(str(result).strip()), "result", "required", "the result",
                      "缺少处理结果")
            v.raise_if_any()
            case.resolve(result)
        elif action == "give_feedback":
            channel, content = args
            v.require(channel in FEEDBACK_CHANNELS, "channel", "unknown_channel",
                      f"one of {', '.join(FEEDBACK_CHANNELS)}", "反馈方式不正确")
            v.require(bool(str(content).strip()), "content", "required", "what was said",
                      "缺少反馈内容")
            v.raise_if_any()
            case.give_feedback(channel, content)
        elif action == "close":
            case.close(self.clock())
        elif action == "record_joint_meeting":
            meeting_date, agencies, decision = args
            v.require(bool(agencies), "agencies", "required", "who met", "缺少参会单位")
            v.require(bool(str(decision).strip()), "decision", "required", "what was decided",
                      "缺少会议决定")
            v.raise_if_any()
            case.record_joint_meeting(meeting_date, list(agencies), decision)
        elif action == "flag_typical":
            (reason,) = args
            case.flag_typical(reason)
        elif action == "refer_to_police":
            office, offence, evidence, summary = args
            v.require(bool(office), "police_office", "required", "the police office",
                      "缺少接收移送的公安机关")
            v.require(offence in OFFENCES, "suspected_offence", "unknown_offence",
                      f"one of {', '.join(OFFENCES)}", "涉嫌罪名不正确")
            v.raise_if_any()
            case.refer_to_police(office, offence, list(evidence), summary)
        elif action == "police_acknowledge":
            case.police_acknowledge()
        elif action == "report_police_outcome":
            outcome, note = args
            v.require(outcome in POLICE_OUTCOMES, "outcome", "unknown_outcome",
                      f"one of {', '.join(POLICE_OUTCOMES)}", "处理结果不正确")
            v.raise_if_any()
            case.report_police_outcome(outcome, note)
        elif action == "shred_personal_data":
            self.vault.shred(case.id)
            case.note_shredded()
        else:  # pragma: no cover - a programming error
            raise ValueError(action)

    def _authorise(self, identity: Identity, case: Case, action: str) -> None:
        if identity.agency == POLICE:
            # The police see and act only on cases referred to their office.
            if action in ("police_acknowledge", "report_police_outcome") and \
                    case.police_office and case.police_office == identity.subject:
                return
            raise PermissionDenied("the police act only on cases referred to them",
                                   "公安机关仅能办理移送给本单位的案件")
        if action in ("police_acknowledge", "report_police_outcome"):
            raise PermissionDenied("only the police office the case was referred to",
                                   "仅接收移送的公安机关可办理")
        if identity.agency not in (BUREAU, TOWNSHIP) or not identity.may_access_unit(case.unit):
            raise PermissionDenied(f"{identity.agency}/{identity.unit} may not handle a case "
                                   f"of {case.unit}", "无权办理其他辖区的案件")

    # -- queries ---------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        try:
            case = self.find(uuid.UUID(case_id), Case)
        except ValueError:
            case = None
        if case is None:
            raise NotFound(f"case {case_id} does not exist", "案件不存在")
        return case

    def view(self, identity: Identity, case_id: str) -> CaseView:
        case = self.case(case_id)
        if identity.agency == POLICE:
            if not case.police_office or case.police_office != identity.subject:
                # Not even its existence is confirmed to other offices.
                raise NotFound(f"case {case_id} does not exist", "案件不存在")
        elif not identity.may_access_unit(case.unit):
            raise PermissionDenied("another unit's case", "无权查看其他辖区的案件")
        personal = None
        # Personal data only for the handling unit itself (not the city, not the police).
        if case.sealed_personal_data and identity.agency in (BUREAU, TOWNSHIP) \
                and identity.unit == case.unit:
            personal = self.vault.open(case.id, case.sealed_personal_data)
        return CaseView(case, personal, case.is_overdue(self.clock()))

    def monthly_ledgers(self, identity: Identity, unit: str, year: int,
                        month: int) -> MonthlyLedgers:
        """The problem/lead ledger and the work ledger of a unit for a month (Shanghai), and
        the day they are due at the city. CalendarNotConfigured (FAILED_PRECONDITION) for a
        month of a year the holiday calendar lacks: the due date is never guessed."""
        v = Validator()
        v.require(unit in COUNTY_UNITS, "unit", "unknown_unit", "a county-level unit",
                  "单位不正确")
        v.require(2020 <= year <= 2100, "year", "year_range", "2020–2100", "年度不正确")
        v.require(1 <= month <= 12, "month", "month_range", "1–12", "月份不正确")
        v.raise_if_any()
        if identity.agency not in (BUREAU, "discipline") or not identity.may_access_unit(unit):
            raise PermissionDenied("another unit's ledgers", "无权查看其他单位的台账")
        due_on = reporting.monthly_report_due(year, month)
        self.read_model.catch_up()
        problems: list[dict[str, Any]] = []
        work: list[dict[str, Any]] = []
        for row in self.read_model.cases([unit], "", None, ""):
            case = self.case(row.case_id)
            if ledgers.received_in(case, year, month):
                problems.append(ledgers.problem_row(case))
            events = list(self.repository.event_store.get(case.id))
            work += ledgers.work_rows(case, events, year, month)
        problems.sort(key=lambda r: (r["received_on"], r["case_id"]))
        work.sort(key=lambda r: (r["date"], r["case_id"]))
        return MonthlyLedgers(problems, work, due_on, reporting.LEGAL_BASIS)

    def list_warnings(self, identity: Identity, unit: str, rule: str,
                      include_closed: bool) -> list[WarningRow]:
        if identity.agency not in (BUREAU, "discipline"):
            raise PermissionDenied("warnings are for the bureau and the discipline commission",
                                   "仅主管部门和纪委监委可查看预警")
        if unit and not identity.may_access_unit(unit):
            raise PermissionDenied("another unit's warnings", "无权查看其他单位的预警")
        self.read_model.catch_up()
        units = [unit] if unit else ([*COUNTY_UNITS, "putian"] if identity.is_city
                                     else [identity.unit])
        return self.read_model.warnings(units, rule, include_closed)

    def list_cases(self, identity: Identity, unit: str, status: str,
                   overdue_only: bool) -> list[CaseRow]:
        self.read_model.catch_up()
        now = self.clock()
        if identity.agency == POLICE:
            return self.read_model.cases(list(COUNTY_UNITS), status, now if overdue_only
                                         else None, identity.subject)
        if unit and not identity.may_access_unit(unit):
            raise PermissionDenied("another unit's cases", "无权查看其他辖区的案件")
        units = [unit] if unit else (list(COUNTY_UNITS) if identity.is_city
                                     else [identity.unit])
        return self.read_model.cases(units, status, now if overdue_only else None, "")
