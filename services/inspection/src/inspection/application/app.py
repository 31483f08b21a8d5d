"""The inspection application (so far: the disclosure watch that feeds spot-check pools)."""

from __future__ import annotations

from dataclasses import dataclass

from inspection.domain.watch import CommunityWatch, NotedDisclosure
from servicekit.errors import NotFound, PermissionDenied
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import Identity


@dataclass(frozen=True)
class CommunityDisclosureView:
    community_code: str
    unit: str
    disclosure_id: str
    year: int
    quarter: int
    income_total_fen: int
    surplus_fen: int
    late: bool
    zero_revenue: bool
    disclosures_noted: int


class InspectionApplication(ServiceApplication):
    name = "inspection"

    def note_disclosure(self, noted: NotedDisclosure, delivery: DeliveryRef) -> bool:
        """Applies a disclosure event once; False when it had been applied already."""
        if self.already_applied(delivery):
            return False
        watch_id = CommunityWatch.create_id(noted.community_code)
        watch = self.find(watch_id, CommunityWatch) or CommunityWatch(
            noted.community_code, noted.unit
        )
        watch.note(noted)
        return self.record(watch, delivery=delivery)

    def community_disclosure(
        self, identity: Identity, community_code: str
    ) -> CommunityDisclosureView:
        watch = self.find(CommunityWatch.create_id(community_code), CommunityWatch)
        if watch is None or watch.latest is None:
            raise NotFound(
                f"no disclosure of community {community_code} has reached inspection",
                f"检查系统尚未收到小区 {community_code} 的公示",
            )
        if not identity.may_access_unit(watch.unit):
            raise PermissionDenied(
                f"{identity.unit} may not read community {community_code} of {watch.unit}",
                "无权查看其他辖区的小区",
            )
        latest = watch.latest
        return CommunityDisclosureView(
            community_code=watch.community_code, unit=watch.unit,
            disclosure_id=latest.disclosure_id, year=latest.year, quarter=latest.quarter,
            income_total_fen=latest.income_total_fen, surplus_fen=latest.surplus_fen,
            late=latest.late, zero_revenue=latest.zero_revenue,
            disclosures_noted=watch.disclosures_noted,
        )
