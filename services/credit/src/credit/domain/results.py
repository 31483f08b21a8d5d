"""Spot-check results of a company, as credit learns them from inspection (market
regulation records them under the company's USCC)."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid.UUID("1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")


class SpotCheckResult(Aggregate):
    class Noted(Aggregate.Created):
        spot_check_id: str
        company_uscc: str
        community_code: str
        unit: str
        inspected_at: datetime
        finding_kinds: list[str]

    @event(Noted)
    def __init__(
        self,
        spot_check_id: str,
        company_uscc: str,
        community_code: str,
        unit: str,
        inspected_at: datetime,
        finding_kinds: list[str],
    ) -> None:
        self.spot_check_id = spot_check_id
        self.company_uscc = company_uscc
        self.unit = unit

    @staticmethod
    def create_id(spot_check_id: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"result:{spot_check_id}")
