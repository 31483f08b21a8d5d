"""The load generator's own account of what each accepted command must cause.

Built from the requests sent and the answers received, never from the platform's stores:
the reconciliation (reconcile.py) then holds the stores, topics, read models and feeds
against it. Per accepted command:

- RegisterCompany: the company registered once.
- RegisterCommunity: the community registered once; inspection notes its registration once
  (disclosure's CommunityRegistered through Kafka).
- FileDisclosure: the disclosure filed once (version 1); inspection notes it once.
- AmendDisclosure: one more version; inspection notes that revision once.
- RegisterInspector, PlanSpotChecks, ContributeDrawEntropy: the roster and the drawn plan.
- RecordSpotCheck with n failed items: one SpotCheckDone, n findings each with its
  rectification order (inspection); n deductions, one per finding (credit, through Kafka);
  one spot-check result on market regulation's feed (credit); n rectification cases, one
  per finding (casework, through Kafka).
- ImposePenalty: the penalty once; on market regulation's feed always, on 信用中国 only when
  it is not minor (a minor penalty: nothing pushed there).
- ReceiveComplaint: a case, once; about a community: one lead noted by inspection.
- StartInvestigation, ReferToPolice: one investigation, one referral of that case.

A refused command (INVALID_ARGUMENT, FAILED_PRECONDITION, ...) must cause nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Community:
    code: str
    unit: str
    company_uscc: str


@dataclass
class Filing:
    disclosure_id: str
    community_code: str
    versions: int = 1
    """Accepted versions: the filing and each accepted amendment."""


@dataclass
class Check:
    spot_check_id: str
    community_code: str
    company_uscc: str
    findings: list[tuple[str, str, str]] = field(default_factory=list)
    """(finding_id, kind, severity)."""


@dataclass
class Penalty:
    decision_number: str
    penalty_id: str
    company_uscc: str
    published: bool


@dataclass
class Complaint:
    case_id: str
    community_code: str
    unit: str
    investigated: bool = False
    referred: bool = False


@dataclass
class Model:
    companies: dict[str, str] = field(default_factory=dict)
    """uscc → company id."""
    communities: dict[str, Community] = field(default_factory=dict)
    filings: dict[str, Filing] = field(default_factory=dict)
    inspectors: set[str] = field(default_factory=set)
    plans: dict[str, tuple[str, int]] = field(default_factory=dict)
    """plan id → (unit, year)."""
    drawn: set[str] = field(default_factory=set)
    checks: dict[str, Check] = field(default_factory=dict)
    penalties: dict[str, Penalty] = field(default_factory=dict)
    complaints: dict[str, Complaint] = field(default_factory=dict)
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)
    settled: set[str] = field(default_factory=set)
    """Communities whose filings and amendments are all sent: nothing of the workload
    changes their disclosures any more (the forged event's target is taken among them)."""
    mismatches: list[str] = field(default_factory=list)
    """Answers that contradict the model's expectation (e.g. a minor penalty said to be
    published): reported, and counted as failures."""

    def refuse(self, rpc: str, code: str) -> None:
        self.refused[(rpc, code)] += 1

    def accept(self, rpc: str, request: Any, reply: Any, published: bool | None = None) -> None:
        """Records an accepted command and what it must cause."""
        self.accepted[rpc] += 1
        handler = getattr(self, f"_on_{rpc}", None)
        if handler is not None:
            handler(request, reply, published)

    # -- disclosure ---------------------------------------------------------------------------

    def _on_RegisterCompany(self, request: Any, reply: Any, _: object) -> None:
        self.companies[request.uscc] = reply.company_id

    def _on_RegisterCommunity(self, request: Any, reply: Any, _: object) -> None:
        self.communities[request.community_code] = Community(
            request.community_code, request.unit, request.company_uscc
        )

    def _on_FileDisclosure(self, request: Any, reply: Any, _: object) -> None:
        self.filings[reply.disclosure_id] = Filing(reply.disclosure_id, request.community_code)

    def _on_AmendDisclosure(self, request: Any, reply: Any, _: object) -> None:
        filing = self.filings.get(request.disclosure_id)
        if filing is None:
            self.mismatches.append(
                f"amendment accepted for a disclosure never filed {request.disclosure_id[:40]}"
            )
            return
        filing.versions += 1
        if reply.version != filing.versions:
            self.mismatches.append(
                f"amendment of {filing.disclosure_id} answered version "
                f"{reply.version}, the model counts {filing.versions}"
            )

    # -- inspection ---------------------------------------------------------------------------

    def _on_RegisterInspector(self, request: Any, reply: Any, _: object) -> None:
        self.inspectors.add(request.inspector_code)

    def _on_PlanSpotChecks(self, request: Any, reply: Any, _: object) -> None:
        self.plans[reply.plan_id] = (request.unit, request.year)

    def _on_ContributeDrawEntropy(self, request: Any, reply: Any, _: object) -> None:
        self.drawn.add(request.plan_id)

    def _on_RecordSpotCheck(self, request: Any, reply: Any, _: object) -> None:
        failed = sum(1 for item in request.checklist if not item.passed)
        findings = [(f.finding_id, f.kind, f.severity) for f in reply.findings]
        companies = {f.company_uscc for f in reply.findings}
        company = companies.pop() if len(companies) == 1 else ""
        if not company:
            community = self.communities.get(request.community_code)
            company = community.company_uscc if community else ""
        if len(findings) != failed:
            self.mismatches.append(
                f"check of {request.community_code}: {failed} failed items "
                f"but {len(findings)} findings"
            )
        self.checks[reply.spot_check_id] = Check(
            reply.spot_check_id, request.community_code, company, findings
        )

    # -- credit -------------------------------------------------------------------------------

    def _on_ImposePenalty(self, request: Any, reply: Any, published: bool | None) -> None:
        expected = request.severity != "minor" if published is None else published
        if reply.published != expected:
            self.mismatches.append(
                f"penalty {request.decision_number}: severity "
                f"{request.severity} answered published={reply.published}"
            )
        self.penalties[request.decision_number] = Penalty(
            request.decision_number, reply.penalty_id, request.party_uscc, expected
        )

    # -- casework -----------------------------------------------------------------------------

    def _on_ReceiveComplaint(self, request: Any, reply: Any, _: object) -> None:
        self.complaints[reply.case_id] = Complaint(
            reply.case_id, request.community_code, request.unit
        )

    def _on_StartInvestigation(self, request: Any, reply: Any, _: object) -> None:
        complaint = self.complaints.get(request.case_id)
        if complaint is not None:
            complaint.investigated = True

    def _on_ReferToPolice(self, request: Any, reply: Any, _: object) -> None:
        complaint = self.complaints.get(request.case_id)
        if complaint is not None:
            complaint.referred = True

    # -- what it adds up to -------------------------------------------------------------------

    def findings(self) -> dict[str, Check]:
        """finding id → its check."""
        return {
            finding: check for check in self.checks.values() for finding, _, _ in check.findings
        }

    def leads(self) -> Counter[str]:
        """community code → complaints about it."""
        return Counter(c.community_code for c in self.complaints.values() if c.community_code)
