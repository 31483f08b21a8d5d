"""Who may do what in casework: the declared policy (DOMAIN.md §1, §2, §7, §8; the 2023
work plan), rendered into docs/authorization.md and enforced by the application.

- The property bureau (物业管理主管部门) of the case's unit handles complaints and cases
  (plan 五（三）: 县（区、管委会）物业管理主管部门…调查核实…处理结果同步反馈投诉人); the city's
  bureau sees and handles every unit's, and alone moves a case from one unit to another.
- The complainant's name and phone are shown only to the bureau of the handling unit itself
  (§7), not to the city, a township or the police, and only through ReadComplainant, which
  asks why and records the read first (个人信息保护法 Art. 6); no case read carries them.
- Those reads are listed for the city: the bureau's heads, who answer for the units'
  handling, the discipline commission, which pursues officials who leak a complainant's
  identity, and the auditor (PIPL Art. 54, compliance audits); no unit audits its own reads.
- Townships (镇（街道）) supervise daily and mediate (§1; plan 三: 日常监管…会同有关部门召集
  联席会议…调处纠纷; their complaint lines are published, plan 四（一）): they take complaints of
  their unit, read its cases and record joint meetings; they decide no case.
- Police (公安) see only the cases referred to their office (subject = the office), and only
  acknowledge them and report the outcome (§1, §7).
- The discipline office (纪委监委, 智慧监督) tracks complaints and warnings to closure (plan
  附件1: 跟踪、督办…投诉件…形成闭环管理; §8): it reads cases, ledgers and warnings of its unit
  and acknowledges and closes warnings; it decides no case.
- A unit does not close the warnings raised about its own failures (`concerns_unit`):
  closing them is for the level above.
- The campaign calendar (issue 13): a unit's progress, reports and stage records are read by
  its bureau and discipline office (the city: all) and the auditor; a unit records its own
  stages and submits its own monthly report (officers and heads of its bureau), the city
  its briefing to the province; the monthly circular ranking the units is the city's (its
  bureau and discipline commission, the auditor), issued to the units by the city.
- A property company never reads complaints or cases, even those against it (§7).
- Owners and owners' committees lodge complaints about their own community and see their
  status; the public (through a front end) lodges complaints, rate-limited per front end
  and per person (application/public_limits.py), and sees the status of its own with the
  phone it lodged with; neither reads a case file. The public reads the typical cases
  published (a public record), as the unit's own staff do.
- Interviews (约谈) are recorded by the bureau's officers and heads; a county-level unit is
  interviewed by the city only (it never records its own); the ledgers are read like the
  warnings (the unit's bureau and discipline office, the auditor).
- The auditor reads (and alone reads the whole log); operators run the platform and read no
  case file; the credit office and market regulation get nothing from casework.
"""

from __future__ import annotations

from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.campaign.stage_record import StageRecord
from casework.domain.case import Case
from casework.domain.interview import InterviewLedger
from casework.domain.warnings.campaign_rules import (
    AGENCY_FINDING,
    CROSS_CHECK_MISSING,
    MONTHLY_REPORT_LATE,
    PROVINCE_BRIEFING_LATE,
    UNIT_BEHIND_STAGE,
)
from casework.domain.warnings.rules import COMPLAINT_WITHOUT_FEEDBACK, UNIT_BEHIND_QUOTA
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.units import CITY
from servicekit.eventstore import HistoryReads
from servicekit.identity import Identity
from servicekit.operations import admin_rules
from servicekit.policy import Grant, Policy, Resource, Rule, Scope

JURISDICTION = (Scope.JURISDICTION,)
OWN_UNIT = (Scope.OWN_UNIT,)
CITY_WIDE = (Scope.CITY,)

BUREAU = Grant(Agency.PROPERTY_BUREAU, scopes=JURISDICTION)
BUREAU_DECIDERS = Grant(Agency.PROPERTY_BUREAU, ("officer", "head"), JURISDICTION)
TOWNSHIP = Grant(Agency.TOWNSHIP, scopes=OWN_UNIT)
POLICE = Grant(Agency.POLICE, scopes=(Scope.REFERRED,))
DISCIPLINE = Grant(Agency.DISCIPLINE, scopes=JURISDICTION)
AUDITOR = Grant(Agency.AUDITOR, scopes=CITY_WIDE)

CASE_READERS = (BUREAU, TOWNSHIP, POLICE, DISCIPLINE, AUDITOR)

POLICY = Policy(
    "casework",
    [
        Rule(
            "ReceiveComplaint",
            (BUREAU, TOWNSHIP),
            "records a complaint received by hotline, phone, e-mail, letter or visit, or handed "
            "down: the bureau for its unit (the city for any), a township for its own (§1, §7; "
            "plan 四（一）); the complainants themselves lodge theirs with LodgeComplaint",
        ),
        Rule(
            "AssignCase",
            (BUREAU,),
            "hands a case to a township or officer; the case stays in the caller's jurisdiction"
            " before and after, so only the city moves it to another unit (§2)",
        ),
        Rule(
            "StartInvestigation",
            (BUREAU,),
            "the handling bureau verifies the complaint on site (plan 五（三）)",
        ),
        Rule("ResolveCase", (BUREAU,), "the handling bureau records the handling result (§7)"),
        Rule(
            "GiveFeedback",
            (BUREAU,),
            "the handling bureau tells the complainant the result (§7: 处理结果同步反馈投诉人)",
        ),
        Rule("CloseCase", (BUREAU,), "the handling bureau closes the case (闭环, §7)"),
        Rule(
            "RecordJointMeeting",
            (BUREAU, TOWNSHIP),
            "joint meetings are convened by the bureau with the township of the unit (§7; "
            "plan 三, 五（三）)",
        ),
        Rule(
            "FlagTypicalCase",
            (BUREAU_DECIDERS,),
            "publishing a typical case (通报曝光) is the bureau's decision, not an inspector's "
            "(§1, §7)",
        ),
        Rule(
            "ReferToPolice",
            (BUREAU,),
            "the handling bureau refers a suspected crime to one police office (§7)",
        ),
        Rule(
            "AcknowledgeReferral",
            (POLICE,),
            "only the police office the case was referred to acknowledges it (§1)",
        ),
        Rule(
            "ReportPoliceOutcome",
            (POLICE,),
            "only the police office the case was referred to reports its outcome (§1)",
        ),
        Rule(
            "ShredPersonalData",
            (Grant(Agency.PROPERTY_BUREAU, ("officer", "head"), OWN_UNIT),),
            "the handling unit, which alone holds the complainant's data, destroys it (§7; "
            "PIPL); the city never sees it",
        ),
        Rule(
            "GetCase",
            CASE_READERS,
            "a case, without the complainant's name and phone: the unit's bureau (the city: "
            "all), its townships, its discipline office, the police office it was referred to, "
            "the auditor; never a company (§7)",
        ),
        Rule(
            "ReadComplainant",
            (Grant(Agency.PROPERTY_BUREAU, scopes=OWN_UNIT),),
            "the complainant's name and phone, with the purpose of the read, recorded before "
            "they are shown: the handling unit's bureau only, not the city, townships or "
            "police (§7; 个人信息保护法 Art. 6)",
        ),
        Rule(
            "ListPersonalDataReads",
            (
                Grant(Agency.PROPERTY_BUREAU, ("head",), CITY_WIDE),
                Grant(Agency.DISCIPLINE, scopes=CITY_WIDE),
                AUDITOR,
            ),
            "who read which complainant's data, when, through which front end and why: for the "
            "city's bureau heads and discipline commission and the auditor; no unit audits its "
            "own reads (§7; 个人信息保护法 Art. 54)",
        ),
        Rule(
            "ListCases",
            CASE_READERS,
            "cases of a unit (the city: all), for the same callers as GetCase; the police's "
            "list is only their referrals",
        ),
        Rule(
            "ExportMonthlyLedgers",
            (BUREAU, DISCIPLINE, AUDITOR),
            "a unit's monthly ledgers (双台账): the unit reports them to the city, copied to the "
            "discipline office (§9; plan 六（四）)",
        ),
        Rule(
            "ListWarnings",
            (BUREAU, DISCIPLINE, AUDITOR),
            "智慧监督 warnings of a unit (the city: all) for its bureau and discipline office (§8)",
        ),
        Rule(
            "AcknowledgeWarning",
            (BUREAU, DISCIPLINE),
            "the unit's bureau or discipline office takes a warning up (§8)",
        ),
        Rule(
            "CloseWarning",
            (
                Grant(Agency.PROPERTY_BUREAU, scopes=(Scope.JURISDICTION, Scope.NOT_CONCERNED)),
                Grant(Agency.DISCIPLINE, scopes=(Scope.JURISDICTION, Scope.NOT_CONCERNED)),
            ),
            "closes a warning with evidence (§8); a unit never closes one about its own failures "
            "(behind its quota, a complaint without feedback): the level above does",
        ),
        # -- issue 13, part B: the campaign calendar, monthly reports, the circular -----------
        Rule(
            "GetCampaignProgress",
            (BUREAU, DISCIPLINE, AUDITOR),
            "a unit's progress in the campaign's stages and its monthly reports (the city: every "
            "unit's and its own), for its bureau and discipline office (§5b; plan 五（三）)",
        ),
        Rule(
            "RecordStageDone",
            (Grant(Agency.PROPERTY_BUREAU, ("officer", "head"), OWN_UNIT),),
            "a unit records a stage it did itself (mobilisation, its summary, ...): its own "
            "bureau's officers and heads, for its own unit only (§5b; plan 五, 六（四）)",
        ),
        Rule(
            "SubmitMonthlyReport",
            (Grant(Agency.PROPERTY_BUREAU, ("officer", "head"), OWN_UNIT),),
            "a county-level unit submits its monthly report to the city, by its own bureau "
            "(§9; plan 六（四）)",
        ),
        Rule(
            "SubmitProvinceBriefing",
            (Grant(Agency.PROPERTY_BUREAU, ("officer", "head"), CITY_WIDE),),
            "the city's bureau briefs the province monthly (plan 附件1 #36, #48)",
        ),
        Rule(
            "GetMonthlyReport",
            (BUREAU, DISCIPLINE, AUDITOR),
            "a submitted monthly report of a unit (the briefing: the city's), for its bureau "
            "and discipline office, to which it is copied (§9; plan 附件2 #36)",
        ),
        Rule(
            "GetMonthlyCircular",
            (
                Grant(Agency.PROPERTY_BUREAU, scopes=CITY_WIDE),
                Grant(Agency.DISCIPLINE, scopes=CITY_WIDE),
                AUDITOR,
            ),
            "the city's monthly circular ranking the seven units: every unit's figures, so the "
            "city's (its bureau and discipline commission) and the auditor's; the city issues "
            "it to the units (§9; plan 五（三）)",
        ),
        Rule(
            "ExportMonthlyCircular",
            (
                Grant(Agency.PROPERTY_BUREAU, scopes=CITY_WIDE),
                Grant(Agency.DISCIPLINE, scopes=CITY_WIDE),
                AUDITOR,
            ),
            "the circular as CSV or XLSX, for the same callers as GetMonthlyCircular",
        ),
        Rule(
            "GetHistory",
            (AUDITOR,),
            "the whole log, for the auditor only; one record's history follows its own read "
            "rule (a case: GetCase; a warning: ListWarnings)",
        ),
        # -- issue 13, part A: the public's complaints, typical cases, interviews --------------
        Rule(
            "LodgeComplaint",
            (
                Grant(Agency.OWNERS_COMMITTEE, scopes=(Scope.OWN_COMMUNITY,)),
                Grant(Agency.OWNERS, scopes=(Scope.OWN_COMMUNITY,)),
                Grant(Agency.PUBLIC, scopes=(Scope.ANY,)),
            ),
            "the complainant lodges a complaint about a community, handled by its unit: owners "
            "and committees about their own community; the public through a front end, "
            "rate-limited per front end and per person (§1, §7; plan 二（三）, 四（一）)",
            limited=True,
        ),
        Rule(
            "GetComplaintStatus",
            (
                Grant(Agency.OWNERS_COMMITTEE, scopes=(Scope.OWN_COMMUNITY,)),
                Grant(Agency.OWNERS, scopes=(Scope.OWN_COMMUNITY,)),
                Grant(Agency.PUBLIC, scopes=(Scope.ANY,)),
            ),
            "a lodged complaint's status and, once fed back, its result: the public only with "
            "the phone it was lodged with, rate-limited; owners and committees of its community "
            "(§7: 处理结果同步反馈投诉人; plan 四（一）)",
            limited=True,
        ),
        Rule(
            "ListCommunityComplaints",
            (
                Grant(Agency.OWNERS_COMMITTEE, scopes=(Scope.OWN_COMMUNITY,)),
                Grant(Agency.OWNERS, scopes=(Scope.OWN_COMMUNITY,)),
            ),
            "the course of the complaints about their community (status, times, the result "
            "once fed back; never who complained or what they wrote): its owners and committee "
            "(§1, §7; issue 13 item 5)",
        ),
        Rule(
            "PublishTypicalCase",
            (BUREAU_DECIDERS,),
            "publishes a closed case flagged typical (通报曝光), naming no complainant: the "
            "bureau's decision, not an inspector's (§1, §7; plan 三, 五（三）)",
        ),
        Rule(
            "ListTypicalCases",
            (
                Grant(Agency.PUBLIC, scopes=(Scope.PUBLISHED,)),
                BUREAU,
                TOWNSHIP,
                DISCIPLINE,
                AUDITOR,
            ),
            "the typical cases published: a public record, for the public through its front "
            "ends (of every unit); the unit's bureau, townships and discipline office, the "
            "auditor (§7; plan 五（三）: 通报曝光一批典型案例)",
        ),
        Rule(
            "RecordInterview",
            (
                Grant(
                    Agency.PROPERTY_BUREAU,
                    ("officer", "head"),
                    (Scope.JURISDICTION, Scope.NOT_CONCERNED),
                ),
            ),
            "records an interview (约谈) held: a bureau calls in companies and townships of its "
            "unit; a county-level unit is called in by the city, never records its own (plan "
            "三, 五（三）, 附件1 #16, #22, 附件2 #16, #22)",
        ),
        Rule(
            "ListInterviews",
            (BUREAU, DISCIPLINE, AUDITOR),
            "a unit's interview ledger (the city: all): its bureau and discipline office, which "
            "tracks the lagging to closure (§8; plan 五（五）)",
        ),
        # The evidence service (pubrev.common.v1.EvidenceService, servicekit.evidence): a file
        # is judged on the facts its upload names (a unit) until a case references it. Never a
        # complainant's identity documents: the store keeps files for ever, in the clear.
        Rule(
            "UploadAttachment",
            (BUREAU, TOWNSHIP),
            "stores a photo or document (checked, virus-scanned) as evidence of a complaint or "
            "case, for a command to reference: the bureau for its unit (the city: any), a "
            "township for its own (§1, §7)",
        ),
        Rule(
            "GetAttachment",
            (BUREAU, TOWNSHIP),
            "a stored file, to the bureau of the unit its upload named (the city: all) and the "
            "unit's townships, who handle its complaints (§7)",
        ),
        # The operators' service (pubrev.common.v1.AdminService), the same in every service.
        *admin_rules(),
    ],
    city=CITY,
)

UNIT_CONDUCT_RULES = frozenset(
    {
        UNIT_BEHIND_QUOTA,
        COMPLAINT_WITHOUT_FEEDBACK,
        UNIT_BEHIND_STAGE,
        MONTHLY_REPORT_LATE,
        PROVINCE_BRIEFING_LATE,
        CROSS_CHECK_MISSING,
        AGENCY_FINDING,
    }
)
"""Warnings about the unit's own conduct (§4 E, supervision failures of agencies): behind
its spot-check pace or a stage of the calendar, a complaint of its own left without
feedback, a monthly report late, a quarter without its cross check, an agency's failure
found by inspection. The other rules are about a company or a community."""


def case_facts(case: Case) -> Resource:
    return Resource(
        unit=case.unit,
        company=case.company_uscc,
        community=case.community_code,
        office=case.police_office,
    )


def warning_facts(warning: SupervisionWarning) -> Resource:
    return Resource(
        unit=warning.unit,
        company=warning.subject if warning.subject_kind == "company" else "",
        community=warning.subject if warning.subject_kind == "community" else "",
        concerns_unit=warning.unit if warning.rule in UNIT_CONDUCT_RULES else "",
    )


HISTORY_READS: HistoryReads = {
    Case: ("GetCase", case_facts),
    SupervisionWarning: ("ListWarnings", warning_facts),
    InterviewLedger: ("ListInterviews", lambda ledger: Resource(unit=ledger.unit)),
    MonthlyReport: ("GetMonthlyReport", lambda report: Resource(unit=report.unit)),
    StageRecord: ("GetCampaignProgress", lambda record: Resource(unit=record.unit)),
}
"""GetHistory of one record: a case by GetCase's rule, a warning by ListWarnings', an
interview ledger by ListInterviews', a monthly report by GetMonthlyReport's, a unit's stage
record by GetCampaignProgress'. Every other record (the warnings' and the campaign's
remembered facts, the typical-case registers, which span every unit, receipts) is the
auditor's."""


def authorize(policy: Policy, rpc: str, identity: Identity, resource: Resource) -> None:
    """After `admit`: the record's facts decide (PermissionDenied with the reason). Unlike
    `Policy.authorize` it does not admit again, so a rate-limited caller pays once."""
    if policy.decide(rpc, identity, resource) is None:
        policy.authorize(rpc, identity, resource)


def list_filter(
    policy: Policy, rpc: str, identity: Identity, unit: str, office: str = ""
) -> Resource:
    """The filter a list is answered on: the one asked for, with what the caller left open
    forced from its grant's scope (a county's list is its unit's, the police's list their
    office's referrals; the city's, every unit's). PermissionDenied when no grant allows
    the filter asked for."""
    for grant in policy.admit(rpc, identity):
        by_unit = bool({Scope.JURISDICTION, Scope.OWN_UNIT} & set(grant.scopes))
        candidate = Resource(
            unit=unit or ("" if identity.unit == CITY or not by_unit else identity.unit),
            office=office or (identity.subject if Scope.REFERRED in grant.scopes else ""),
        )
        if policy.decide(rpc, identity, candidate) is not None:
            return candidate
    asked = Resource(unit=unit, office=office)
    authorize(policy, rpc, identity, asked)
    return asked
