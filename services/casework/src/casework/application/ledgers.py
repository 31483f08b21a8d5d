"""The monthly ledgers (双台账) a county-level unit reports by the 25th (DOMAIN.md §9; the due
date: casework.domain.reporting):
the problem/lead ledger (问题线索台账: every case received in the month) and the work
ledger (工作台账: what was done in the month, one line per action)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework.domain.case import Case
from pubrev_contracts.vocabulary.calendar import SHANGHAI

PROBLEM_COLUMNS = (
    ("case_id", "编号"),
    ("kind", "类型"),
    ("channel", "来源渠道"),
    ("received_on", "受理日期"),
    ("community_code", "小区编码"),
    ("company_uscc", "物业服务企业统一社会信用代码"),
    ("category", "问题类别"),
    ("status", "办理状态"),
    ("due_on", "办理时限"),
    ("result", "处理结果"),
    ("feedback_given", "已反馈投诉人"),
    ("police", "移送公安"),
    ("closed_on", "办结日期"),
)
WORK_COLUMNS = (
    ("date", "日期"),
    ("case_id", "案件编号"),
    ("action", "工作事项"),
    ("detail", "说明"),
)
DUE_COLUMNS = (("due_on", "报送期限"), ("legal_basis", "依据"))
"""The line that says when the month's ledgers are due at the city (casework.domain.reporting)."""
_ACTIONS = {
    "Received": "受理",
    "Assigned": "交办",
    "InvestigationStarted": "调查核实",
    "Resolved": "形成处理结果",
    "FeedbackGiven": "反馈投诉人",
    "Closed": "办结",
    "JointMeetingRecorded": "召开联席会议",
    "FlaggedTypical": "列为典型案例",
    "ReferredToPolice": "移送公安",
    "PoliceAcknowledged": "公安签收",
    "PoliceOutcomeReported": "公安反馈结果",
    "PersonalDataShredded": "个人信息销毁",
}


def _month(value: datetime) -> tuple[int, int]:
    local = value.astimezone(SHANGHAI)
    return local.year, local.month


def _day(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).date().isoformat() if value else ""


def problem_row(case: Case) -> dict[str, Any]:
    return {
        "case_id": str(case.id),
        "kind": {"complaint": "投诉", "rectification": "整改"}.get(case.kind, case.kind),
        "channel": case.channel,
        "received_on": _day(case.received_at),
        "community_code": case.community_code,
        "company_uscc": case.company_uscc,
        "category": case.category,
        "status": case.status,
        "due_on": _day(case.due_at),
        "result": case.result,
        "feedback_given": "是" if case.feedback_given else "否",
        "police": case.police_office,
        "closed_on": _day(case.closed_at),
    }


def work_rows(case: Case, events: list[Any], year: int, month: int) -> list[dict[str, Any]]:
    rows = []
    for e in events:
        name = type(e).__name__
        # A complaint counts from when it was received (possibly before it was recorded);
        # every other action from when it was recorded.
        when = e.received_at if name == "Received" else e.timestamp
        if name in _ACTIONS and _month(when) == (year, month):
            detail = (
                getattr(e, "result", "")
                or getattr(e, "decision", "")
                or getattr(e, "outcome", "")
                or getattr(e, "reason", "")
            )
            rows.append(
                {
                    "date": _day(when),
                    "case_id": str(case.id),
                    "action": _ACTIONS[name],
                    "detail": detail,
                }
            )
    return rows


def received_in(case: Case, year: int, month: int) -> bool:
    return _month(case.received_at) == (year, month)
