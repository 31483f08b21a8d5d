"""Valid disclosure-service requests to start tests from (each test changes what it checks)."""

from __future__ import annotations

import uuid
from typing import Any

from pubrev.disclosure.v1 import disclosure_pb2 as pb
from servicekit.testing import identity_metadata

USCC = "91350200776049653A"


def unique_code(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def company_request(uscc: str = USCC) -> pb.RegisterCompanyRequest:
    return pb.RegisterCompanyRequest(
        request_id=f"company-{uscc}", uscc=uscc, name="莆田市某物业服务有限公司"
    )


def register_request(code: str, unit: str = "chengxiang") -> pb.RegisterCommunityRequest:
    return pb.RegisterCommunityRequest(
        request_id=f"reg-{code}",
        community_code=code,
        name="阳光花园",
        address="城厢区龙桥街道1号",
        unit=unit,
        division_code="350302",
        township="龙桥街道",
        company_uscc=USCC,
        company_name="莆田市某物业服务有限公司",
        signboard_at_main_entrance=True,
        elevator_count=4,
        barrier_gate_count=2,
        has_leasable_space=True,
        household_count=320,
    )


def content(income_fen: int = 1_000_000) -> pb.DisclosureContent:
    """Income 10,000.00 yuan − cost 2,000.00 − expenditure 1,000.00 = surplus 7,000.00,
    distributed 5,000.00 to owners and 2,000.00 transferred to the maintenance fund."""
    cost, spent = income_fen // 5, income_fen // 10
    surplus = income_fen - cost - spent
    owners = surplus * 5 // 7
    return pb.DisclosureContent(
        income=[
            pb.IncomeItem(source="parking", amount_fen=income_fen // 2),
            pb.IncomeItem(source="advertising", amount_fen=income_fen - income_fen // 2),
        ],
        operating_cost_fen=cost,
        expenditure=[
            pb.ExpenditureItem(
                purpose="电梯维修", amount_fen=spent, owners_decision_ref="业主大会决议2026-03"
            )
        ],
        owners_share_fen=owners,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=surplus - owners,
        separate_account="兴业银行莆田分行 1234567890",
        contact_name="林经理",
        contact_phone="13905941234",
        posting_start="2026-04-05",
        posting_end="2026-05-10",
        posting_channels=["signboard", "wechat_group"],
    )


def file_request(
    code: str, year: int = 2026, quarter: int = 1, request_id: str | None = None
) -> pb.FileDisclosureRequest:
    return pb.FileDisclosureRequest(
        request_id=request_id or f"file-{code}-{year}Q{quarter}",
        community_code=code,
        year=year,
        quarter=quarter,
        content=content(),
    )


CITY = identity_metadata("property-bureau", "officer", "putian")
"""The city's bureau keeps the register of companies (disclosure's access policy)."""


async def register(stub: Any, code: str, metadata: Any, unit: str = "chengxiang") -> Any:
    """Registers the company as the city (idempotent by request_id), then the community
    with `metadata` (its unit's bureau, or the city)."""
    await stub.RegisterCompany(company_request(), metadata=CITY)
    return await stub.RegisterCommunity(register_request(code, unit), metadata=metadata)
