"""Configurable rules of the disclosure campaign, versioned with their legal basis.

Where the official figure was not available (DOMAIN.md marks it configurable), the value
lives here, named and versioned, never as a literal inside a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from campaign.sources import local
from campaign.violations import CIVIL_CODE_282


@dataclass(frozen=True)
class DisclosureRules:
    version: str
    max_company_share: Decimal
    """Largest share of the surplus the owners may grant the company (结余分配)."""
    legal_basis: str
    """Why a company share needs the owners' decision at all."""
    max_company_share_source: str
    """Where the cap's value comes from."""


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
