"""Helpers for the owners' side of casework (issue 13 part A): a community known to casework
(as disclosure's CommunityRegistered makes it known), the public's identity through a front
end, a complaint lodged, a case taken to its closure and flagged typical."""

from __future__ import annotations

from dataclasses import replace

from casework.application.app import CaseworkApplication
from casework.application.commands import (
    ComplaintLodged,
    FlagTypicalCase,
    LodgeComplaint,
)
from casework.application.handlers.warnings import on_community_registered
from pubrev_contracts.vocabulary.agencies import Agency
from servicekit.attachments import AttachmentRef
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from services.casework.tests.support.scenario import HEAD, NAME, PHONE, close_complaint

COMMUNITY = "LC-0001"
USCC = "91350200776049653A"
PUBLIC = Identity(Agency.PUBLIC, "anonymous", "putian", via="putian-app")
"""The public as a front end asserts it, without a person."""
COMMITTEE = Identity(Agency.OWNERS_COMMITTEE, "chair", "licheng", COMMUNITY)


def register_community(
    app: CaseworkApplication, code: str = COMMUNITY, unit: str = "licheng", company: str = USCC
) -> None:
    """The community as disclosure registered it (CommunityRegistered, through the warnings'
    consumer): casework then knows its unit and company."""
    on_community_registered(
        app,
        DeliveryRef("casework.warnings.disclosure", f"community-{code}", 1),
        community_code=code,
        unit=unit,
        company=company,
        elevators=2,
        barrier_gates=1,
        leasable_space=False,
    )


def lodging(
    request_id: str = "l1",
    phone: str = PHONE,
    attachments: tuple[AttachmentRef, ...] = (),
    community: str = COMMUNITY,
) -> LodgeComplaint:
    return LodgeComplaint(
        request_id=request_id,
        community_code=community,
        category="revenue_not_disclosed",
        description="电梯广告收入从未公示",
        complainant_name=NAME,
        complainant_phone=phone,
        attachments=attachments,
    )


def lodge(
    app: CaseworkApplication, identity: Identity = PUBLIC, request_id: str = "l1", **changes: object
) -> ComplaintLodged:
    lodged: ComplaintLodged = app.handle(identity, replace(lodging(request_id), **changes))
    return lodged


def closed_typical(app: CaseworkApplication, case_id: str, prefix: str = "") -> None:
    """Investigated, resolved, fed back, closed and flagged typical by licheng's bureau."""
    close_complaint(app, case_id, prefix)
    app.handle(HEAD, FlagTypicalCase(f"{prefix}t", case_id, "群众反映强烈"))
