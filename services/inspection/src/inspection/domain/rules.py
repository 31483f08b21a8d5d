"""Configurable inspection rules, versioned with their legal basis (DOMAIN.md §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil


@dataclass(frozen=True)
class InspectionRules:
    version: str
    city_percent: int
    """The city checks at least this share of all communities each year."""
    unit_percent: int
    """Each county-level unit checks at least this share of its own communities."""
    rectification_days: dict[str, int] = field(default_factory=dict)
    """Days to rectify, by severity."""
    legal_basis: str = ""

    def quota(self, communities: int, city: bool) -> int:
        percent = self.city_percent if city else self.unit_percent
        return ceil(communities * percent / 100)  # "at least": round up


DEFAULT_RULES = InspectionRules(
    version="putian-2023.1",
    city_percent=15,
    unit_percent=50,
    rectification_days={"minor": 15, "general": 30, "serious": 60},
    legal_basis="莆田市住宅小区公共收益专项整治工作方案（2023）：市级抽查不少于15%，"
                "县级抽查不少于50%，乡镇（街道）全覆盖",
)
