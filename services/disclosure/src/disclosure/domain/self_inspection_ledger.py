"""自查自纠台账 (SelfInspectionLedger): a community's self-inspection ledger of one campaign
year, kept by its property company (work plan 五（二）, DOMAIN.md §5b).

Its rules (`SELF_INSPECTION_SOURCE`):
- each problem the company found names the measure taken, its deadline and the person
  responsible (明确整改措施、整改时限和责任人); a company that found none files an empty
  ledger, which is its result as well;
- the result is posted in the community (公告栏、楼道、电梯等醒目位置) on a day that has come,
  and every owner is told of it by electronic means (微信、短信、电话等): the filing says how;
- one ledger per community and year, filed by the company in charge of the community when it
  is filed (it is the one posting in the community), or by the unit's bureau on its behalf;
- a ledger filed after the campaign calendar's `self_inspection` stage (20 July in the 2023
  plan: vocabulary.campaign) is late; a year the calendar lacks is never guessed
  (CampaignCalendarNotConfigured);
- each problem's rectification is recorded once, with its day; one rectified after the
  deadline the ledger set for it, or still open once that deadline is over, is past it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from disclosure.domain.community import Community
from disclosure.domain.ids import NAMESPACE
from disclosure.domain.rules import SELF_INSPECTION_MAX_ITEMS
from pubrev_contracts.vocabulary.campaign import (
    CAMPAIGN,
    SELF_INSPECTION,
    CampaignCalendar,
    Stage,
    shanghai_date,
)
from servicekit.errors import FieldViolation, RuleViolated, Validator

OWNERS_NOTIFIED_VIA = ("wechat_group", "sms", "phone")
"""How every owner is told of the result (plan 五（二）: 通过微信、短信、电话等电子信息方式告知全体
业主; 附件1 item 37: 通过业主微信群)."""


@dataclass(frozen=True)
class SelfInspectionItem:
    """One problem of the ledger: what was wrong, the measure, its deadline, who answers."""

    problem: str
    measure: str
    deadline: date | None
    """None: the request gave no date (refused as `date_format`)."""
    responsible: str

    def to_state(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "measure": self.measure,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "responsible": self.responsible,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SelfInspectionItem:
        deadline = state["deadline"]
        return cls(
            problem=state["problem"],
            measure=state["measure"],
            deadline=date.fromisoformat(deadline) if deadline else None,
            responsible=state["responsible"],
        )


@dataclass(frozen=True)
class Rectification:
    rectified_on: date
    note: str
    past_deadline: bool


@dataclass(frozen=True)
class ItemStanding:
    """One problem as it stands on a day: rectified (when), or still open."""

    number: int
    item: SelfInspectionItem
    rectification: Rectification | None
    past_deadline: bool
    """Rectified after its deadline, or not rectified and its deadline over that day."""


class SelfInspectionLedger(Aggregate):
    """One community's self-inspection ledger of one campaign year (自查自纠台账)."""

    class Filed(Aggregate.Created):
        community_id: uuid.UUID
        community_code: str
        unit: str
        company_uscc: str
        year: int
        items: list[dict[str, Any]]
        posted_on: str
        owners_notified_via: list[str]
        late: bool
        filed_at: datetime

    class ItemRectified(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        year: int
        item: int
        rectified_on: str
        note: str
        past_deadline: bool
        recorded_at: datetime

    @event(Filed)
    def __init__(
        self,
        community_id: uuid.UUID,
        community_code: str,
        unit: str,
        company_uscc: str,
        year: int,
        items: list[dict[str, Any]],
        posted_on: str,
        owners_notified_via: list[str],
        late: bool,
        filed_at: datetime,
    ) -> None:
        self.community_id = community_id
        self.community_code = community_code
        self.unit = unit
        self.company_uscc = company_uscc
        self.year = year
        self.items_state = items
        self.posted_on = date.fromisoformat(posted_on)
        self.owners_notified_via = tuple(owners_notified_via)
        self.late = late
        self.filed_at = filed_at
        self.rectifications: dict[int, Rectification] = {}

    @staticmethod
    def create_id(community_code: str, year: int) -> uuid.UUID:
        # eventsourcing calls this with the constructor's arguments of the same names.
        return uuid.uuid5(NAMESPACE, f"self-inspection:{community_code}:{year}")

    @property
    def items(self) -> tuple[SelfInspectionItem, ...]:
        return tuple(SelfInspectionItem.from_state(s) for s in self.items_state)

    # -- filing ------------------------------------------------------------------------------

    @classmethod
    def file(
        cls,
        community: Community,
        year: int,
        items: tuple[SelfInspectionItem, ...],
        posted_on: date | None,
        owners_notified_via: tuple[str, ...],
        now: datetime,
        calendar: CampaignCalendar = CAMPAIGN,
    ) -> SelfInspectionLedger:
        """Files `community`'s ledger of `year` at `now`, in the name of the company in
        charge of it now, late when the year's `self_inspection` stage is over.
        InvalidArgument as `check_filing` says; CampaignCalendarNotConfigured for a year the
        campaign calendar lacks."""
        v = Validator()
        v.violations.extend(cls.check_filing(year, items, posted_on, owners_notified_via, now))
        v.raise_if_any()
        assert posted_on is not None  # refused just now otherwise
        stage = cls.stage(year, calendar)
        return cls(
            community_id=community.id,
            community_code=community.code,
            unit=community.unit,
            company_uscc=community.company_uscc,
            year=year,
            items=[i.to_state() for i in items],
            posted_on=posted_on.isoformat(),
            owners_notified_via=list(owners_notified_via),
            late=stage.due_passed(now),
            filed_at=now,
        )

    @staticmethod
    def stage(year: int, calendar: CampaignCalendar = CAMPAIGN) -> Stage:
        """The campaign stage a year's ledger is due by (its due date and basis)."""
        return calendar.stage(year, SELF_INSPECTION)

    @staticmethod
    def check_filing(
        year: int | None,
        items: tuple[SelfInspectionItem, ...],
        posted_on: date | None,
        owners_notified_via: tuple[str, ...],
        now: datetime,
    ) -> list[FieldViolation]:
        """What refuses a ledger: a problem without its measure, deadline or person
        responsible, too many problems, a posting day not yet come or before the year, no
        word of how the owners were told. `year` None: the request's year is out of range
        (the command says so); the rest is still checked."""
        v = Validator()
        v.require(
            len(items) <= SELF_INSPECTION_MAX_ITEMS,
            "items",
            "too_many_items",
            f"at most {SELF_INSPECTION_MAX_ITEMS} problems in one ledger",
            f"一份自查自纠台账至多{SELF_INSPECTION_MAX_ITEMS}项问题",
        )
        for n, item in enumerate(items):
            for field, value, zh in (
                ("problem", item.problem, "问题"),
                ("measure", item.measure, "整改措施"),
                ("responsible", item.responsible, "责任人"),
            ):
                v.require(
                    bool(value.strip()),
                    f"items[{n}].{field}",
                    "required",
                    f"each problem names its {field} (plan 五（二）)",
                    f"每项问题须明确{zh}",
                )
            v.require(
                item.deadline is not None,
                f"items[{n}].deadline",
                "date_format",
                "the rectification deadline must be a date YYYY-MM-DD",
                "整改时限须为日期（YYYY-MM-DD）",
            )
        today = shanghai_date(now)
        if posted_on is None:
            v.add("posted_on", "date_format", "must be a date YYYY-MM-DD", "公示日期格式错误")
        else:
            v.require(
                posted_on <= today,
                "posted_on",
                "posted_in_future",
                f"posted on {posted_on}, a day that has not come (today is {today})",
                f"公示日期 {posted_on} 晚于今日 {today}",
            )
            if year is not None:
                v.require(
                    posted_on.year >= year,
                    "posted_on",
                    "posted_before_year",
                    f"a ledger of {year} is posted in {year} or later",
                    f"{year}年的自查自纠结果不能早于{year}年公示",
                )
        v.require(
            bool(owners_notified_via),
            "owners_notified_via",
            "owners_not_notified",
            "say how every owner was told of the result (plan 五（二）: wechat_group, sms, phone)",
            "须说明以何种方式（微信、短信、电话等）告知全体业主",
        )
        for n, channel in enumerate(owners_notified_via):
            v.require(
                channel in OWNERS_NOTIFIED_VIA,
                f"owners_notified_via[{n}]",
                "unknown_channel",
                f"channel must be one of {', '.join(OWNERS_NOTIFIED_VIA)}",
                "告知方式不在规定类别内",
            )
        return v.violations

    # -- rectification -----------------------------------------------------------------------

    def record_rectification(
        self, item: int, rectified_on: date | None, note: str, now: datetime
    ) -> None:
        """Records that problem `item` (from 1) was rectified on `rectified_on`.
        InvalidArgument as `check_rectification` says, or for a problem the ledger does not
        hold; RuleViolated for one recorded rectified already."""
        v = Validator()
        v.violations.extend(self.check_rectification(self.year, rectified_on, now))
        v.require(
            1 <= item <= len(self.items_state),
            "item",
            "unknown_item",
            f"the ledger holds problems 1–{len(self.items_state)}",
            f"台账共有{len(self.items_state)}项问题，编号须在其中",
        )
        v.raise_if_any()
        assert rectified_on is not None
        done = self.rectifications.get(item)
        if done is not None:
            raise RuleViolated(
                f"problem {item} was recorded rectified on {done.rectified_on} already",
                f"第{item}项问题已于{done.rectified_on}登记整改完成",
            )
        deadline = self.items[item - 1].deadline
        self._item_rectified(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            year=self.year,
            item=item,
            rectified_on=rectified_on.isoformat(),
            note=note,
            past_deadline=deadline is not None and rectified_on > deadline,
            recorded_at=now,
        )

    @staticmethod
    def check_rectification(
        year: int | None, rectified_on: date | None, now: datetime
    ) -> list[FieldViolation]:
        """The day of a rectification: a date that has come, in the ledger's year or later."""
        v = Validator()
        if rectified_on is None:
            v.add("rectified_on", "date_format", "must be a date YYYY-MM-DD", "整改日期格式错误")
            return v.violations
        today = shanghai_date(now)
        v.require(
            rectified_on <= today,
            "rectified_on",
            "rectified_in_future",
            f"rectified on {rectified_on}, a day that has not come (today is {today})",
            f"整改日期 {rectified_on} 晚于今日 {today}",
        )
        if year is not None:
            v.require(
                rectified_on.year >= year,
                "rectified_on",
                "rectified_before_year",
                f"a problem of the {year} ledger is rectified in {year} or later",
                f"{year}年台账的问题整改日期不能早于{year}年",
            )
        return v.violations

    @event(ItemRectified)
    def _item_rectified(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        year: int,
        item: int,
        rectified_on: str,
        note: str,
        past_deadline: bool,
        recorded_at: datetime,
    ) -> None:
        self.rectifications[item] = Rectification(
            date.fromisoformat(rectified_on), note, past_deadline
        )

    # -- reading -----------------------------------------------------------------------------

    def standing(self, today: date) -> list[ItemStanding]:
        """Each problem as it stands on `today` (a Shanghai date)."""
        found = []
        for number, item in enumerate(self.items, start=1):
            done = self.rectifications.get(number)
            if done is not None:
                past = done.past_deadline
            else:
                past = item.deadline is not None and today > item.deadline
            found.append(ItemStanding(number, item, done, past))
        return found
