"""The rule values of the disclosure service, each with its source: the fixed ones of
DOMAIN.md §3, and the configurable ones, versioned with their legal basis.

Where the official figure was not available (DOMAIN.md marks it configurable), the value
lives here, named and versioned, never as a literal inside a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pubrev_contracts.vocabulary.sources import local, plan
from pubrev_contracts.vocabulary.violations import CIVIL_CODE_282

MIN_POSTING_DAYS = 30
"""A disclosure stays posted at least 30 days (DOMAIN.md §3)."""
AUDIT_OWNER_SHARE = (1, 5)
"""Owners holding at least 1/5 (20%, by count) of the households may ask for a third-party
audit of a disclosure (DOMAIN.md §3, plan 四（六）)."""

SELF_INSPECTION_SOURCE = plan("五（二）自查自纠阶段")
"""The self-inspection ledger (自查自纠台账): each problem with its measure, deadline and
person responsible, the result posted in the community by the stage's due date and every
owner told of it by electronic means (微信、短信、电话等)."""
SELF_INSPECTION_MAX_ITEMS = 200
"""At most this many problems in one ledger: the bound of FileSelfInspection's list
(disclosure.proto) and of the event the relay publishes."""
SELF_INSPECTION_MAX_ITEMS_SOURCE = local("一份自查自纠台账至多200项问题（防止异常数据）")
AUDIT_RESULT_SOURCE = plan("四（六）加强审计整改")
"""A third-party audit asked for by the owners' committee or a fifth of the owners, whose
result, where it finds problems, the unit's bureau follows up with the township."""


@dataclass(frozen=True)
class DisclosureRules:
    version: str
    max_company_share: Decimal
    """Largest share of the surplus the owners may grant the company (结余分配)."""
    legal_basis: str
    """Why a company share needs the owners' decision at all."""
    max_company_share_source: str
    """Where the cap's value comes from."""
    max_item_fen: int = 10_000_000_000
    """Ceiling of one amount of a filing (an income or expenditure line, the cost, a share,
    the transfer), in fen: ¥100 million, far above any community's quarter. It also keeps
    every sum the platform stores inside PostgreSQL's bigint (two lines of 2^63−1 fen were
    once accepted, and the read model's projector looped on `bigint out of range`). The
    contract declares the same bound (disclosure.proto)."""
    max_filing_fen: int = 100_000_000_000
    """Ceiling of a filing's income total and of its cost plus expenditure, in fen
    (¥1 billion)."""
    amount_cap_source: str = local("单项金额不超过1亿元、单季合计不超过10亿元（防止异常数据）")
    """Where the two ceilings come from: no source sets them."""


DEFAULT_RULES = DisclosureRules(
    version="putian-2023.2",
    max_company_share=Decimal("0.30"),
    legal_basis=(
        f"{CIVIL_CODE_282}：利用业主共有部分产生的收入，扣除合理成本之后，属于业主共有；"
        "物业企业分成须经业主共同决定，比例可配置（DOMAIN.md §3 结余分配）"
    ),
    # Neither the work plan nor the law sets a cap: 30% is the bureau's own setting.
    max_company_share_source=local("物业企业分成不超过结余的30%"),
)
