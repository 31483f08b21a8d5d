"""A case (案件): a complaint or a rectification followed to closure (闭环管理).

Lifecycle: received → assigned → investigating → resolved → (feedback given) → closed.
A complaint cannot close before the complainant has been told the result; nothing happens
to a closed case. A case with a joint meeting (联席会议) stays open until closed. The
complainant's name and phone are held only as ciphertext (`sealed_personal_data`); the key
lives outside the event store, so destroying it shreds them while the events stay. A closed
complaint's are shredded once its retention period runs out, and the case is archived.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event

from pubrev_contracts.vocabulary.calendar import (
    CHINA,
    CIVIL_CODE_ART_201,
    CIVIL_CODE_ART_203,
    SHANGHAI,
    CalendarNotConfigured,
    WorkCalendar,
)
from pubrev_contracts.vocabulary.sources import local, plan
from servicekit.attachments import AttachmentRef
from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("c0a8e1f2-3b4d-4c5e-9f6a-7b8c9d0e1f2a")
CHANNELS = ("hotline_12345", "phone", "email", "letters_visits", "handed_down")
"""The channels an official records a complaint from (ReceiveComplaint)."""
PUBLIC_CHANNEL = "public"
"""Lodged by the complainant through a public front end (LodgeComplaint): the channel the
plan asks to keep open to the public (四（一）: 公布投诉举报电话及邮箱…公开征集公共收益问题线索;
二（三）: 业主投诉渠道不够顺畅)."""
OFFENCES = ("embezzlement_by_staff", "misappropriation", "other")
POLICE_OUTCOMES = ("filed", "not_filed", "transferred", "closed")
FEEDBACK_CHANNELS = ("phone", "sms", "letter", "visit", "email")
SHRED_REQUESTED = "requested"
SHRED_RETENTION = "retention"
TIME_LIMIT_BASIS = f"{CIVIL_CODE_ART_201}；{CIVIL_CODE_ART_203}"
"""A time limit of N days: the receiving day not counted, the period ends at 24:00 of its
last day, and a last day that is a rest day moves to the next working day."""

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
"""A tracking number's characters: no 0/O, 1/I/L or U, which are misread over the phone."""
TRACKING_LENGTH = 12
"""30**12 ≈ 2**59 numbers: guessing one that exists is hopeless within any rate limit (the
numbers are drawn by the operating system's CSPRNG), and a number read out or typed is
still short."""
TRACKING_PATTERN = re.compile(f"[{TRACKING_ALPHABET}]{{{TRACKING_LENGTH}}}")


CSPRNG: random.Random = secrets.SystemRandom()
"""The operating system's CSPRNG, behind `random.Random`'s methods: where tracking numbers
and random ids are drawn unless a test gives a seeded `random.Random` (reproducible
samples)."""


def new_tracking_number(tokens: random.Random = CSPRNG) -> str:
    """A complaint's tracking number (查询码), drawn from `tokens` (the CSPRNG, `secrets`)."""
    return "".join(tokens.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def is_tracking_number(text: str) -> bool:
    return TRACKING_PATTERN.fullmatch(text) is not None


def phones_match(sealed: str, given: str) -> bool:
    """Whether the phone given is the complainant's (digits compared, `0594-2345678` is
    `05942345678`), in constant time over digests of equal length: how long the answer
    takes says nothing of how much of the number was right."""
    digits = [re.sub(r"[^0-9]", "", p).encode() for p in (sealed, given)]
    if not digits[0] or not digits[1]:
        return False
    return hmac.compare_digest(
        hashlib.sha256(digits[0]).digest(), hashlib.sha256(digits[1]).digest()
    )


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

    def days(self, channel: str) -> int:
        return self.handed_down_days if channel == "handed_down" else self.complaint_days


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


def end_of(day: date) -> datetime:
    """24:00 of a day in Putian: a period's last day lasts until then."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def time_limit(
    received_at: datetime, days: int, calendar: WorkCalendar = CHINA
) -> tuple[date, datetime, bool]:
    """(nominal last day, deadline, provisional) of a time limit of `days` days from
    `received_at` (TIME_LIMIT_BASIS). When the calendar lacks the last day's year the
    deadline is the nominal day's end, marked provisional: a complaint is never refused for
    want of next year's calendar, and rest days can only move a deadline later, so the
    provisional one is never laxer than the true one. Case.deadline() settles it once the
    year is entered."""
    nominal = received_at.astimezone(SHANGHAI).date() + timedelta(days=days)
    try:
        return nominal, end_of(calendar.period_end(nominal)), False
    except CalendarNotConfigured:
        return nominal, end_of(nominal), True


def _closed_guard(case: Case) -> None:
    if case.status == "closed":
        raise RuleViolated(
            "the case is closed: nothing more can be done on it", "案件已办结，不能再进行操作"
        )


class Case(Aggregate):
    class Received(Aggregate.Created):
        case_key: str
        kind: str
        channel: str
        major: bool
        unit: str
        community_code: str
        company_uscc: str
        category: str
        description: str
        received_at: datetime
        due_at: datetime
        sealed_personal_data: str
        finding_id: str
        due_on: date | None
        """v2: the nominal last day of a complaint's time limit (None for a rectification
        case, whose deadline is inspection's, and for cases received before v2)."""
        evidence: list[dict[str, object]]
        """v3: the files the complainant attached (servicekit's AttachmentRef.as_dict)."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Before v2 the time limit was received_at + N days, rest days ignored: kept as
            # stored (it was never laxer than the calendar's).
            state["due_on"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Before v3 no complaint came with files.
            state["evidence"] = []

    @event(Received)
    def __init__(
        self,
        case_key: str,
        kind: str,
        channel: str,
        major: bool,
        unit: str,
        community_code: str,
        company_uscc: str,
        category: str,
        description: str,
        received_at: datetime,
        due_at: datetime,
        sealed_personal_data: str,
        finding_id: str,
        due_on: date | None = None,
        evidence: list[dict[str, object]] | None = None,
    ) -> None:
        self.kind = kind
        self.channel = channel
        self.unit = unit
        self.township = ""
        self.community_code = community_code
        self.company_uscc = company_uscc
        self.category = category
        self.received_at = received_at
        self.due_at = due_at
        self.due_on = due_on
        self.sealed_personal_data = sealed_personal_data
        self.finding_id = finding_id
        self.status = "received"
        self.result = ""
        self.feedback_given = False
        self.typical = False
        self.joint_meetings: list[dict[str, Any]] = []
        self.police_office = ""
        self.police_status = ""
        self.shredded = False
        self.archived = False
        self.closed_at: datetime | None = None
        self.evidence: list[dict[str, object]] = list(evidence or [])

    @staticmethod
    def create_id(case_key: str) -> uuid.UUID:
        """complaint:<random> for a complaint, rectification:<finding id> for the case a
        finding opens (so a redelivered finding finds its case)."""
        return uuid.uuid5(NAMESPACE, case_key)

    @staticmethod
    def rectification_id(finding_id: str) -> uuid.UUID:
        """The rectification case a finding opens."""
        return Case.create_id(f"rectification:{finding_id}")

    @staticmethod
    def public_key(tracking_number: str) -> str:
        """The key of a complaint lodged by the public: its tracking number's digest, so the
        case's events (and its history) never hold the number, which still finds its case."""
        return "complaint:public:" + hashlib.sha256(tracking_number.encode()).hexdigest()

    @staticmethod
    def public_id(tracking_number: str) -> uuid.UUID:
        """The case of a complaint lodged with this tracking number."""
        return Case.create_id(Case.public_key(tracking_number))

    @classmethod
    def receive_complaint(
        cls,
        case_key: str,
        channel: str,
        major: bool,
        unit: str,
        community_code: str,
        company_uscc: str,
        category: str,
        description: str,
        received_at: datetime,
        sealed_personal_data: str,
        limits: CaseTimeLimits,
    ) -> Case:
        """A complaint (投诉受理), with its time limit by channel counted from the day after
        receipt (TIME_LIMIT_BASIS): provisional when the calendar lacks its last day's
        year (`due_provisional`), never refused for it."""
        due_on, due_at, _ = time_limit(received_at, limits.days(channel))
        return cls(
            case_key,
            "complaint",
            channel,
            major,
            unit,
            community_code,
            company_uscc,
            category,
            description,
            received_at,
            due_at,
            sealed_personal_data,
            "",
            due_on,
        )

    @classmethod
    def lodge_complaint(
        cls,
        tracking_number: str,
        unit: str,
        community_code: str,
        company_uscc: str,
        category: str,
        description: str,
        received_at: datetime,
        sealed_personal_data: str,
        limits: CaseTimeLimits,
        evidence: Sequence[AttachmentRef] = (),
    ) -> Case:
        """A complaint the complainant lodged (业主自行投诉, PUBLIC_CHANNEL), about a community
        and handled by the community's unit, under the time limit of a complaint
        (TIME_LIMIT_BASIS); it is found again by its tracking number (`public_id`)."""
        if not sealed_personal_data:
            raise RuleViolated(
                "a complaint lodged by the public names its complainant: the result is told "
                "to them and their status query is checked against their phone",
                "公众投诉须留有投诉人信息，以便反馈处理结果和查询办理进度",
            )
        due_on, due_at, _ = time_limit(received_at, limits.days(PUBLIC_CHANNEL))
        return cls(
            cls.public_key(tracking_number),
            "complaint",
            PUBLIC_CHANNEL,
            False,
            unit,
            community_code,
            company_uscc,
            category,
            description,
            received_at,
            due_at,
            sealed_personal_data,
            "",
            due_on,
            [e.as_dict() for e in evidence],
        )

    @classmethod
    def open_rectification(
        cls,
        finding_id: str,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        deadline: datetime,
        found_at: datetime,
    ) -> Case:
        """The case that follows a finding's rectification to its end (整改闭环), under the
        deadline inspection ordered; nobody complained, so it holds no personal data."""
        return cls(
            f"rectification:{finding_id}",
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

    @property
    def needs_feedback(self) -> bool:
        return self.kind == "complaint"

    def deadline(self, calendar: WorkCalendar = CHINA) -> datetime:
        """The time limit's end. A complaint received while the calendar lacked its last
        day's year is settled now; if the year is still missing, CalendarNotConfigured."""
        if self.due_on is None:
            return self.due_at
        return end_of(calendar.period_end(self.due_on))

    @property
    def due_provisional(self) -> bool:
        """Whether `due_at` is still the nominal day, the calendar lacking its year."""
        if self.due_on is None:
            return False
        try:
            self.deadline()
        except CalendarNotConfigured:
            return True
        return False

    def is_overdue(self, now: datetime, calendar: WorkCalendar = CHINA) -> bool:
        """Past the time limit. Before the nominal last day ends nothing is overdue and the
        calendar is not needed; after it, the calendar decides (an unknown year raises)."""
        if self.status == "closed":
            return False
        if self.due_on is not None and now < end_of(self.due_on):
            return False
        return now > self.deadline(calendar)

    class Assigned(Aggregate.Event):
        unit: str
        township: str
        assignee: str

    def assign(self, unit: str, township: str, assignee: str) -> None:
        _closed_guard(self)
        self._assigned(unit=unit, township=township, assignee=assignee)

    @event(Assigned)
    def _assigned(self, unit: str, township: str, assignee: str) -> None:
        self.unit = unit
        self.township = township
        if self.status == "received":
            self.status = "assigned"

    class InvestigationStarted(Aggregate.Event):
        unit: str

    def start_investigation(self) -> None:
        _closed_guard(self)
        if self.status not in ("received", "assigned"):
            raise RuleViolated(
                f"a {self.status} case cannot start an investigation", "当前状态不能开始调查"
            )
        self._investigating(unit=self.unit)

    @event(InvestigationStarted)
    def _investigating(self, unit: str) -> None:
        self.status = "investigating"

    class Resolved(Aggregate.Event):
        unit: str
        result: str
        evidence: list[dict[str, object]]
        """v2: the files that support the result (servicekit's AttachmentRef.as_dict)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Before v2 a result was text only.
            state["evidence"] = []

    def resolve(self, result: str, evidence: Sequence[AttachmentRef] = ()) -> None:
        _closed_guard(self)
        if self.status != "investigating":
            raise RuleViolated(
                "only a case under investigation is resolved", "案件须在调查后才能形成处理结果"
            )
        self._resolved(unit=self.unit, result=result, evidence=[e.as_dict() for e in evidence])

    @event(Resolved)
    def _resolved(self, unit: str, result: str, evidence: list[dict[str, object]]) -> None:
        self.status = "resolved"
        self.result = result
        held = {e["sha256"] for e in self.evidence}
        self.evidence = [*self.evidence, *(e for e in evidence if e["sha256"] not in held)]

    @property
    def result_told(self) -> str:
        """The handling result as the complainant has been told it: nothing before the
        feedback (处理结果同步反馈投诉人, DOMAIN.md §7), so nobody reads it first elsewhere."""
        return self.result if self.feedback_given else ""

    class FeedbackGiven(Aggregate.Event):
        unit: str
        channel: str
        content: str

    def give_feedback(self, channel: str, content: str) -> None:
        _closed_guard(self)
        if self.status != "resolved":
            raise RuleViolated(
                "feedback tells the complainant the result: resolve first",
                "须先形成处理结果再反馈投诉人",
            )
        self._feedback(unit=self.unit, channel=channel, content=content)

    @event(FeedbackGiven)
    def _feedback(self, unit: str, channel: str, content: str) -> None:
        self.feedback_given = True

    class Closed(Aggregate.Event):
        unit: str
        closed_at: datetime
        overdue: bool

    def close(self, now: datetime) -> None:
        _closed_guard(self)
        if self.status != "resolved":
            raise RuleViolated("a case is closed once resolved", "案件须形成处理结果后方可办结")
        if self.needs_feedback and not self.feedback_given:
            raise RuleViolated(
                "the complainant has not been told the result: give feedback before closing",
                "未向投诉人反馈处理结果，不能办结",
            )
        if self.police_office and self.police_status not in POLICE_OUTCOMES:
            raise RuleViolated(
                "the police have not reported an outcome of the referral",
                "移送公安的案件尚未收到处理结果，不能办结",
            )
        self._closed(unit=self.unit, closed_at=now, overdue=self.is_overdue(now))

    @event(Closed)
    def _closed(self, unit: str, closed_at: datetime, overdue: bool) -> None:
        self.status = "closed"
        self.closed_at = closed_at

    class JointMeetingRecorded(Aggregate.Event):
        unit: str
        meeting_date: str
        agencies: list[str]
        decision: str

    def record_joint_meeting(self, meeting_date: str, agencies: list[str], decision: str) -> None:
        _closed_guard(self)
        self._meeting(
            unit=self.unit, meeting_date=meeting_date, agencies=agencies, decision=decision
        )

    @event(JointMeetingRecorded)
    def _meeting(self, unit: str, meeting_date: str, agencies: list[str], decision: str) -> None:
        self.joint_meetings.append(
            {"date": meeting_date, "agencies": agencies, "decision": decision}
        )

    class FlaggedTypical(Aggregate.Event):
        unit: str
        reason: str

    def flag_typical(self, reason: str) -> None:
        self._typical(unit=self.unit, reason=reason)

    @event(FlaggedTypical)
    def _typical(self, unit: str, reason: str) -> None:
        self.typical = True

    class ReferredToPolice(Aggregate.Event):
        unit: str
        police_office: str
        suspected_offence: str
        evidence_refs: list[str]
        summary: str

    def refer_to_police(
        self, police_office: str, offence: str, evidence_refs: list[str], summary: str
    ) -> None:
        _closed_guard(self)
        if self.police_office:
            raise RuleViolated("the case is referred already", "案件已移送公安")
        if not evidence_refs:
            raise RuleViolated("a referral needs its evidence pack", "移送须附证据材料")
        self._referred(
            unit=self.unit,
            police_office=police_office,
            suspected_offence=offence,
            evidence_refs=evidence_refs,
            summary=summary,
        )

    @event(ReferredToPolice)
    def _referred(
        self,
        unit: str,
        police_office: str,
        suspected_offence: str,
        evidence_refs: list[str],
        summary: str,
    ) -> None:
        self.police_office = police_office
        self.police_status = "referred"

    class PoliceAcknowledged(Aggregate.Event):
        unit: str
        police_office: str

    def police_acknowledge(self) -> None:
        _closed_guard(self)
        if self.police_status != "referred":
            raise RuleViolated("nothing to acknowledge", "无待签收的移送")
        self._acknowledged(unit=self.unit, police_office=self.police_office)

    @event(PoliceAcknowledged)
    def _acknowledged(self, unit: str, police_office: str) -> None:
        self.police_status = "acknowledged"

    class PoliceOutcomeReported(Aggregate.Event):
        unit: str
        police_office: str
        outcome: str
        note: str

    def report_police_outcome(self, outcome: str, note: str) -> None:
        # A closed case's record is final: the outcome it was closed on stays (a later
        # change would rewrite what the closure and the monthly ledgers relied on).
        _closed_guard(self)
        if self.police_status not in ("acknowledged", "filed"):
            raise RuleViolated(
                "acknowledge the referral before reporting its outcome",
                "须先签收移送再反馈处理结果",
            )
        self._outcome(unit=self.unit, police_office=self.police_office, outcome=outcome, note=note)

    @event(PoliceOutcomeReported)
    def _outcome(self, unit: str, police_office: str, outcome: str, note: str) -> None:
        self.police_status = outcome

    class PersonalDataShredded(Aggregate.Event):
        unit: str
        reason: str
        """v2: `requested` (ShredPersonalData) or `retention` (the retention period after
        the complaint's closure ran out: the case is archived)."""
        legal_basis: str
        """v2: for a retention shredding, the rule and its period (local configuration)."""
        shredded_at: datetime | None
        """v2: by the service's clock (None for shreddings recorded before v2)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Before v2 only ShredPersonalData shredded.
            state["reason"] = SHRED_REQUESTED
            state["legal_basis"] = ""
            state["shredded_at"] = None

    def shred_personal_data(self, at: datetime) -> None:
        """The complainant's name and phone are to be destroyed on request
        (ShredPersonalData): recorded once, before the key is destroyed."""
        if not self.shredded:
            self._shredded(unit=self.unit, reason=SHRED_REQUESTED, legal_basis="", shredded_at=at)

    def retention_ends(self, retention: PersonalDataRetention) -> datetime | None:
        """When a closed complaint's personal data has been kept its retention period after
        its closure; None for what the retention rule does not touch (open cases,
        rectification cases, which hold none)."""
        if self.kind != "complaint" or self.status != "closed" or self.closed_at is None:
            return None
        return self.closed_at + timedelta(days=retention.days_after_closure)

    def archive(self, now: datetime, retention: PersonalDataRetention) -> None:
        """Retention (个人信息保护法 Art. 19: kept no longer than necessary): the personal data
        of a complaint closed longer ago than its retention period is shredded and the case
        archived; the case record itself stays."""
        ends = self.retention_ends(retention)
        if ends is None:
            raise RuleViolated("only a closed complaint is archived", "仅已办结的投诉案件可以归档")
        if now < ends:
            raise RuleViolated(
                "the retention period after closure has not run out",
                "办结后的个人信息保存期限尚未届满",
            )
        if not self.archived:
            self._shredded(
                unit=self.unit,
                reason=SHRED_RETENTION,
                legal_basis=retention.legal_basis,
                shredded_at=now,
            )

    @event(PersonalDataShredded)
    def _shredded(
        self, unit: str, reason: str, legal_basis: str, shredded_at: datetime | None
    ) -> None:
        self.shredded = True
        if reason == SHRED_RETENTION:
            self.archived = True
