"""Spot-check results of a company, as credit learns them from inspection (market
regulation records them under the company's USCC)."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

NAMESPACE = uuid.UUID("1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")


class SpotCheckResult(Aggregate):
    """A spot check's outcome for the company it checked: noted once, pushed to market
    regulation (the failed items as its findings)."""

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


# Stored events name the module this class lived in until issue 12 (credit.domain.results):
# those topics must keep resolving, here, for as long as such events are stored (ADR 0014).
register_topic("credit.domain.results:SpotCheckResult", SpotCheckResult)
register_topic("credit.domain.results:SpotCheckResult.Noted", SpotCheckResult.Noted)
