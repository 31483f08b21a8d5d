"""A stage a unit records as done itself (阶段完成记录): its mobilisation (a work plan,
targets and task lists for its townships: 五（一）), its guidance to the townships to keep the
companies' self-inspection ledgers (附件2 #9), its summary to the city (六（四）) and its review
(五（四）). No other service sees these acts, so the unit's bureau records them, and the
record is what GetCampaignProgress counts."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from casework.domain.campaign import NAMESPACE
from casework.domain.campaign.progress import RECORDED_STAGES, takes_part
from pubrev_contracts.vocabulary.campaign import Stage, shanghai_date
from servicekit.errors import RuleViolated


class StageRecord(Aggregate):
    """One unit's record that one stage of one year is done, once."""

    class Recorded(Aggregate.Created):
        unit: str
        year: int
        stage: str
        due_on: str
        late: bool
        recorded_by: str
        recorded_at: datetime
        note: str

    @event(Recorded)
    def __init__(
        self,
        unit: str,
        year: int,
        stage: str,
        due_on: str,
        late: bool,
        recorded_by: str,
        recorded_at: datetime,
        note: str,
    ) -> None:
        self.unit = unit
        self.year = year
        self.stage = stage
        self.due_on = due_on
        self.late = late
        self.recorded_by = recorded_by
        self.recorded_at = recorded_at
        self.note = note

    @staticmethod
    def create_id(unit: str, year: int, stage: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"stage-record:{unit}:{year}:{stage}")

    @classmethod
    def record(cls, unit: str, stage: Stage, by: str, at: datetime, note: str) -> StageRecord:
        """The unit's own record of a stage it took part in; `late` once the stage's due date
        has passed. Refused for a stage the facts count (self-inspection, spot checks,
        townships' inspections, rectification), for one the unit has no part in, and
        before its campaign year has begun."""
        if stage.key not in RECORDED_STAGES:
            raise RuleViolated(
                f"{stage.key} is counted from what the other services report, not recorded",
                "该阶段进度由相关业务数据自动统计，无需填报",
            )
        if not takes_part(stage.key, unit):
            raise RuleViolated(
                f"{unit} has no part in the stage {stage.key}", "该单位不承担此阶段任务"
            )
        if shanghai_date(at).year < stage.year:
            raise RuleViolated(f"the {stage.year} campaign has not begun", "该年度专项整治尚未开始")
        return cls(
            unit,
            stage.year,
            stage.key,
            stage.due.isoformat(),
            stage.due_passed(at),
            by,
            at,
            note,
        )

    def record_again(self) -> None:
        """A stage is recorded once: what was recorded stays in the record."""
        raise RuleViolated(
            f"{self.stage} of {self.year} was recorded by {self.recorded_by} already",
            "该阶段已记录完成",
        )
