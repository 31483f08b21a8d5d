"""The commands of the casework application, each named after its RPC (the idempotency
receipt is named after the type), in plain Python (no wire types), and beside each its
result: a flat dataclass of JSON values, which the receipt remembers and a retry gets back.

Receipts written before the commands were typed (issue 12) stay answerable: a command
whose earlier receipt had another name or payload says what it was (`earlier_receipt`),
and `CaseworkApplication.run_command` answers a retry from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from servicekit.attachments import AttachmentRef


@dataclass(frozen=True)
class EarlierReceipt:
    """How the untyped API named a request's receipt and what it fingerprinted."""

    command: str
    payload: tuple[object, ...]


# -- complaints and cases (案件办理) ----------------------------------------------------------


@dataclass(frozen=True)
class ReceiveComplaint:
    """投诉受理: from the hotline, phone, e-mail, letters and visits, or handed down."""

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
    """None: now, by the service's clock."""

    def fingerprinted(self) -> tuple[object, ...]:
        """What a retry is compared on: never the complainant's name and phone, whose hash
        in the receipt would outlive their shredding (a guessed phone could be confirmed)."""
        return (
            self.request_id,
            self.channel,
            self.unit,
            self.community_code,
            self.category,
            self.description,
        )


@dataclass(frozen=True)
class ComplaintReceived:
    case_id: str
    due_at: str
    """The time limit's end (ISO 8601, Asia/Shanghai)."""


@dataclass(frozen=True)
class CaseChanged:
    """What every command on an existing case answers: the case and its new version."""

    case_id: str
    version: int


@dataclass(frozen=True)
class AssignCase:
    """交办: to a township and an officer; only the city moves a case to another unit."""

    request_id: str
    case_id: str
    unit: str
    township: str
    assignee: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("assign", (self.case_id, self.unit, self.township, self.assignee))


class CaseAssigned(CaseChanged):
    pass


@dataclass(frozen=True)
class StartInvestigation:
    """调查核实."""

    request_id: str
    case_id: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("start_investigation", (self.case_id,))


class InvestigationStarted(CaseChanged):
    pass


@dataclass(frozen=True)
class ResolveCase:
    """形成处理结果, with the files that support it (optional)."""

    request_id: str
    case_id: str
    result: str
    attachments: tuple[AttachmentRef, ...] = ()

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("resolve", (self.case_id, self.result))

    def fingerprinted(self) -> object:
        """Without attachments, what a retry was compared on before they were taken, so a
        retry across that deployment is answered from its first receipt."""
        plain = {"request_id": self.request_id, "case_id": self.case_id, "result": self.result}
        if not self.attachments:
            return plain
        return plain | {"attachments": [a.__dict__ for a in self.attachments]}


class CaseResolved(CaseChanged):
    pass


@dataclass(frozen=True)
class GiveFeedback:
    """处理结果反馈投诉人."""

    request_id: str
    case_id: str
    channel: str
    content: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("give_feedback", (self.case_id, self.channel, self.content))


class FeedbackGiven(CaseChanged):
    pass


@dataclass(frozen=True)
class CloseCase:
    """办结."""

    request_id: str
    case_id: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("close", (self.case_id,))


class CaseClosed(CaseChanged):
    pass


@dataclass(frozen=True)
class RecordJointMeeting:
    """联席会议: the case stays open until closed."""

    request_id: str
    case_id: str
    meeting_date: str
    agencies: tuple[str, ...]
    decision: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt(
            "record_joint_meeting",
            (self.case_id, self.meeting_date, str(list(self.agencies)), self.decision),
        )


class JointMeetingRecorded(CaseChanged):
    pass


@dataclass(frozen=True)
class FlagTypicalCase:
    """列为典型案例 (通报曝光)."""

    request_id: str
    case_id: str
    reason: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("flag_typical", (self.case_id, self.reason))


class CaseFlaggedTypical(CaseChanged):
    pass


@dataclass(frozen=True)
class ReferToPolice:
    """移送公安, with the evidence pack, to one police office."""

    request_id: str
    case_id: str
    police_office: str
    suspected_offence: str
    evidence_refs: tuple[str, ...]
    summary: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt(
            "refer_to_police",
            (
                self.case_id,
                self.police_office,
                self.suspected_offence,
                str(list(self.evidence_refs)),
                self.summary,
            ),
        )


class CaseReferredToPolice(CaseChanged):
    pass


@dataclass(frozen=True)
class AcknowledgeReferral:
    """公安签收: by the police office the case was referred to."""

    request_id: str
    case_id: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("police_acknowledge", (self.case_id,))


class ReferralAcknowledged(CaseChanged):
    pass


@dataclass(frozen=True)
class ReportPoliceOutcome:
    """公安反馈处理结果."""

    request_id: str
    case_id: str
    outcome: str
    note: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("report_police_outcome", (self.case_id, self.outcome, self.note))


class PoliceOutcomeReported(CaseChanged):
    pass


# -- personal data (个人信息) -----------------------------------------------------------------


@dataclass(frozen=True)
class ShredPersonalData:
    """Destroys the case's key: the complainant's name and phone are never read again."""

    request_id: str
    case_id: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("shred_personal_data", (self.case_id,))


class PersonalDataShredded(CaseChanged):
    pass


@dataclass(frozen=True)
class ReadComplainant:
    """The complainant's name and phone, with the purpose of the read (recorded first). No
    request_id: it changes no case, and each read is recorded as such."""

    case_id: str
    purpose: str
    note: str = ""


@dataclass(frozen=True)
class ComplainantRead:
    """What ReadComplainant disclosed, and the record of the read (read_id 0 and read_at
    empty when nothing was disclosed: shredded, or a case that holds no personal data)."""

    case_id: str
    complainant_name: str
    complainant_phone: str
    shredded: bool
    read_id: int
    read_at: str


# -- issue 13 (part B): the campaign calendar, monthly reports, the circular ---------------------


@dataclass(frozen=True)
class RecordStageDone:
    """阶段完成记录: a unit records a stage of the campaign it did itself (its mobilisation,
    its guidance on the self-inspection ledgers, its summary, its review)."""

    request_id: str
    unit: str
    year: int
    stage: str
    note: str


@dataclass(frozen=True)
class StageDoneRecorded:
    record_id: str
    unit: str
    year: int
    stage: str
    due_on: str
    late: bool


@dataclass(frozen=True)
class SubmitMonthlyReport:
    """月度报送: a county-level unit's report of a month to the city (by the 25th), its
    figures assembled from the ledgers casework keeps, with its briefing (工作简报)."""

    request_id: str
    unit: str
    year: int
    month: int
    briefing: str


@dataclass(frozen=True)
class MonthlyReportSubmitted:
    report_id: str
    unit: str
    year: int
    month: int
    due_on: str
    late: bool


@dataclass(frozen=True)
class SubmitProvinceBriefing:
    """整治工作简报: the city's briefing of a month to the province (省住建厅, by the 30th)."""

    request_id: str
    year: int
    month: int
    briefing: str


@dataclass(frozen=True)
class ProvinceBriefingSubmitted:
    report_id: str
    year: int
    month: int
    due_on: str
    late: bool
    units_reported: list[str]


# -- warnings (智慧监督 预警) -------------------------------------------------------------------


@dataclass(frozen=True)
class AcknowledgeWarning:
    """签收."""

    request_id: str
    warning_id: str
    note: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt("AcknowledgeWarning", (self.warning_id, self.note))


@dataclass(frozen=True)
class WarningAcknowledged:
    warning_id: str
    version: int


@dataclass(frozen=True)
class CloseWarning:
    """办结销号, with the evidence that the problem is dealt with."""

    request_id: str
    warning_id: str
    evidence_refs: tuple[str, ...]
    note: str

    def earlier_receipt(self) -> EarlierReceipt:
        return EarlierReceipt(
            "CloseWarning", (self.warning_id, list(self.evidence_refs), self.note)
        )


@dataclass(frozen=True)
class WarningClosed:
    warning_id: str
    version: int


# -- issue 13 (part A): the public's complaints, typical cases published, interviews -----------


@dataclass(frozen=True)
class LodgeComplaint:
    """业主自行投诉: a complaint the complainant lodges through a public front end (or as an
    owner or owners' committee), about a community, with their name and phone (sealed) and
    files (optional); answered with a tracking number."""

    request_id: str
    community_code: str
    category: str
    description: str
    complainant_name: str
    complainant_phone: str
    attachments: tuple[AttachmentRef, ...] = ()

    def fingerprinted(self) -> tuple[object, ...]:
        """Never the complainant's name and phone (as ReceiveComplaint)."""
        return (
            self.request_id,
            self.community_code,
            self.category,
            self.description,
            tuple(a.sha256 for a in self.attachments),
        )


@dataclass(frozen=True)
class ComplaintLodged:
    case_id: str
    tracking_number: str
    """What the complainant asks the status with (GetComplaintStatus), with their phone."""
    due_at: str
    """The time limit's end (ISO 8601, Asia/Shanghai)."""
    unit: str
    """The handling unit: the community's."""


@dataclass(frozen=True)
class GetComplaintStatus:
    """办理进度查询: by the complainant (the public: with the phone they lodged it with) or
    by the owners or committee of the complaint's community. No request_id: it changes no
    case (the check of the phone is recorded as a read of personal data)."""

    tracking_number: str
    phone: str = ""


@dataclass(frozen=True)
class ComplaintStatus:
    """What the complainant is told: never another's data, the result once fed back."""

    tracking_number: str
    community_code: str
    category: str
    status: str
    received_at: str
    due_at: str
    feedback_given: bool
    result: str
    """The handling result, once the complainant has been told it (empty before)."""
    closed_at: str


@dataclass(frozen=True)
class PublishTypicalCase:
    """通报曝光: a closed case flagged typical, published with a title and summary that name
    no complainant."""

    request_id: str
    case_id: str
    title: str
    summary: str
    company_uscc: str
    published_on: str
    """YYYY-MM-DD (Asia/Shanghai); empty: today."""


@dataclass(frozen=True)
class TypicalCasePublished:
    case_id: str
    register_id: str
    published_on: str


@dataclass(frozen=True)
class RecordInterview:
    """约谈: of a company, a county-level unit or a township, once held."""

    request_id: str
    subject_kind: str
    subject: str
    unit: str
    """The unit whose ledger it goes into: a unit's own (empty: the subject), a township's
    county, the unit (or the city) that called a company in."""
    reason: str
    warning_ids: tuple[str, ...]
    finding_ids: tuple[str, ...]
    held_on: str
    """YYYY-MM-DD (Asia/Shanghai)."""
    outcome: str
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class InterviewRecorded:
    interview_id: str
    ledger_id: str
    unit: str
    version: int
