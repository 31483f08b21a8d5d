"""Configurable rules of the disclosure campaign, versioned with their legal basis.

Where the official figure was not available (DOMAIN.md marks it configurable), the value
lives here, named and versioned, never as a literal inside a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DisclosureRules:
    version: str
    max_company_share: Decimal
    """Largest share of the surplus the owners may grant the company (结余分配)."""
    legal_basis: str


DEFAULT_RULES = DisclosureRules(
    version="putian-2023.1",
    max_company_share=Decimal("0.30"),
    legal_basis=(
        "《民法典》第二百八十二条：利用业主共有部分产生的收入，扣除合理成本之后，属于业主共有；"
        "物业企业分成须经业主共同决定，比例上限按本市工作方案配置（可调整）"
    ),
)
