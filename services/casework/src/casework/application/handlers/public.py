"""Handlers of the owners' side of casework (issue 13 item 5): a complaint lodged by the
complainant (业主自行投诉) through a public front end or as an owner or owners' committee,
and the complaint's status (办理进度) for the complainant and for their community's owners.

The plan asks for complaint channels open to the public and the result told to the
complainant (四（一）: 公布…投诉举报电话及邮箱…公开征集公共收益问题线索…及时正面答复投诉人;
五（三）: 处理结果应同步反馈投诉人; 二（三）: 业主投诉渠道不够顺畅). A lodged complaint is a case
like any other (ComplaintReceived, channel `public`), handled by its community's unit; the
complainant's name and phone are sealed as ReceiveComplaint seals them (ADR 0005). Its
tracking number is drawn from the CSPRNG and is not stored with the case, which is found by
its digest: no event of the case, nor the case's history, gives it away. The request's
receipt keeps it, to answer a retry with the same number (the whole log, receipts included,
is the auditor's alone).
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import TYPE_CHECKING

from casework.application.access import POLICY, authorize
from casework.application.commands import (
    ComplaintLodged,
    ComplaintStatus,
    GetComplaintStatus,
    LodgeComplaint,
)
from casework.application.handlers.evidence import checked_evidence
from casework.application.handlers.personal_data import record_read
from casework.domain.case import (
    Case,
    is_tracking_number,
    new_tracking_number,
    phones_match,
)
from casework.domain.warnings.community_facts import CommunityFacts
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.agencies import Agency
from servicekit.errors import NotFound, Validator
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

STATUS_CHECK = "status_check"
"""The purpose recorded when a complainant's phone is compared with the one they lodged
with (GetComplaintStatus): nothing is shown, but the data was opened (ADR 0005)."""
DRAWS = 3
"""Tracking numbers drawn before giving up: two equal ones in 2**59 do not happen, but a
number already taken must never open another's case."""


def lodge_complaint(
    app: CaseworkApplication, identity: Identity, cmd: LodgeComplaint
) -> ComplaintLodged:
    POLICY.admit("LodgeComplaint", identity)
    limiter = app.public_limiter
    limiter.take("LodgeComplaint", limiter.limits.lodge, identity, cmd.complainant_phone)
    v = Validator()
    v.require_request_id(cmd.request_id)
    v.require(
        contact.is_community_code(cmd.community_code),
        "community_code",
        "code_format",
        contact.COMMUNITY_CODE_DESCRIPTION,
        contact.COMMUNITY_CODE_DESCRIPTION_ZH,
    )
    v.require(
        bool(cmd.category.strip()), "category", "required", "category required", "缺少投诉类别"
    )
    v.require_text(cmd.description, "description", 2000, "投诉内容", required=True, multiline=True)
    v.require_text(cmd.complainant_name, "complainant_name", 50, "投诉人姓名", required=True)
    v.require(
        contact.is_contact_number(cmd.complainant_phone),
        "complainant_phone",
        contact.RULE,
        contact.DESCRIPTION,
        contact.DESCRIPTION_ZH,
    )
    evidence = checked_evidence(app, v, cmd.attachments)
    # The handling unit is the community's, as disclosure registered it (CommunityRegistered,
    # remembered by the warnings' consumer): the public does not choose it.
    facts = None
    if contact.is_community_code(cmd.community_code):
        facts = app.find(CommunityFacts.create_id(cmd.community_code), CommunityFacts)
        v.require(
            facts is not None,
            "community_code",
            "unknown_community",
            "no community is registered under this code",
            "该小区编码未登记",
        )
    v.raise_if_any()
    assert facts is not None
    authorize(
        POLICY,
        "LodgeComplaint",
        identity,
        Resource(unit=facts.unit, company=facts.company, community=cmd.community_code),
    )
    received = app.clock()

    def execute() -> tuple[list[Case], ComplaintLodged]:
        tracking = next(
            (
                n
                for n in (new_tracking_number(app.tokens) for _ in range(DRAWS))
                if not _taken(app, n)
            ),
            None,
        )
        if tracking is None:  # pragma: no cover (2**-59 three times over)
            raise RuntimeError("no free tracking number after three draws")
        sealed = app.vault.seal(
            Case.public_id(tracking),
            {"name": cmd.complainant_name, "phone": cmd.complainant_phone},
        )
        case = Case.lodge_complaint(
            tracking,
            facts.unit,
            cmd.community_code,
            facts.company,
            cmd.category,
            cmd.description,
            received,
            sealed,
            app.limits,
            evidence,
        )
        return [case], ComplaintLodged(str(case.id), tracking, case.due_at.isoformat(), case.unit)

    return app.run_command(cmd, ComplaintLodged, execute)


def get_complaint_status(
    app: CaseworkApplication, identity: Identity, cmd: GetComplaintStatus
) -> ComplaintStatus:
    """The status of a lodged complaint: to the public only with the phone it was lodged
    with (compared in constant time; the comparison recorded as a read), to the owners and
    committee of its community without. A complaint the caller may not see, a wrong phone,
    a complaint whose personal data was shredded: all NOT_FOUND, alike."""
    POLICY.admit("GetComplaintStatus", identity)
    limiter = app.public_limiter
    limiter.take("GetComplaintStatus", limiter.limits.status, identity, cmd.tracking_number)
    public = identity.agency == Agency.PUBLIC
    v = Validator()
    v.require(
        is_tracking_number(cmd.tracking_number),
        "tracking_number",
        "tracking_number_format",
        "the 12-character tracking number the complaint was answered with",
        "查询码须为受理时告知的12位查询码",
    )
    v.require(
        not public or contact.is_contact_number(re.sub(r"[^0-9]", "", cmd.phone)),
        "phone",
        contact.RULE,
        contact.DESCRIPTION,
        contact.DESCRIPTION_ZH,
    )
    v.raise_if_any()
    unknown = NotFound("no complaint with this tracking number and phone", "未查询到该投诉")
    case = app.find(Case.public_id(cmd.tracking_number), Case)
    if case is None:
        raise unknown
    facts = Resource(unit=case.unit, company=case.company_uscc, community=case.community_code)
    if POLICY.decide("GetComplaintStatus", identity, facts) is None:
        raise unknown
    if public and not _phone_matches(app, identity, case, cmd.phone):
        raise unknown
    return ComplaintStatus(
        tracking_number=cmd.tracking_number,
        community_code=case.community_code,
        category=case.category,
        status=case.status,
        received_at=case.received_at.astimezone(UTC).isoformat(),
        due_at=(case.due_at if case.due_provisional else case.deadline())
        .astimezone(UTC)
        .isoformat(),
        feedback_given=case.feedback_given,
        result=case.result_told,
        closed_at=case.closed_at.astimezone(UTC).isoformat() if case.closed_at else "",
    )


def _taken(app: CaseworkApplication, tracking: str) -> bool:
    return app.find(Case.public_id(tracking), Case) is not None


def _phone_matches(app: CaseworkApplication, identity: Identity, case: Case, phone: str) -> bool:
    """Whether `phone` is the complainant's. Opening the sealed data is recorded before the
    caller gets any answer (who, through which front end, which case, why, and whether it
    matched: a run of guesses shows in the record; ADR 0005); a shredded case holds no
    phone to match."""
    if case.shredded:
        return False
    data = app.vault.open(case.id, case.sealed_personal_data)
    if data is None:
        return False
    matched = phones_match(data.get("phone", ""), phone)
    record_read(
        app, identity, case, STATUS_CHECK, "matched" if matched else "not matched", ("phone",)
    )
    return matched
