"""The command handlers of the disclosure service, and `HANDLERS`, the map from command
type to handler that `DisclosureApplication.handle(identity, command)` dispatches on.

Each handler admits the caller before it reads anything (`POLICY.admit`), lists every bad
field at once (the command's own `check()` and the aggregate's `check_*`), loads what it
needs, authorizes on the record's facts (`permit`), calls the aggregate's verb, and saves
through servicekit's idempotent `run_command`: the receipt is named after the command's
type, and a retry is answered with the first result. The rules are the aggregates'.

Following FileDisclosure from the wire to the stored event takes six hand-written files:
contracts/proto/pubrev/disclosure/v1/disclosure.proto (the RPC and its bounds) →
entrypoints/grpc_api.py (request → FileDisclosure, DisclosureFiled → response) →
application/commands.py (FileDisclosure, DisclosureFiled) → application/handlers.py
(`prepare_file_disclosure`) → application/access.py (who may file) →
domain/disclosure.py (`Disclosure.file` and the event `Disclosure.Filed`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from disclosure.application.access import (
    POLICY,
    Filter,
    audit_facts,
    authorize_list,
    check_audit_requester,
    community_facts,
    disclosure_facts,
    permit,
    self_inspection_facts,
    self_inspection_filer_facts,
)
from disclosure.application.commands import (
    AmendDisclosure,
    AuditRequested,
    AuditResultRecorded,
    ChangePropertyCompany,
    CloseQuarter,
    CommunityRegistered,
    CompanyRegistered,
    DisclosureAmended,
    DisclosureFiled,
    FileDisclosure,
    FileSelfInspection,
    PropertyCompanyChanged,
    QuarterClosed,
    RecordAuditResult,
    RecordSelfInspectionRectification,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
    SelfInspectionFiled,
    SelfInspectionItemRectified,
)
from disclosure.domain.community import Community, require_deadline_passed
from disclosure.domain.disclosure import Disclosure
from disclosure.domain.property_company import APPLICATION, PropertyCompany
from disclosure.domain.self_inspection_ledger import SelfInspectionLedger
from pubrev_contracts.vocabulary.calendar import Quarter
from servicekit.errors import (
    AlreadyExists,
    Conflict,
    FieldViolation,
    InvalidArgument,
    NotFound,
    RuleViolated,
    ServiceError,
    excerpt,
)
from servicekit.eventstore import Prepared
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from disclosure.application.app import DisclosureApplication


def register_company(
    app: DisclosureApplication, identity: Identity, cmd: RegisterCompany
) -> CompanyRegistered:
    POLICY.admit("RegisterCompany", identity)
    source = cmd.source or APPLICATION
    _refuse(cmd.check(), PropertyCompany.check_registration(cmd.uscc, source))
    permit("RegisterCompany", identity, Resource())

    def execute() -> tuple[list[PropertyCompany], CompanyRegistered]:
        if app.exists(PropertyCompany.create_id(cmd.uscc)):
            raise AlreadyExists(
                f"company {excerpt(cmd.uscc)} is registered already",
                f"企业 {excerpt(cmd.uscc)} 已登记",
            )
        company = PropertyCompany.register(cmd.uscc, cmd.name, source)
        return [company], CompanyRegistered(str(company.id), company.version, company.uscc_flagged)

    return app.run_command(cmd, CompanyRegistered, execute)


def register_community(
    app: DisclosureApplication, identity: Identity, cmd: RegisterCommunity
) -> CommunityRegistered:
    POLICY.admit("RegisterCommunity", identity)
    _refuse(
        cmd.check(),
        Community.check_registration(
            cmd.unit,
            cmd.division_code,
            cmd.elevator_count,
            cmd.barrier_gate_count,
            cmd.household_count,
        ),
    )
    permit("RegisterCommunity", identity, Resource(unit=cmd.unit))
    company = _company(app, cmd.company_uscc)

    def execute() -> tuple[list[Community], CommunityRegistered]:
        if app.exists(Community.create_id(cmd.community_code)):
            raise AlreadyExists(
                f"community {excerpt(cmd.community_code)} is registered already",
                f"小区 {excerpt(cmd.community_code)} 已登记",
            )
        community = Community.register(
            code=cmd.community_code,
            name=cmd.name,
            address=cmd.address,
            unit=cmd.unit,
            division_code=cmd.division_code,
            township=cmd.township,
            company=company,
            company_name=cmd.company_name,
            signboard_at_main_entrance=cmd.signboard_at_main_entrance,
            elevator_count=cmd.elevator_count,
            barrier_gate_count=cmd.barrier_gate_count,
            has_leasable_space=cmd.has_leasable_space,
            household_count=cmd.household_count,
            registered_at=app.clock(),
        )
        return [community], CommunityRegistered(str(community.id), community.version)

    return app.run_command(cmd, CommunityRegistered, execute)


def change_property_company(
    app: DisclosureApplication, identity: Identity, cmd: ChangePropertyCompany
) -> PropertyCompanyChanged:
    POLICY.admit("ChangePropertyCompany", identity)
    _refuse(cmd.check(), Community.check_handover(cmd.effective_date))
    community = _community(app, cmd.community_code)
    permit("ChangePropertyCompany", identity, community_facts(community))
    company = _company(app, cmd.new_company_uscc)

    def execute() -> tuple[list[Community], PropertyCompanyChanged]:
        community.change_company(company, cmd.effective_date, cmd.reason)
        return [community], PropertyCompanyChanged(str(community.id), community.version)

    return app.run_command(cmd, PropertyCompanyChanged, execute)


def file_disclosure(
    app: DisclosureApplication, identity: Identity, cmd: FileDisclosure
) -> DisclosureFiled:
    prepared = prepare_file_disclosure(app, identity, cmd)
    if isinstance(prepared, Prepared):
        return app.commit_command(prepared, DisclosureFiled)
    return prepared


def file_disclosure_reads(cmd: FileDisclosure) -> list[uuid.UUID]:
    """What `prepare_file_disclosure` reads without changing it (its community): the group
    committer reads it with the group's others in one query."""
    return [Community.create_id(cmd.community_code)]


def prepare_file_disclosure(
    app: DisclosureApplication, identity: Identity, cmd: FileDisclosure
) -> Prepared | DisclosureFiled:
    """Decides a filing without committing it, so that the servicer's group committer
    commits concurrent filings in one transaction (servicekit.group_commit, ADR 0003); a
    repeated request is answered with its first result."""
    POLICY.admit("FileDisclosure", identity)
    now = app.clock()
    period = cmd.period
    _refuse(cmd.check(), Disclosure.check_filing(period, cmd.content, now, app.rules))
    assert period is not None  # a year or quarter out of range was refused just now
    community = _community(app, cmd.community_code, read_only=True)
    # The company that managed the quarter files it, even after a handover.
    managing = community.company_for(period)
    permit(
        "FileDisclosure",
        identity,
        Resource(unit=community.unit, company=managing, community=community.code),
    )
    disclosure_id = Disclosure.create_id(cmd.community_code, period.year, period.quarter)

    def on_conflict() -> ServiceError:
        if app.exists(disclosure_id):
            return AlreadyExists(
                f"the disclosure of {cmd.community_code} for {period} is filed already; "
                "amend it instead",
                f"小区 {cmd.community_code} {period} 的公示已提交，如需更正请提交更正",
            )
        return Conflict(
            "a concurrent command changed the same record first; retry",
            "数据已被并发修改，请重试",
        )

    def execute() -> tuple[list[Disclosure], DisclosureFiled]:
        # Optimistic: no read for an existing filing; a second one fails at commit on the
        # unique version 1 of this disclosure id, and on_conflict says why.
        disclosure = Disclosure.file(community, period, cmd.content, now, app.rules)
        return [disclosure], DisclosureFiled(
            disclosure_id=str(disclosure.id),
            version=disclosure.version,
            late=disclosure.late,
            zero_revenue=cmd.content.zero_revenue,
            deficit=cmd.content.deficit,
        )

    return app.prepare_command(cmd, DisclosureFiled, execute, on_conflict)


def amend_disclosure(
    app: DisclosureApplication, identity: Identity, cmd: AmendDisclosure
) -> DisclosureAmended:
    POLICY.admit("AmendDisclosure", identity)
    _refuse(cmd.check(), Disclosure.check_amendment(cmd.reason, cmd.content, app.rules))
    disclosure = _disclosure(app, uuid.UUID(cmd.disclosure_id))
    permit("AmendDisclosure", identity, disclosure_facts(disclosure))

    def execute() -> tuple[list[Disclosure], DisclosureAmended]:
        if disclosure.version != cmd.expected_version:
            raise Conflict(
                f"disclosure is at version {disclosure.version}, not {cmd.expected_version}: "
                "someone amended it first; read it again",
                f"该公示已被更新至第 {disclosure.version} 版，请重新读取后再更正",
            )
        disclosure.amend(cmd.reason, cmd.content, app.rules)
        return [disclosure], DisclosureAmended(str(disclosure.id), disclosure.version)

    return app.run_command(cmd, DisclosureAmended, execute)


def request_audit(
    app: DisclosureApplication, identity: Identity, cmd: RequestAudit
) -> AuditRequested:
    POLICY.admit("RequestAudit", identity)
    _refuse(
        cmd.check(),
        Disclosure.check_audit_request(cmd.requester, cmd.owners_count, cmd.reason),
    )
    check_audit_requester(identity, cmd.requester)
    disclosure = _disclosure(app, uuid.UUID(cmd.disclosure_id))
    permit("RequestAudit", identity, disclosure_facts(disclosure))
    community = _community(app, disclosure.community_code, read_only=True)

    def execute() -> tuple[list[Disclosure], AuditRequested]:
        disclosure.request_audit(
            cmd.requester, cmd.owners_count, community.household_count, cmd.reason
        )
        return [disclosure], AuditRequested(str(disclosure.id), disclosure.version)

    return app.run_command(cmd, AuditRequested, execute)


def close_quarter(
    app: DisclosureApplication, identity: Identity, cmd: CloseQuarter
) -> QuarterClosed:
    """Marks each community registered before the deadline and without a filing overdue,
    once, within the caller's scope. Each community is saved on its own: a close that stops
    half-way is finished by the next (this one's repeat, or the hourly sweep)."""
    grants = POLICY.admit("CloseQuarter", identity)
    _refuse(cmd.check())
    period = Quarter(cmd.year, cmd.quarter)
    scope = authorize_list("CloseQuarter", identity, grants, Filter(unit=cmd.unit))
    now = app.clock()
    require_deadline_passed(period, now)
    app.read_model.catch_up()
    marked = already = filed = 0
    for code in app.read_model.community_codes(registered_before=period.deadline):
        community = _community(app, code)
        if scope.unit and community.unit != scope.unit:
            continue
        if app.exists(Disclosure.create_id(code, period.year, period.quarter)):
            filed += 1
        elif community.mark_overdue(period, now):
            app.record(community)
            marked += 1
        else:
            already += 1
    return QuarterClosed(marked_overdue=marked, already_overdue=already, filed=filed)


def record_audit_result(
    app: DisclosureApplication, identity: Identity, cmd: RecordAuditResult
) -> AuditResultRecorded:
    POLICY.admit("RecordAuditResult", identity)
    now = app.clock()
    _refuse(
        cmd.check(),
        Disclosure.check_audit_result(
            cmd.auditor, cmd.conclusion, cmd.discrepancy_fen, cmd.summary, cmd.posted_on, now
        ),
    )
    disclosure = _disclosure(app, uuid.UUID(cmd.disclosure_id))
    permit("RecordAuditResult", identity, audit_facts(disclosure))

    def execute() -> tuple[list[Disclosure], AuditResultRecorded]:
        audit = disclosure.record_audit_result(
            cmd.auditor, cmd.conclusion, cmd.discrepancy_fen, cmd.summary, cmd.posted_on, now
        )
        return [disclosure], AuditResultRecorded(str(disclosure.id), disclosure.version, audit)

    return app.run_command(cmd, AuditResultRecorded, execute)


# -- the self-inspection ledger (自查自纠台账) ---------------------------------------------------


def file_self_inspection(
    app: DisclosureApplication, identity: Identity, cmd: FileSelfInspection
) -> SelfInspectionFiled:
    POLICY.admit("FileSelfInspection", identity)
    now = app.clock()
    _refuse(
        cmd.check(),
        SelfInspectionLedger.check_filing(
            cmd.campaign_year, cmd.items, cmd.posted_on, cmd.owners_notified_via, now
        ),
    )
    community = _community(app, cmd.community_code, read_only=True)
    permit("FileSelfInspection", identity, self_inspection_filer_facts(community))
    ledger_id = SelfInspectionLedger.create_id(cmd.community_code, cmd.year)

    def execute() -> tuple[list[SelfInspectionLedger], SelfInspectionFiled]:
        if app.exists(ledger_id):
            raise AlreadyExists(
                f"the self-inspection ledger of {cmd.community_code} for {cmd.year} is filed "
                "already; record its rectifications instead",
                f"小区 {cmd.community_code} {cmd.year}年的自查自纠台账已提交",
            )
        ledger = SelfInspectionLedger.file(
            community,
            cmd.year,
            cmd.items,
            cmd.posted_on,
            cmd.owners_notified_via,
            now,
            app.campaign,
        )
        return [ledger], SelfInspectionFiled(
            str(ledger.id), ledger.version, ledger.late, len(ledger.items_state)
        )

    return app.run_command(cmd, SelfInspectionFiled, execute)


def record_self_inspection_rectification(
    app: DisclosureApplication, identity: Identity, cmd: RecordSelfInspectionRectification
) -> SelfInspectionItemRectified:
    POLICY.admit("RecordSelfInspectionRectification", identity)
    now = app.clock()
    _refuse(
        cmd.check(),
        SelfInspectionLedger.check_rectification(cmd.campaign_year, cmd.rectified_on, now),
    )
    ledger = self_inspection_ledger(app, cmd.community_code, cmd.year)
    permit("RecordSelfInspectionRectification", identity, self_inspection_facts(ledger))

    def execute() -> tuple[list[SelfInspectionLedger], SelfInspectionItemRectified]:
        ledger.record_rectification(cmd.item, cmd.rectified_on, cmd.note, now)
        return [ledger], SelfInspectionItemRectified(
            str(ledger.id), ledger.version, ledger.rectifications[cmd.item].past_deadline
        )

    return app.run_command(cmd, SelfInspectionItemRectified, execute)


HANDLERS: Mapping[type, Callable[..., Any]] = {
    RegisterCompany: register_company,
    RegisterCommunity: register_community,
    ChangePropertyCompany: change_property_company,
    FileDisclosure: file_disclosure,
    AmendDisclosure: amend_disclosure,
    RequestAudit: request_audit,
    CloseQuarter: close_quarter,
    RecordAuditResult: record_audit_result,
    FileSelfInspection: file_self_inspection,
    RecordSelfInspectionRectification: record_self_inspection_rectification,
}


# -- loading -----------------------------------------------------------------------------------


def _company(app: DisclosureApplication, uscc: str) -> PropertyCompany:
    company = app.find(PropertyCompany.create_id(uscc), PropertyCompany)
    if company is None:
        raise RuleViolated(
            f"property company {excerpt(uscc)} is not registered; register it first",
            f"物业服务企业 {excerpt(uscc)} 未登记，请先登记企业",
        )
    return company


def _community(app: DisclosureApplication, code: str, read_only: bool = False) -> Community:
    """`read_only`: the handler will not change it (the cached copy, not a deep copy)."""
    community = app.find(Community.create_id(code), Community, read_only=read_only)
    if community is None:
        raise NotFound(
            f"community {excerpt(code)} is not registered", f"小区 {excerpt(code)} 未登记"
        )
    return community


def _disclosure(app: DisclosureApplication, disclosure_id: uuid.UUID) -> Disclosure:
    disclosure = app.find(disclosure_id, Disclosure)
    if disclosure is None:
        raise NotFound(f"disclosure {excerpt(disclosure_id)} does not exist", "公示记录不存在")
    return disclosure


def self_inspection_ledger(
    app: DisclosureApplication, code: str, year: int, read_only: bool = False
) -> SelfInspectionLedger:
    """The community's ledger of the year, or NotFound (queries load it too)."""
    ledger = app.find(
        SelfInspectionLedger.create_id(code, year), SelfInspectionLedger, read_only=read_only
    )
    if ledger is None:
        raise NotFound(
            f"no self-inspection ledger of {excerpt(code)} for {year} is filed",
            f"小区 {excerpt(code)} 未提交{year}年的自查自纠台账",
        )
    return ledger


def _refuse(*found: list[FieldViolation]) -> None:
    """InvalidArgument listing every bad field found, if any."""
    violations = [v for each in found for v in each]
    if violations:
        raise InvalidArgument(violations)
