"""Who may do what in inspection: the declared policy (servicekit.policy), default deny.

From DOMAIN.md §1, §2, §5 and the work plan (seed/000): the property bureau (物业管理主管部门)
plans and records the spot checks of its own unit, the city its own 15% and the cross checks
(四（三）、四（四）, 附件1 #17, #19, 附件2 #19); the discipline commission (纪委监委, 智慧监督)
supervises, as the plan's 行风监督员 do (四（七）), and contributes to each 双随机 draw so that
nobody alone chooses it; market regulation records spot-check results under the company's
name (三, 附件1 #29); townships supervise their area daily (三). The company concerned reads
its own checks and findings (it must rectify them) but never a plan or a draw before its
checks are done: a plan's targets must not reach the companies it will check.

A draw becomes verifiable by anyone, the public included (rate-limited), once every one of its
checks is recorded; before that only the planning unit's bureau (and the city), the
discipline office and the auditor see it. Its audit trail stays staff's even then
(servicekit: GetHistory leaves out the public and published-only grants).

Decided here, not in the sources: townships do not record spot checks (a check belongs to a
bureau's plan and its drawn inspectors); they keep their own ledger of daily inspections of
the communities of their unit (四（三）、二（五）). A re-draw is the bureau head's (负责人)
decision, made with a recorded reason. A finding entered directly is the bureau's officers'
or head's (not an inspector's alone: it bypasses the draw), of a community of its unit (the
city: any); an agency's failure (E1–E3) is recorded by those who supervise the agency — the
city for a county-level unit, the unit (or the city) for one of its townships — never by the
unit about itself (附件1 #16, #20; 附件2 #16). The company concerned submits its own
rectification evidence (filer or manager) and objects to its own findings (its manager: a
formal act of the company); the bureau that found it (or the city) decides the objection.
"""

from __future__ import annotations

from typing import Any

from inspection.domain.community_watch import CommunityWatch
from inspection.domain.finding import Finding
from inspection.domain.inspector import Inspector
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.domain.township_inspection_ledger import TownshipInspectionLedger
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.units import CITY
from servicekit.eventstore import HistoryReads
from servicekit.operations import admin_rules
from servicekit.policy import Grant, Policy, Resource, Rule, Scope

DECIDERS = ("officer", "head")
"""The bureau's roles that plan, register and report (an inspector checks and records)."""

J = (Scope.JURISDICTION,)
OWN = (Scope.OWN_UNIT,)
ANY = (Scope.ANY,)

_STAFF_READ = (
    Grant(Agency.PROPERTY_BUREAU, (), J),
    Grant(Agency.TOWNSHIP, (), J),
    Grant(Agency.DISCIPLINE, (), J),
    Grant(Agency.MARKET_REGULATION, (), J),
    Grant(Agency.AUDITOR, (), ANY),
)
"""Who reads the checks and findings of a unit (the city: of all)."""

_SUPERVISORS_READ = (
    Grant(Agency.PROPERTY_BUREAU, (), J),
    Grant(Agency.TOWNSHIP, (), J),
    Grant(Agency.DISCIPLINE, (), J),
    Grant(Agency.AUDITOR, (), ANY),
)
"""Who reads a unit's township ledgers and their coverage."""

POLICY = Policy(
    "inspection",
    [
        Rule(
            "RegisterInspector",
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, OWN),),
            "each bureau keeps its own roster of inspectors, the pool its checks draw from",
        ),
        Rule(
            "DeclareConflict",
            (Grant(Agency.PROPERTY_BUREAU, (), OWN),),
            "an inspector of the unit (or its officers) declares a conflict of interest: no draw "
            "sends them to that community",
        ),
        Rule(
            "PlanSpotChecks",
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, OWN),),
            "a bureau plans its own year (a unit ≥ 50%, the city its own 15%, plan 四（三）): "
            "pool and roster recorded, the service commits to a secret, nobody picks the seed",
        ),
        Rule(
            "ContributeDrawEntropy",
            (Grant(Agency.DISCIPLINE, ("supervisor",), OWN),),
            "the discipline office of the planning level (the city for cross checks) adds its "
            "value after the pool is recorded; the draw then runs and its secret is revealed",
        ),
        Rule(
            "RedrawSpotChecks",
            (Grant(Agency.PROPERTY_BUREAU, ("head",), OWN),),
            "the head of the planning bureau re-draws a plan none of whose checks is recorded, "
            "with a recorded reason the discipline office sees; it must contribute again",
        ),
        Rule(
            "VerifyDraw",
            (
                Grant(Agency.PROPERTY_BUREAU, (), J),
                Grant(Agency.DISCIPLINE, (), J),
                Grant(Agency.AUDITOR, (), ANY),
                Grant(Agency.TOWNSHIP, (), (Scope.PUBLISHED, Scope.JURISDICTION)),
                Grant(Agency.CREDIT_OFFICE, (), (Scope.PUBLISHED, Scope.JURISDICTION)),
                Grant(Agency.MARKET_REGULATION, (), (Scope.PUBLISHED, Scope.JURISDICTION)),
                Grant(Agency.PUBLIC, (), (Scope.PUBLISHED,)),
            ),
            "re-runs a draw: the planning bureau (and the city) and the discipline office at any "
            "time; anyone, the public included, once all its checks are recorded (never before: "
            "its targets would warn the companies)",
            limited=True,
        ),
        Rule(
            "PlanCrossCheck",
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, (Scope.CITY,)),),
            "the city forms the cross-check teams (plan 四（四）): one unit's inspectors check "
            "another unit's communities",
        ),
        Rule(
            "RecordSpotCheck",
            (Grant(Agency.PROPERTY_BUREAU, (), OWN),),
            "the bureau whose plan it is (a cross check's checking unit) records the check, by "
            "the inspectors drawn for it",
        ),
        Rule(
            "VerifyRectification",
            (Grant(Agency.PROPERTY_BUREAU, (), J),),
            "the community's unit (or the city) closes a finding's rectification with evidence",
        ),
        Rule(
            "SweepRectificationDeadlines",
            (
                Grant(Agency.PROPERTY_BUREAU, DECIDERS, (Scope.CITY,)),
                Grant(Agency.OPERATOR, ("scheduler",), ANY),
            ),
            "marks rectifications past their deadline overdue, over the whole city: the city's "
            "bureau or the platform's scheduler",
        ),
        Rule(
            "ReportCrossCheck",
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, J),),
            "the checking unit (or the city, which organises cross checks) reports the results",
        ),
        Rule(
            "RecordFinding",
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, (Scope.JURISDICTION, Scope.NOT_CONCERNED)),),
            "a finding entered directly with its evidence (an investigation, an audit, a case): "
            "of a company of the unit's communities (the city: any), or of an agency's failure "
            "(E1–E3) by those who supervise it, never by the unit about itself",
        ),
        Rule(
            "SubmitRectificationEvidence",
            (Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),),
            "the company submits the evidence of rectifying its own finding, for the bureau to "
            "verify",
        ),
        Rule(
            "ObjectToFinding",
            (Grant(Agency.PROPERTY_COMPANY, ("manager",), (Scope.OWN_COMPANY,)),),
            "the company's manager objects to its own finding, within the objection period",
        ),
        Rule(
            "DecideObjection",
            (Grant(Agency.PROPERTY_BUREAU, DECIDERS, J),),
            "the bureau that found it (the city: any) upholds the objection (the finding is "
            "withdrawn) or rejects it",
        ),
        Rule(
            "RecordTownshipInspection",
            (Grant(Agency.TOWNSHIP, (), OWN),),
            "a township enters its daily inspection of a community of its unit in the ledger "
            "(plan 四（三）: townships inspect every community)",
        ),
        Rule(
            "ListTownshipInspections",
            _SUPERVISORS_READ,
            "a unit's township ledgers: its bureau, townships and discipline office, the city, "
            "the auditor",
        ),
        Rule(
            "GetTownshipCoverage",
            _SUPERVISORS_READ,
            "how many of a unit's communities its townships inspected in the campaign window: "
            "its supervisors, the city, the auditor",
        ),
        Rule(
            "GetCrossCheckCompliance",
            (
                Grant(Agency.PROPERTY_BUREAU, (), J),
                Grant(Agency.DISCIPLINE, (), J),
                Grant(Agency.AUDITOR, (), ANY),
            ),
            "which quarters a unit lacks its cross check or report (plan 四（四）): its bureau, "
            "the discipline office, the city, the auditor",
        ),
        Rule(
            "GetPlanProgress",
            (
                Grant(Agency.PROPERTY_BUREAU, (), J),
                Grant(Agency.DISCIPLINE, (), J),
                Grant(Agency.AUDITOR, (), ANY),
            ),
            "a unit's quota and pace: its bureau, the discipline office that tracks units "
            "behind pace, the city and the auditor",
        ),
        Rule(
            "ListSpotChecks",
            (*_STAFF_READ, Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,))),
            "checks done in a unit: its staff, market regulation (it records spot-check results "
            "under the company's name), the auditor; a company its own checks only",
        ),
        Rule(
            "ListFindings",
            (*_STAFF_READ, Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,))),
            "findings of a company: the unit's staff, market regulation, the auditor; the company "
            "its own, since it must rectify them",
        ),
        Rule(
            "GetCommunityDisclosure",
            (
                Grant(Agency.PROPERTY_BUREAU, (), J),
                Grant(Agency.TOWNSHIP, (), J),
                Grant(Agency.DISCIPLINE, (), J),
                Grant(Agency.AUDITOR, (), ANY),
            ),
            "what inspection learnt of a community's disclosures (late, zero revenue: a priority "
            "for checks) is the supervisors' of its unit",
        ),
        Rule(
            "GetHistory",
            (Grant(Agency.AUDITOR, (), ANY),),
            "the whole log is the auditor's; a record's trail follows its own read rule",
        ),
        # The evidence service (pubrev.common.v1.EvidenceService, servicekit.evidence): a file
        # is judged on the facts its upload names (a unit, a company) until a record of this
        # service references it.
        Rule(
            "UploadAttachment",
            (
                Grant(Agency.PROPERTY_BUREAU, (), J),
                Grant(Agency.TOWNSHIP, (), J),
                Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
            ),
            "stores a photo or document (checked, virus-scanned) as evidence, for a command to "
            "reference: the bureau for its unit's checks, findings and verifications (the city: "
            "any unit's), a township for its inspections, a company for its own rectification",
        ),
        Rule(
            "GetAttachment",
            (
                Grant(Agency.PROPERTY_BUREAU, (), J),
                Grant(Agency.TOWNSHIP, (), J),
                Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
            ),
            "a stored file, to the bureau and the townships of the unit its upload named (the "
            "city: all) and to the company it named or that uploaded it",
        ),
        # The operators' service (pubrev.common.v1.AdminService), the same in every service.
        *admin_rules(),
    ],
    city=CITY,
)


def plan_facts(plan: SpotCheckPlan, published: bool = False) -> Resource:
    """A plan is its planning unit's (a cross check: the checking unit's)."""
    return Resource(unit=plan.unit, published=published)


def _plan_history(plan: Any) -> Resource:
    return plan_facts(plan)


HISTORY_READS: HistoryReads = {
    SpotCheckPlan: ("VerifyDraw", _plan_history),
    SpotCheck: (
        "ListSpotChecks",
        lambda c: Resource(unit=c.unit, company=c.company_uscc, community=c.community_code),
    ),
    Finding: (
        "ListFindings",
        lambda f: Resource(unit=f.unit, company=f.company_uscc, community=f.community_code),
    ),
    CommunityWatch: (
        "GetCommunityDisclosure",
        lambda w: Resource(unit=w.unit, company=w.company_uscc, community=w.community_code),
    ),
    Inspector: ("RegisterInspector", lambda i: Resource(unit=i.unit)),
    TownshipInspectionLedger: (
        "ListTownshipInspections",
        lambda t: Resource(unit=t.unit, community=t.community_code),
    ),
}
"""GetHistory of one record follows its read rule: a plan's VerifyDraw (before publication:
GetHistory never opens what only publication opens), a check's and a finding's lists, a
community's file GetCommunityDisclosure, an inspector's the roster's keepers, a township
ledger ListTownshipInspections."""
