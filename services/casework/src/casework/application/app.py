"""The casework application: complaints to closure, rectification cases, police referrals."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from casework.application import ledgers
from casework.application.access import (
    HISTORY_READS,
    POLICY,
    authorize,
    case_facts,
    list_filter,
)
from casework.application.ports import (
    CaseReadModel,
    CaseRow,
    PersonalDataRead,
    PersonalDataReadLog,
    PersonalDataVault,
    WarningRow,
)
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
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.agencies import SUBJECT_PATTERNS, SubjectKind
from pubrev_contracts.vocabulary.sources import local, plan
from pubrev_contracts.vocabulary.units import COUNTY_UNITS, UNITS
from servicekit.errors import Conflict, NotFound, Validator
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import CITY_UNIT, Identity
from servicekit.policy import Resource

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ACTION_RPCS = {
    "assign": "AssignCase",
    "start_investigation": "StartInvestigation",
    "resolve": "ResolveCase",
    "give_feedback": "GiveFeedback",
    "close": "CloseCase",
    "record_joint_meeting": "RecordJointMeeting",
    "flag_typical": "FlagTypicalCase",
    "refer_to_police": "ReferToPolice",
    "police_acknowledge": "AcknowledgeReferral",
    "report_police_outcome": "ReportPoliceOutcome",
    "shred_personal_data": "ShredPersonalData",
}
"""Each lifecycle action and the RPC whose policy row governs it."""
POLICE_OFFICE = re.compile(SUBJECT_PATTERNS[SubjectKind.POLICE_OFFICE])


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class CaseTimeLimits:
    """Days to close a complaint, by channel (configurable, versioned). The plan asks for
    timely handling (五（三）: 及时处理) but sets no number, so these are the bureau's own.
    A rectification case's deadline is the one inspection ordered (RectificationOrdered)."""

    version: str = "putian-casework-2023.1"
    complaint_days: int = 30
    handed_down_days: int = 15
    legal_basis: str = (
        f"{plan('五（三）')}；"
        + local("投诉办理时限30日，上级交办件15日")
        + f"；期限计算：{TIME_LIMIT_BASIS}"
    )


PURPOSES = {
    "investigation": "调查核实",
    "feedback": "反馈处理结果",
    "follow_up": "回访投诉人",
    "mediation": "组织调解",
    "complainant_request": "投诉人查询办理情况",
}
"""Why the handling bureau reads a complainant's name and phone (个人信息保护法 Art. 6: a
clear purpose, the least needed): each read names one, and it is recorded with the read."""
NOTE_MAX = 200
READS_PAGE_MAX = 1000


@dataclass(frozen=True)
class PersonalDataRetention:
    """How long a closed complaint's personal data is kept (个人信息保护法 Art. 19: no
    longer than necessary for the purpose). The period is the bureau's own: no source sets
    one. A year after closure outlasts the complainant's 60 days to apply for
    reconsideration (行政复议法 Art. 20) and six months to sue (行政诉讼法 Art. 46) over the
    handling, during which the bureau may need to reach the complainant again."""

    version: str = "putian-pii-retention-2026.1"
    days_after_closure: int = 365

    @property
    def legal_basis(self) -> str:
        return (
            "《中华人民共和国个人信息保护法》第十九条；"
            + local(f"投诉办结后保存投诉人个人信息{self.days_after_closure}日")
            + f"（{self.version}）"
        )


ORPHAN_KEY_GRACE = timedelta(days=1)
"""A data key whose case never came to be (the complaint's commit failed after its key was
stored) is destroyed once this old: a complaint being received right now is younger."""


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
    """A case as its readers see it: never the complainant's name and phone, which only
    ReadComplainant discloses, with a purpose, recorded."""

    case: Case
    overdue: bool
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComplainantView:
    """ReadComplainant's answer: the name and phone, and the record of this read (None when
    nothing was disclosed: shredded, or a case that holds none)."""

    case_id: str
    name: str
    phone: str
    shredded: bool
    read: PersonalDataRead | None


class CaseworkApplication(ServiceApplication):
    name = "casework"
    policy = POLICY
    history_reads = HISTORY_READS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = _utcnow,
        limits: CaseTimeLimits | None = None,
        retention: PersonalDataRetention | None = None,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.limits = limits or CaseTimeLimits()
        self.retention = retention or PersonalDataRetention()
        self._vault: PersonalDataVault | None = None
        self._read_model: CaseReadModel | None = None
        self._read_log: PersonalDataReadLog | None = None

    def wire(
        self,
        vault: PersonalDataVault,
        read_model: CaseReadModel | None,
        read_log: PersonalDataReadLog | None = None,
    ) -> None:
        self._vault = vault
        self._read_model = read_model
        self._read_log = read_log

    @property
    def vault(self) -> PersonalDataVault:
        if self._vault is None:
            raise RuntimeError("no personal-data vault wired (see bootstrap)")
        return self._vault

    @property
    def read_log(self) -> PersonalDataReadLog:
        if self._read_log is None:
            raise RuntimeError("no personal-data read log wired (see bootstrap)")
        return self._read_log

    @property
    def read_model(self) -> CaseReadModel:
        if self._read_model is None:
            raise RuntimeError("no read model wired (see bootstrap)")
        return self._read_model

    # -- commands --------------------------------------------------------------------------

    def receive_complaint(self, identity: Identity, cmd: Complaint) -> dict[str, Any]:
        POLICY.admit("ReceiveComplaint", identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        v.require(
            cmd.channel in CHANNELS,
            "channel",
            "unknown_channel",
            f"one of {', '.join(CHANNELS)}",
            "投诉渠道不正确",
        )
        v.require(
            cmd.unit in COUNTY_UNITS,
            "unit",
            "unknown_unit",
            "the handling unit: one of the 7 county-level units",
            "承办单位不正确",
        )
        v.require(
            bool(cmd.category.strip()), "category", "required", "category required", "缺少投诉类别"
        )
        v.require(
            bool(cmd.community_code or cmd.company_uscc),
            "community_code",
            "subject_missing",
            "name a community or a company",
            "须注明被投诉的小区或物业服务企业",
        )
        # Complainants call from landlines too: the kernel's one contact-number rule.
        phone = cmd.complainant_phone
        v.require(
            not phone or contact.is_contact_number(phone),
            "complainant_phone",
            contact.RULE,
            contact.DESCRIPTION,
            contact.DESCRIPTION_ZH,
        )
        # Stored in UTC, within the platform's window of the service's clock.
        received_at = v.require_instant(cmd.received_at, "received_at", self.clock(), "受理时间")
        v.raise_if_any()
        authorize(
            POLICY,
            "ReceiveComplaint",
            identity,
            Resource(unit=cmd.unit, company=cmd.company_uscc, community=cmd.community_code),
        )
        received = received_at or self.clock()
        days = (
            self.limits.handed_down_days
            if cmd.channel == "handed_down"
            else self.limits.complaint_days
        )

        def execute() -> tuple[list[Case], dict[str, Any]]:
            key = f"complaint:{uuid.uuid4()}"
            case_id = Case.create_id(key)
            sealed = self.vault.seal(
                case_id, {"name": cmd.complainant_name, "phone": cmd.complainant_phone}
            )
            due_on, due_at, provisional = time_limit(received, days)
            if provisional:
                log.warning(
                    "complaint time limit ends in a year the holiday calendar lacks:"
                    " the nominal day stands until the year is entered",
                    extra={"case_key": key, "due_on": due_on.isoformat()},
                )
            case = Case(
                key,
                "complaint",
                cmd.channel,
                cmd.major,
                cmd.unit,
                cmd.community_code,
                cmd.company_uscc,
                cmd.category,
                cmd.description,
                received,
                due_at,
                sealed,
                "",
                due_on,
            )
            return [case], {"case_id": str(case.id), "due_at": case.due_at.isoformat()}

        # Personal data is not fingerprinted in clear: a hash of it suffices for the retry
        # check and keeps it out of the receipt.
        payload = (
            cmd.request_id,
            cmd.channel,
            cmd.unit,
            cmd.community_code,
            cmd.category,
            cmd.description,
        )
        return self.run_once("ReceiveComplaint", cmd.request_id, payload, execute)

    def open_rectification_case(
        self,
        finding_id: str,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        deadline: datetime,
        found_at: datetime,
        delivery: DeliveryRef,
    ) -> bool:
        """Each ViolationFound opens a rectification case, once."""
        if self.already_applied(delivery):
            return False
        key = f"rectification:{finding_id}"
        if self.exists(Case.create_id(key)):
            return self.record(delivery=delivery)
        case = Case(
            key,
            "rectification",
            "inspection",
            False,
            unit,
            community_code,
            company_uscc,
            f"violation:{kind}",
            "",
            found_at,
            deadline,
            "",
            finding_id,
        )
        return self.record(case, delivery=delivery)

    def act(
        self, identity: Identity, request_id: str, case_id: str, action: str, *args: Any
    ) -> Case:
        """Runs one lifecycle action on a case, under the policy row of its RPC
        (ACTION_RPCS): checked on the case before the command, and again on the case as the
        command finds it (it may have moved meanwhile)."""
        rpc = ACTION_RPCS[action]
        POLICY.admit(rpc, identity)
        v = Validator()
        v.require_request_id(request_id)
        self._validate(v, action, args)
        v.raise_if_any()
        self._authorise(rpc, identity, self.case(case_id), action, args)

        def execute() -> tuple[list[Case], dict[str, Any]]:
            current = self.case(case_id)
            self._authorise(rpc, identity, current, action, args)
            self._apply(current, action, args)
            return [current], {"case_id": case_id, "version": current.version}

        self.run_once(action, request_id, (case_id, *map(str, args)), execute)
        if action == "shred_personal_data":
            # The shredding is recorded first, then the key destroyed: should this stop in
            # between, the case says shredded (nothing is disclosed) and the retention job
            # destroys the key it finds left.
            self.vault.shred(uuid.UUID(case_id))
        return self.case(case_id)

    def _authorise(
        self, rpc: str, identity: Identity, case: Case, action: str, args: tuple[Any, ...]
    ) -> None:
        facts = case_facts(case)
        if (
            POLICY.decide(rpc, identity, facts) is None
            and POLICY.decide("GetCase", identity, facts) is None
        ):
            # A case the caller may not even read does not exist for it.
            raise NotFound(f"case {case.id} does not exist", "案件不存在")
        authorize(POLICY, rpc, identity, facts)
        if action == "assign" and args[0] != case.unit:
            # Moving a case puts it in another unit: the caller's jurisdiction must hold
            # there too, so only the city moves a case across units (DOMAIN.md §2).
            authorize(POLICY, rpc, identity, replace(facts, unit=args[0]))

    @staticmethod
    def _validate(v: Validator, action: str, args: tuple[Any, ...]) -> None:
        """The arguments of an action, checked before anything is authorized or written."""
        if action == "assign":
            v.require(
                args[0] in COUNTY_UNITS,
                "unit",
                "unknown_unit",
                "a county-level unit",
                "承办单位不正确",
            )
        elif action == "resolve":
            v.require(
                bool(str(args[0]).strip()), "result", "required", "the result", "缺少处理结果"
            )
        elif action == "give_feedback":
            channel, content = args
            v.require(
                channel in FEEDBACK_CHANNELS,
                "channel",
                "unknown_channel",
                f"one of {', '.join(FEEDBACK_CHANNELS)}",
                "反馈方式不正确",
            )
            v.require(
                bool(str(content).strip()), "content", "required", "what was said", "缺少反馈内容"
            )
        elif action == "record_joint_meeting":
            _, agencies, decision = args
            v.require(bool(agencies), "agencies", "required", "who met", "缺少参会单位")
            v.require(
                bool(str(decision).strip()),
                "decision",
                "required",
                "what was decided",
                "缺少会议决定",
            )
        elif action == "refer_to_police":
            office, offence, _, _ = args
            v.require(
                bool(office),
                "police_office",
                "required",
                "the police office",
                "缺少接收移送的公安机关",
            )
            v.require(
                offence in OFFENCES,
                "suspected_offence",
                "unknown_offence",
                f"one of {', '.join(OFFENCES)}",
                "涉嫌罪名不正确",
            )
        elif action == "report_police_outcome":
            v.require(
                args[0] in POLICE_OUTCOMES,
                "outcome",
                "unknown_outcome",
                f"one of {', '.join(POLICE_OUTCOMES)}",
                "处理结果不正确",
            )

    def _apply(self, case: Case, action: str, args: tuple[Any, ...]) -> None:
        if action == "assign":
            unit, township, assignee = args
            case.assign(unit, township, assignee)
        elif action == "start_investigation":
            case.start_investigation()
        elif action == "resolve":
            (result,) = args
            case.resolve(result)
        elif action == "give_feedback":
            channel, content = args
            case.give_feedback(channel, content)
        elif action == "close":
            case.close(self.clock())
        elif action == "record_joint_meeting":
            meeting_date, agencies, decision = args
            case.record_joint_meeting(meeting_date, list(agencies), decision)
        elif action == "flag_typical":
            (reason,) = args
            case.flag_typical(reason)
        elif action == "refer_to_police":
            office, offence, evidence, summary = args
            case.refer_to_police(office, offence, list(evidence), summary)
        elif action == "police_acknowledge":
            case.police_acknowledge()
        elif action == "report_police_outcome":
            outcome, note = args
            case.report_police_outcome(outcome, note)
        elif action == "shred_personal_data":
            case.note_shredded(self.clock())
        else:  # pragma: no cover - a programming error
            raise ValueError(action)

    # -- queries ---------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        try:
            case = self.find(uuid.UUID(case_id), Case)
        except ValueError:
            case = None
        if case is None:
            raise NotFound(f"case {case_id[:40]} does not exist", "案件不存在")
        return case

    def view(self, identity: Identity, case_id: str) -> CaseView:
        POLICY.admit("GetCase", identity)
        case = self.case(case_id)
        if POLICY.decide("GetCase", identity, case_facts(case)) is None:
            # Not even its existence is confirmed to those who may not read it.
            raise NotFound(f"case {case_id[:40]} does not exist", "案件不存在")
        return CaseView(case, case.is_overdue(self.clock()))

    # -- personal data ---------------------------------------------------------------------

    def read_complainant(
        self, identity: Identity, case_id: str, purpose: str, note: str = ""
    ) -> ComplainantView:
        """The complainant's name and phone, for the handling unit's bureau (DOMAIN.md §7),
        with the purpose of the read. The read is recorded (who, through which front end,
        when, which case, why) before the data is returned: a read that cannot be recorded
        discloses nothing."""
        POLICY.admit("ReadComplainant", identity)
        v = Validator()
        v.require(
            purpose in PURPOSES,
            "purpose",
            "unknown_purpose",
            f"why the personal data is read: one of {', '.join(PURPOSES)}",
            "须说明查看投诉人个人信息的目的：" + "、".join(PURPOSES.values()),
        )
        v.require(
            len(note) <= NOTE_MAX,
            "note",
            "too_long",
            f"at most {NOTE_MAX} characters",
            f"备注不超过{NOTE_MAX}字",
        )
        v.raise_if_any()
        case = self.case(case_id)
        facts = case_facts(case)
        if (
            POLICY.decide("ReadComplainant", identity, facts) is None
            and POLICY.decide("GetCase", identity, facts) is None
        ):
            raise NotFound(f"case {case_id[:40]} does not exist", "案件不存在")
        authorize(POLICY, "ReadComplainant", identity, facts)
        if not case.sealed_personal_data:  # a rectification case: nobody complained
            return ComplainantView(str(case.id), "", "", False, None)
        data = None if case.shredded else self.vault.open(case.id, case.sealed_personal_data)
        if data is None:
            return ComplainantView(str(case.id), "", "", True, None)
        read = self.read_log.record(
            PersonalDataRead(
                self.clock(),
                str(case.id),
                case.unit,
                identity.render(),
                identity.via,
                purpose,
                note,
                ("name", "phone"),
            )
        )
        return ComplainantView(
            str(case.id), data.get("name", ""), data.get("phone", ""), False, read
        )

    def list_personal_data_reads(
        self,
        identity: Identity,
        unit: str,
        case_id: str,
        since: datetime | None,
        until: datetime | None,
        after_read_id: int,
        limit: int,
    ) -> list[PersonalDataRead]:
        """The recorded reads of complainants' personal data, oldest first, of a unit (none
        asked: every unit), a case, a period [since, until); paged by the last read id."""
        POLICY.admit("ListPersonalDataReads", identity)
        v = Validator()
        v.require(
            not unit or unit in COUNTY_UNITS,
            "unit",
            "unknown_unit",
            "a county-level unit",
            "承办单位不正确",
        )
        v.require(
            not case_id or _is_uuid(case_id),
            "case_id",
            "case_id_format",
            "a case id (UUID)",
            "案件编号格式错误",
        )
        for name, value in (("since", since), ("until", until)):
            v.require(
                value is None or value.tzinfo is not None,
                name,
                "time_format",
                "RFC 3339 with offset",
                "时间格式错误",
            )
        if since and until and since.tzinfo and until.tzinfo:
            v.require(
                since <= until,
                "until",
                "before_since",
                "not before since",
                "截止时间不能早于起始时间",
            )
        v.require(
            after_read_id >= 0,
            "after_read_id",
            "non_negative",
            "0 or a read id",
            "分页位置不能为负",
        )
        v.require(
            0 <= limit <= READS_PAGE_MAX,
            "limit",
            "limit_range",
            f"0 (100) to {READS_PAGE_MAX}",
            f"每页条数为0至{READS_PAGE_MAX}",
        )
        v.raise_if_any()
        authorize(POLICY, "ListPersonalDataReads", identity, Resource(unit=unit))
        units = [unit] if unit else list(COUNTY_UNITS)
        return self.read_log.reads(
            units,
            str(uuid.UUID(case_id)) if case_id else "",
            since,
            until,
            after_read_id,
            limit or 100,
        )

    def shred_expired_personal_data(self) -> int:
        """The retention job (projector role): every closed complaint whose personal data
        has been kept its retention period after closure is archived (the shredding recorded
        as an event of the case) and its key destroyed; how many. Also destroys what a crash
        left: the key of a case already shredded, and keys whose case never came to be."""
        now = self.clock()
        days = self.retention.days_after_closure
        archived = 0
        for held in self.vault.held():
            case = self.find(held.case_id, Case)
            if case is None:
                if held.created_at <= now - ORPHAN_KEY_GRACE:
                    self.vault.shred(held.case_id)
                    log.info(
                        "data key of a case that never came to be destroyed",
                        extra={"case_id": str(held.case_id)},
                    )
                continue
            if not case.shredded:
                ends = case.retention_ends(days)
                if ends is None or now < ends:
                    continue
                case.archive(now, days, self.retention.legal_basis)
                try:
                    self.record(case)
                except Conflict:
                    continue  # changed meanwhile: the next run sees it again
                archived += 1
            self.vault.shred(case.id)
        return archived

    def monthly_ledgers(
        self, identity: Identity, unit: str, year: int, month: int
    ) -> MonthlyLedgers:
        """The problem/lead ledger and the work ledger of a unit for a month (Shanghai), and
        the day they are due at the city. CalendarNotConfigured (FAILED_PRECONDITION) for a
        month of a year the holiday calendar lacks: the due date is never guessed."""
        POLICY.admit("ExportMonthlyLedgers", identity)
        v = Validator()
        v.require(unit in COUNTY_UNITS, "unit", "unknown_unit", "a county-level unit", "单位不正确")
        v.require(2020 <= year <= 2100, "year", "year_range", "2020–2100", "年度不正确")
        v.require(1 <= month <= 12, "month", "month_range", "1–12", "月份不正确")
        v.raise_if_any()
        authorize(POLICY, "ExportMonthlyLedgers", identity, Resource(unit=unit))
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

    def list_warnings(
        self, identity: Identity, unit: str, rule: str, include_closed: bool
    ) -> list[WarningRow]:
        """Warnings of the unit asked for; none asked: the caller's unit (the city: every
        unit's and the city's own)."""
        POLICY.admit("ListWarnings", identity)
        v = Validator()
        v.require(
            not unit or unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确"
        )
        v.raise_if_any()
        scope = list_filter(POLICY, "ListWarnings", identity, unit)
        self.read_model.catch_up()
        units = [scope.unit] if scope.unit else [*COUNTY_UNITS, CITY_UNIT]
        return self.read_model.warnings(units, rule, include_closed)

    def list_cases(
        self,
        identity: Identity,
        unit: str,
        status: str,
        overdue_only: bool,
        police_office: str = "",
    ) -> list[CaseRow]:
        """Cases of the unit (and police office) asked for; what is not asked is forced
        from the caller's grant: a county's are its unit's, the police's their referrals."""
        POLICY.admit("ListCases", identity)
        v = Validator()
        v.require(
            not unit or unit in COUNTY_UNITS,
            "unit",
            "unknown_unit",
            "a county-level unit",
            "承办单位不正确",
        )
        v.require(
            not police_office or POLICE_OFFICE.fullmatch(police_office) is not None,
            "police_office",
            "police_office_format",
            "a police office's name",
            "公安机关名称格式错误",
        )
        v.raise_if_any()
        scope = list_filter(POLICY, "ListCases", identity, unit, police_office)
        self.read_model.catch_up()
        units = [scope.unit] if scope.unit else list(COUNTY_UNITS)
        return self.read_model.cases(
            units, status, self.clock() if overdue_only else None, scope.office
        )
