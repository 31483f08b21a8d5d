"""Who may call what in credit: the declared policy (servicekit.policy), default deny.

From DOMAIN.md §1, §2 and §6 and the work plan (三 部门职责): the property bureau
(物业管理主管部门) 依法查处 and 对不良行为予以信用扣分 — it decides, classifies and revokes
penalties, the county's bureau for its unit, the city's for any; the credit office (发改部门)
归集 the credit information the departments push and publishes it on 信用中国(福建), the
city's office for the city, a county's for its unit; market regulation 记于相对应市场主体名下
the penalties and spot-check results pushed to it through the 部门协同监管平台 (our `market`
feed), so it reads nothing here; a property company reads its own ledger; the public reads
what 信用中国 publishes, not the ledgers. Pushing, re-pushing and sweeping are operations of
the platform (ARCHITECTURE.md "Trust": operators act under an operator identity); the
city's bureau, as the feeds' 数据来源单位, may see whether its records arrived.

Due process (issue 13 item 6): the bureau that would decide notifies the intended penalty
(《行政处罚法》第四十四条), and the company it names states and defends against it, or
waives (第四十五条、第六十二条), and reads its notice; the company objects to a deduction
of its own credit, which the bureau that deducted or the credit office of that unit decides;
the company applies for credit repair (信用修复) of its own penalty, and the credit office,
which publishes on 信用中国, decides it; the credit office decides whether a proposed
company is listed as seriously dishonest (work plan 三: 发改部门 pushes those listed to the
联合奖惩系统). The files these cite (ADR 0016, EvidenceService) are uploaded by whoever
cites them, the company for its own acts, the deciding bureau for its notice, and read by
those who decide or read the acts: the bureau and the credit office of the unit, the company,
the auditor.

A ledger is a list of entries, each of the unit whose finding caused it: a county-level
reader is authorized on its own unit's part (`ledger_filter`) and sees only those entries;
the city, the company itself and the auditor see the whole ledger. The history of a record
shows all of it, so a ledger's history is judged on the ledger's one unit (none when its
entries are of several units: the city's then).
"""

from __future__ import annotations

from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty
from credit.domain.penalty_notice import PenaltyNotice
from credit.domain.spot_check_result import SpotCheckResult
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.units import CITY
from servicekit.eventstore import HistoryReads
from servicekit.identity import Identity
from servicekit.operations import admin_rules
from servicekit.policy import Grant, Policy, Resource, Rule, Scope

DECIDERS = ("officer", "head")
"""Who records a decision of the bureau: its 经办人员 and 负责人, not its inspectors (检查人员
check; the decision is not theirs)."""

IMPOSE = "ImposePenalty"
CLASSIFY = "ClassifyPenalty"
REVOKE = "RevokePenalty"
GET_LEDGER = "GetLedger"
SWEEP = "SweepDisplayPeriods"
FEED_STATUS = "GetFeedStatus"
REPUSH = "RepushFeedRecord"
HISTORY = "GetHistory"
NOTIFY = "NotifyIntendedPenalty"
STATE = "SubmitStatement"
GET_NOTICE = "GetPenaltyNotice"
OBJECT = "ObjectToDeduction"
DECIDE_OBJECTION = "DecideDeductionObjection"
APPLY_REPAIR = "ApplyForCreditRepair"
DECIDE_REPAIR = "DecideCreditRepair"
DECIDE_DISHONESTY = "DecideSeriousDishonesty"
UPLOAD = "UploadAttachment"
GET_ATTACHMENT = "GetAttachment"

_DECIDING_BUREAU = (Grant(Agency.PROPERTY_BUREAU, DECIDERS, (Scope.JURISDICTION,)),)
_THE_COMPANY = (Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),)
_CREDIT_OFFICE = Grant(Agency.CREDIT_OFFICE, (), (Scope.JURISDICTION,))

POLICY = Policy(
    "credit",
    [
        Rule(
            IMPOSE,
            _DECIDING_BUREAU,
            "records a penalty decision: the bureau of the deciding unit (the city's for any), "
            "which 依法查处 (work plan 三)",
        ),
        Rule(
            NOTIFY,
            _DECIDING_BUREAU,
            "notifies a company of the penalty it intends, before deciding (《行政处罚法》"
            "第四十四条): the bureau of the deciding unit (the city's for any)",
        ),
        Rule(
            STATE,
            _THE_COMPANY,
            "states and defends against an intended penalty, or waives (第四十五条、第六十二条): "
            "the company the notice names, only",
        ),
        Rule(
            GET_NOTICE,
            (
                Grant(Agency.PROPERTY_BUREAU, (), (Scope.JURISDICTION,)),
                Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
                Grant(Agency.AUDITOR, (), (Scope.CITY,)),
            ),
            "a notice with the statements made against it: the bureau of its unit (the city's "
            "for any), the company it names, the auditor",
        ),
        Rule(
            CLASSIFY,
            _DECIDING_BUREAU,
            "states or corrects a decision's tier and validity: the bureau of the deciding unit "
            "(the city's for any), as it decided",
        ),
        Rule(
            REVOKE,
            _DECIDING_BUREAU,
            "withdraws a decision: the bureau of the deciding unit (the city's for any), as it "
            "decided",
        ),
        Rule(
            GET_LEDGER,
            (
                Grant(Agency.PROPERTY_BUREAU, (), (Scope.JURISDICTION,)),
                Grant(Agency.CREDIT_OFFICE, (), (Scope.JURISDICTION,)),
                Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
                Grant(Agency.AUDITOR, (), (Scope.CITY,)),
            ),
            "a company's credit ledger: the bureau that deducts (信用扣分) and the credit office "
            "that collects it (归集), each its unit's entries, the city all; the company its "
            "own; the auditor; nobody else (the public reads 信用中国)",
        ),
        Rule(
            OBJECT,
            _THE_COMPANY,
            "objects to a deduction of its own credit: the company, only",
        ),
        Rule(
            DECIDE_OBJECTION,
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, (Scope.JURISDICTION,)), _CREDIT_OFFICE),
            "upholds (the deduction annulled) or rejects a company's objection: the bureau that "
            "deducted (信用扣分) or the credit office that collects it (归集), of the deduction's "
            "unit (the city's for any)",
        ),
        Rule(
            APPLY_REPAIR,
            _THE_COMPANY,
            "applies for credit repair (信用修复) of its own penalty after the minimum display "
            "period (DOMAIN.md §6): the company, only",
        ),
        Rule(
            DECIDE_REPAIR,
            (_CREDIT_OFFICE,),
            "approves (the record leaves 信用中国) or rejects a repair application: the credit "
            "office, which publishes on 信用中国(福建) (work plan 三), of the penalty's unit (the "
            "city's for any)",
        ),
        Rule(
            DECIDE_DISHONESTY,
            (_CREDIT_OFFICE,),
            "lists a proposed company as seriously dishonest, or declines: the credit office, "
            "which pushes listings to the 联合奖惩系统 (work plan 三), of the proposal's unit (the "
            "city's for any)",
        ),
        Rule(
            SWEEP,
            (Grant(Agency.OPERATOR, ("operator", "scheduler"), (Scope.ANY,)),),
            "restores what the configured display periods release (also every 6 h): an operation "
            "that decides nothing, run by the scheduler or an operator",
        ),
        Rule(
            FEED_STATUS,
            (
                Grant(Agency.OPERATOR, ("operator",), (Scope.ANY,)),
                Grant(Agency.PROPERTY_BUREAU, (), (Scope.CITY,)),
            ),
            "delivery state of the feeds: the operators, and the city's bureau, the feeds' "
            "数据来源单位, which answers for the 3-working-day withdrawal",
        ),
        Rule(
            REPUSH,
            (Grant(Agency.OPERATOR, ("operator",), (Scope.ANY,)),),
            "sends a record again after the receiver was fixed: an operation, the operators' "
            "(a corrected decision goes out by ClassifyPenalty, not by a re-push)",
        ),
        Rule(
            HISTORY,
            (Grant(Agency.AUDITOR, ("auditor",), (Scope.CITY,)),),
            "the whole event log: the auditor only; a record's history follows GetLedger's rule",
        ),
        # The evidence service (pubrev.common.v1.EvidenceService, servicekit.evidence): a file
        # is judged on the facts its upload names (a unit, a company); credit's records do not
        # index their attachments, so those facts alone open it.
        Rule(
            UPLOAD,
            (
                Grant(Agency.PROPERTY_BUREAU, DECIDERS, (Scope.JURISDICTION,)),
                Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
            ),
            "stores a photo or document (checked, virus-scanned) as evidence, for a command to "
            "reference: the company for its own statement, objection or repair application; "
            "the bureau of the deciding unit (the city's for any) for a penalty notice. The "
            "credit office attaches nothing here (its decisions carry reasons only)",
        ),
        Rule(
            GET_ATTACHMENT,
            (
                Grant(Agency.PROPERTY_BUREAU, (), (Scope.JURISDICTION,)),
                _CREDIT_OFFICE,
                Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
                Grant(Agency.AUDITOR, (), (Scope.CITY,)),
            ),
            "a stored file: the bureau and the credit office of the unit its upload named (the "
            "city's: all), which decide the notices, objections and repairs it supports; the "
            "company it named or that uploaded it; the auditor, who reads the notices and "
            "ledgers that cite it",
        ),
        # The operators' service (pubrev.common.v1.AdminService), the same in every service.
        *admin_rules(),
    ],
    city=CITY,
)


def ledger_facts(ledger: CreditLedger) -> Resource:
    """The facts a ledger's whole history is judged on: its company, and its unit when all
    its entries are of one unit (several: no unit, so only the city's staff reach it)."""
    units = ledger.units
    return Resource(unit=units[0] if len(units) == 1 else "", company=ledger.company_uscc)


def penalty_facts(penalty: Penalty) -> Resource:
    return Resource(unit=penalty.unit, company=penalty.party_uscc)


def notice_facts(notice: PenaltyNotice) -> Resource:
    return Resource(unit=notice.unit, company=notice.party_uscc)


def result_facts(result: SpotCheckResult) -> Resource:
    return Resource(unit=result.unit, company=result.company_uscc)


HISTORY_READS: HistoryReads = {
    # Penalties and spot-check results are part of the company's credit record: whoever
    # reads the company's ledger in that unit reads how they came about.
    CreditLedger: (GET_LEDGER, ledger_facts),
    Penalty: (GET_LEDGER, penalty_facts),
    SpotCheckResult: (GET_LEDGER, result_facts),
    # A notice's history shows the statements against it: whoever reads the notice.
    PenaltyNotice: (GET_NOTICE, notice_facts),
}


def ledger_filter(identity: Identity, company_uscc: str) -> str:
    """Which entries of the company's ledger the caller may read: "" for all of them (the
    city, the company itself, the auditor), else the caller's own unit's; PermissionDenied
    when neither."""
    POLICY.admit(GET_LEDGER, identity)
    if POLICY.decide(GET_LEDGER, identity, Resource(company=company_uscc)) is not None:
        return ""
    POLICY.authorize(GET_LEDGER, identity, Resource(unit=identity.unit, company=company_uscc))
    return identity.unit
