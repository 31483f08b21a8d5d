"""What must be denied, written from DOMAIN.md §1, §2 and §7 and the leaks found by callers
(issue "Authorization by declared policy"), independently of any service's policy: a policy
that wrongly allows one of these fails the matrix even though it passes its own cells.

`must_deny(service, rpc, identity, relation, record)` names the rule a call breaks, or None
when this oracle has nothing against it (the declared policy then decides alone).
`relation` is the matrix's label of the identity's relation to the record (servicekit.policy
.relations): "same unit" / "other unit" / "city", and "own <subject>" / "other <subject>".
"""

from __future__ import annotations

from servicekit.identity import Identity
from servicekit.policy import Resource

READS = {
    "disclosure": {
        "GetDisclosure",
        "ListDisclosures",
        "GetDisclosureRate",
        "GetAuditResult",
        "GetSelfInspection",
        "ListSelfInspections",
    },
    "inspection": {
        "VerifyDraw",
        "GetPlanProgress",
        "ListSpotChecks",
        "ListFindings",
        "GetCommunityDisclosure",
    },
    "credit": {"GetLedger", "GetFeedStatus", "GetPenaltyNotice"},
    "casework": {
        "GetCase",
        "ListCases",
        "ExportMonthlyLedgers",
        "ListWarnings",
        "GetComplaintStatus",
        "ListCommunityComplaints",
        "ListTypicalCases",
        "ListInterviews",
        "GetCampaignProgress",
        "GetMonthlyReport",
        "GetMonthlyCircular",
        "ExportMonthlyCircular",
    },
}
"""The read RPCs of each service; every other RPC (but GetHistory) changes something."""
HISTORY = {"GetHistory", "GetHistory(record)"}
CASEWORK_OWNERS_SIDE = {"LodgeComplaint", "GetComplaintStatus"}
"""Issue 13 item 5: owners, committees and the public lodge their complaints and see their
status (the public by the phone it lodged with, owners of the complaint's community)."""
CASEWORK_OWNERS_READS = {"ListCommunityComplaints"}
"""Issue 13 item 5: owners and committees see the course of their community's complaints."""
CASEWORK_PUBLIC_RECORDS = {"ListTypicalCases"}
"""DOMAIN.md §7 and plan 五（三）: typical cases are published (通报曝光), a public record."""
EVIDENCE_READ = "GetAttachment"
"""pubrev.common.v1.EvidenceService, served by inspection, casework and credit: reading a stored
file is a read (UploadAttachment changes no record: the command that references the file
does)."""
READS["inspection"] |= {
    EVIDENCE_READ,
    "ListTownshipInspections",
    "GetTownshipCoverage",
    "GetCrossCheckCompliance",
}
READS["casework"].add(EVIDENCE_READ)
READS["credit"].add(EVIDENCE_READ)

COMPANY_INSPECTION_WRITES = {"UploadAttachment", "SubmitRectificationEvidence", "ObjectToFinding"}

OPERATIONS = {
    "ListParked",
    "RedriveParked",
    "SkipParked",
    "GetLag",
    "RebuildProjection",
    "RepushFeeds",
}
"""pubrev.common.v1.AdminService, served by every service: its operators' work, nobody
else's — not the auditor's, not the scheduler's, not a bureau's."""

STAFF = {"property-bureau", "township", "discipline", "credit-office", "market-regulation"}
"""Agencies whose reach is their unit (DOMAIN.md §2): a county-level one never touches
another unit's records."""
FRONTENDS = {"provincial-system", "console"}
OWNERS = {"owners", "owners-committee"}
POLICE_CASEWORK = {
    "GetCase",
    "ListCases",
    "AcknowledgeReferral",
    "ReportPoliceOutcome",
    "GetHistory(record)",
}
PII_READS = {"GetCase", "ListCases", "ExportMonthlyLedgers"}
PENALTY_WRITES = {"ImposePenalty", "ClassifyPenalty", "RevokePenalty", "NotifyIntendedPenalty"}
CREDIT_COMPANY_DUE_PROCESS = {"SubmitStatement", "ObjectToDeduction", "ApplyForCreditRepair"}
"""A company's own part in due process (《行政处罚法》第四十四、四十五条; 信用修复)."""
CREDIT_OFFICE_DECISIONS = {
    "DecideDeductionObjection",
    "DecideCreditRepair",
    "DecideSeriousDishonesty",
}
"""What the credit office decides in credit: listing (联合奖惩), repair and objections."""
INSPECTION_WRITES = {
    "PlanSpotChecks",
    "PlanCrossCheck",
    "RecordSpotCheck",
    "VerifyRectification",
    "RegisterInspector",
    "ReportCrossCheck",
}


def _is_write(service: str, rpc: str) -> bool:
    return rpc not in READS.get(service, set()) and rpc not in HISTORY


def must_deny(
    service: str, rpc: str, identity: Identity, relation: str, record: Resource
) -> str | None:
    agency = identity.agency
    write = _is_write(service, rpc)
    if agency in FRONTENDS:
        return "a front end is authorized for nothing itself, only the people it asserts"
    if rpc == "GetHistory" and agency != "auditor":
        return "nobody but the auditor reads the whole log"
    if rpc in OPERATIONS and (agency, identity.role) != ("operator", "operator"):
        return (
            "parked events, lags, rebuilds and re-pushes are the platform's operators' "
            "(ARCHITECTURE.md Trust: operators act under an operator identity)"
        )
    if agency in STAFF and "other unit" in relation:
        return "a county-level user never reads or writes another unit's records (§2)"
    if agency == "property-company":
        if "other uscc" in relation:
            return "a company never sees another company's records"
        if service == "casework":
            return "a company never reads complaints or cases, even against itself (§7)"
        if service == "inspection" and write and rpc not in COMPANY_INSPECTION_WRITES:
            # Its own rectification evidence it does upload and submit, and it may object
            # to a finding against it (issue 13: §1, companies file rectification
            # evidence), each judged as its own record (scope own_company).
            return "a company does not plan or record inspections of itself"
        if (
            service == "credit"
            and write
            and rpc not in {*CREDIT_COMPANY_DUE_PROCESS, "UploadAttachment"}
        ):
            return "a company does not decide penalties or push feeds"
        if service == "disclosure" and rpc in {
            "CloseQuarter",
            "RegisterCommunity",
            "ChangePropertyCompany",
        }:
            return "a company does not close quarters or register communities"
    if agency == "police":
        if service != "casework":
            return "police see only the cases referred to them (§1, §7)"
        if rpc not in POLICE_CASEWORK:
            return "police only acknowledge and report on referrals (§1)"
        if "other police_office" in relation:
            return "police see only the cases referred to their own office (§7)"
    if agency in OWNERS:
        if "other community" in relation:
            return "owners act only for their own community"
        if service == "casework" and rpc not in {
            "ReceiveComplaint",
            *CASEWORK_OWNERS_SIDE,
            *CASEWORK_OWNERS_READS,
        }:
            return "owners lodge complaints but do not read the case files (§7)"
        if write and rpc not in {"RequestAudit", "ReceiveComplaint", "LodgeComplaint"}:
            return "owners request audits and complain; they change nothing else (§1, §3)"
    if agency == "public":
        if rpc in HISTORY:
            return "the public reads no audit trail"
        published = rpc in CASEWORK_PUBLIC_RECORDS and record.published
        if (
            service == "casework"
            and rpc not in {"ReceiveComplaint", *CASEWORK_OWNERS_SIDE}
            and not published
        ):
            return "the public lodges complaints but reads no case or warning (§7)"
        if write and rpc not in {"ReceiveComplaint", "LodgeComplaint"}:
            return "the public may only lodge a complaint"
        if service == "credit":
            return "credit ledgers are not published as such (信用中国 gets the records)"
        if not write and not record.published and rpc != "GetComplaintStatus":
            return "the public reads only what is published"
    if agency == "auditor" and write:
        return "the auditor reads; it changes nothing"
    if agency == "operator":
        if rpc in PII_READS:
            return "operators never read personal data or case files"
        if rpc in PENALTY_WRITES | INSPECTION_WRITES | {
            "FileDisclosure",
            "AmendDisclosure",
            "ReceiveComplaint",
            "CloseCase",
        }:
            return "operators run the platform; they take no decision of the campaign"
    if agency == "market-regulation" and write:
        return "market regulation receives records; it decides none here"
    if (
        agency == "credit-office"
        and write
        and not (service == "credit" and rpc in CREDIT_OFFICE_DECISIONS)
    ):
        return (
            "the credit office receives records; it decides none here but credit's listing, "
            "repair and objections"
        )
    if agency in {"credit-office", "market-regulation"} and rpc in PII_READS:
        return "case files and complainants are the handling unit's (§7)"
    if rpc in PENALTY_WRITES and agency != "property-bureau":
        return "penalties are decided by the property bureau (§1)"
    if rpc in INSPECTION_WRITES - {"RecordSpotCheck"} and agency != "property-bureau":
        return "inspections are planned by the property bureau (§1, §5)"
    if (
        agency == "discipline"
        and write
        and rpc not in {"AcknowledgeWarning", "CloseWarning", "ContributeDrawEntropy"}
    ):
        # Its contribution to a 双随机 draw (issue 10 item 4; plan 四（七）: 行风监督) decides no
        # case: it only makes the draw's seed nobody else's choice.
        return "the discipline office supervises; it decides no case of the campaign"
    if rpc == "CloseWarning" and record.concerns_unit and identity.unit == record.concerns_unit:
        return "a unit does not close the warnings raised about its own failures"
    if service == "credit":
        return _credit_must_deny(rpc, identity)
    if service == "disclosure":
        return _disclosure_must_deny(rpc, identity)
    if service == "casework":
        return _casework_must_deny(rpc, identity, record) or _casework_personal_data_must_deny(
            rpc, identity, relation
        )
    if service == "inspection":
        return _inspection_must_deny(rpc, identity, record)
    return None


# -- credit (issue 10: "GetLedger answers anyone"), from DOMAIN.md §2 and §6 -----------------

CREDIT_FEED_OPERATIONS = {"GetFeedStatus", "RepushFeedRecord", "SweepDisplayPeriods"}


def _credit_must_deny(rpc: str, identity: Identity) -> str | None:
    if rpc in CREDIT_FEED_OPERATIONS and identity.unit != "putian":
        return (
            "the feeds to 信用中国(福建) and market regulation carry every unit's records "
            "(§6): a county-level identity neither reads nor runs them (§2)"
        )
    return None


# -- disclosure (issue 10: owners' and companies' requests), from DOMAIN.md §1 and §3 -------

DISCLOSURE_REGISTER = {"RegisterCompany", "RegisterCommunity", "ChangePropertyCompany"}


def _disclosure_must_deny(rpc: str, identity: Identity) -> str | None:
    if rpc in DISCLOSURE_REGISTER and identity.agency != "property-bureau":
        return "communities and their companies are registered by the property bureau (§1)"
    if (
        identity.agency == "property-company"
        and _is_write("disclosure", rpc)
        and rpc
        not in {
            "FileDisclosure",
            "AmendDisclosure",
            "FileSelfInspection",
            "RecordSelfInspectionRectification",
        }
    ):
        return (
            "a company files and corrects its disclosures; an audit of them is for the "
            "owners' committee or owners to ask (§1, §3)"
        )
    return None


# -- casework (issue 10: who handles a case, who answers a referral), from DOMAIN.md §1 (the
# property bureau leads and publishes typical cases; police acknowledge and report) and §7 --

CASEWORK_HANDLING = {
    "AssignCase",
    "StartInvestigation",
    "ResolveCase",
    "GiveFeedback",
    "CloseCase",
    "ReferToPolice",
    "FlagTypicalCase",
    "ShredPersonalData",
    "PublishTypicalCase",
    "RecordInterview",
}
CASEWORK_POLICE_REPORTS = {"AcknowledgeReferral", "ReportPoliceOutcome"}


def _casework_must_deny(rpc: str, identity: Identity, record: Resource) -> str | None:
    if rpc == "RecordInterview" and record.concerns_unit == identity.unit:
        return (
            "a county-level unit is interviewed by the city (plan 五（三）), never records its own"
        )
    if rpc in CASEWORK_HANDLING and identity.agency != "property-bureau":
        return (
            "a case is handled, referred, published and closed by the property bureau "
            "(§1, §7); townships mediate, the discipline office supervises"
        )
    if rpc in CASEWORK_POLICE_REPORTS and identity.agency != "police":
        return "only the police acknowledge a referral and report its outcome (§1, §7)"
    return None


# -- inspection (issue 10: "VerifyDraw, plans, spot checks and findings answer any agency of
# the unit, … so a company learns which communities will be inspected"; "the caller picks the
# 双随机 seed"; item 4: "neither the caller nor the service alone chooses the seed … a re-draw
# needs a reason"), from DOMAIN.md §1 and §5 -------------------------------------------------

INSPECTION_DRAW_SUPERVISORS = {"property-bureau", "discipline", "auditor"}


def _inspection_must_deny(rpc: str, identity: Identity, record: Resource) -> str | None:
    if (
        rpc == "VerifyDraw"
        and not record.published
        and identity.agency not in INSPECTION_DRAW_SUPERVISORS
    ):
        return (
            "before its checks are done a draw names the communities to be checked (§5): "
            "none but the planning bureau and those who supervise it may see it"
        )
    if rpc == "ContributeDrawEntropy" and identity.agency == "property-bureau":
        return (
            "the bureau that plans a draw does not also contribute to its seed: it would "
            "choose the draw alone"
        )
    if rpc == "RedrawSpotChecks" and identity.agency != "property-bureau":
        return "only the planning property bureau re-draws its plan, for a recorded reason (§5)"
    return None


# -- casework personal data (issue 10 item 7: "per-case PII keys sit in clear … and nobody
# records who read a complainant's name and phone"; "the city can list those reads"), from
# DOMAIN.md §2 and §7 ("The complainant's name and phone … shown only to the handling unit")
# -- ReadComplainant discloses them, ListPersonalDataReads lists who read them; both read. --

CASEWORK_COMPLAINANT_READ = "ReadComplainant"
CASEWORK_PERSONAL_DATA_READS_LIST = "ListPersonalDataReads"
READS["casework"] |= {CASEWORK_COMPLAINANT_READ, CASEWORK_PERSONAL_DATA_READS_LIST}
CASEWORK_HANDLING_AGENCIES = {"property-bureau", "township"}
"""Who may be "the handling unit" of a complaint (§1: the bureau handles, townships
mediate); the discipline office supervises, the others receive records."""


def _casework_personal_data_must_deny(rpc: str, identity: Identity, relation: str) -> str | None:
    if rpc == CASEWORK_COMPLAINANT_READ:
        if not relation.startswith("same unit"):
            return (
                "the complainant's name and phone are shown only to the handling unit "
                "(§7): not to another unit, nor to the city above it"
            )
        if identity.agency not in CASEWORK_HANDLING_AGENCIES:
            return (
                "the complainant's name and phone are for the unit that handles the "
                "complaint (§1, §7), not for those who supervise or receive its records"
            )
    if rpc == CASEWORK_PERSONAL_DATA_READS_LIST:
        if identity.unit != "putian":
            return (
                "the reads of complainants' data are listed for the city (issue 10 item "
                "7): a county-level unit does not audit its own reads"
            )
        if identity.agency in {"operator", "township", "credit-office", "market-regulation"}:
            return (
                "who read a complainant's data is an oversight record of the handling "
                "units (§7), not for operators or agencies that handle no complaint"
            )
    return None
