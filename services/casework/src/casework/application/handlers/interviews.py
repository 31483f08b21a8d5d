"""Handlers of interviews (约谈, issue 13 item 7): a company, a lagging county-level unit or
a lagging township called in by the bureau, recorded once held with its outcome, the
warnings and findings that led to it and its evidence (domain/interview.py: who interviews
whom, and the plan's sections)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import TYPE_CHECKING

from casework.application.access import POLICY, authorize, warning_facts
from casework.application.commands import InterviewRecorded, RecordInterview
from casework.application.handlers.evidence import checked_evidence
from casework.domain.interview import COMPANY, SUBJECT_KINDS, TOWNSHIP, UNIT, InterviewLedger
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.identifiers import USCC_DESCRIPTION_ZH, uscc_problem
from pubrev_contracts.vocabulary.units import COUNTY_UNITS, UNITS
from servicekit.errors import NotFound, Validator
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day(v: Validator, text: str, field: str, zh_name: str) -> date | None:
    """A calendar day (Asia/Shanghai) written YYYY-MM-DD exactly, or None (and a violation).
    Python also reads `20260601`, which would not order as text among the others."""
    try:
        parsed = date.fromisoformat(text) if DAY.fullmatch(text) else None
    except ValueError:
        parsed = None
    v.require(
        parsed is not None,
        field,
        "date_format",
        "a day as YYYY-MM-DD",
        f"{zh_name}须为YYYY-MM-DD格式的日期",
    )
    return parsed


def today(app: CaseworkApplication) -> date:
    """The service's day in Putian: rules on days are Asia/Shanghai's."""
    return app.clock().astimezone(SHANGHAI).date()


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def record_interview(
    app: CaseworkApplication, identity: Identity, cmd: RecordInterview
) -> InterviewRecorded:
    POLICY.admit("RecordInterview", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    kind = cmd.subject_kind
    v.require(
        kind in SUBJECT_KINDS,
        "subject_kind",
        "unknown_subject_kind",
        f"one of {', '.join(SUBJECT_KINDS)}",
        "约谈对象类型须为物业服务企业、县（区、管委会）或镇（街道）",
    )
    ledger_unit = cmd.unit or (cmd.subject if kind == UNIT else "")
    if kind == COMPANY:
        v.require(
            uscc_problem(cmd.subject) is None,
            "subject",
            "uscc_check",
            "the company's USCC (GB 32100, with its check character)",
            USCC_DESCRIPTION_ZH,
        )
    if kind == UNIT:
        v.require(
            cmd.subject in COUNTY_UNITS,
            "subject",
            "unknown_unit",
            "a county-level unit",
            "被约谈单位须为县（区、管委会）",
        )
    if kind == TOWNSHIP:
        v.require_text(cmd.subject, "subject", 100, "镇（街道）名称", required=True)
    v.require(
        ledger_unit in (UNITS if kind == COMPANY else COUNTY_UNITS),
        "unit",
        "unknown_unit",
        "the unit whose ledger it goes into",
        "台账所属单位不正确",
    )
    v.require_text(cmd.reason, "reason", 2000, "约谈事由", required=True, multiline=True)
    v.require_text(cmd.outcome, "outcome", 2000, "约谈结果", required=True, multiline=True)
    for n, finding_id in enumerate(cmd.finding_ids):
        v.require(
            is_uuid(finding_id),
            f"finding_ids[{n}]",
            "finding_id_format",
            "a finding's id (UUID)",
            "问题编号格式错误",
        )
    warnings: list[tuple[str, str]] = []
    for n, warning_id in enumerate(cmd.warning_ids):
        # A warning the caller may not read does not exist for it (its id is derived from
        # the rule, subject and period: an answer must not confirm another unit's).
        try:
            warning = app.warning(warning_id)
        except NotFound:
            warning = None
        if (
            warning is None
            or POLICY.decide("ListWarnings", identity, warning_facts(warning)) is None
        ):
            v.add(f"warning_ids[{n}]", "unknown_warning", "no such warning", "预警不存在")
            continue
        warnings.append((str(warning.id), warning.unit))
    held_on = day(v, cmd.held_on, "held_on", "约谈日期")
    evidence = checked_evidence(app, v, cmd.attachments)
    v.raise_if_any()
    assert held_on is not None
    authorize(
        POLICY,
        "RecordInterview",
        identity,
        Resource(
            unit=ledger_unit,
            company=cmd.subject if kind == COMPANY else "",
            concerns_unit=cmd.subject if kind == UNIT else "",
        ),
    )

    def execute() -> tuple[list[InterviewLedger], InterviewRecorded]:
        ledger = app.find(
            InterviewLedger.create_id(ledger_unit, held_on.year), InterviewLedger
        ) or InterviewLedger(ledger_unit, held_on.year)
        interview_id = str(app.random_id())
        ledger.record(
            interview_id,
            identity.unit,
            kind,
            cmd.subject,
            cmd.reason,
            warnings,
            cmd.finding_ids,
            held_on,
            cmd.outcome,
            evidence,
            today(app),
            app.clock(),
        )
        return [ledger], InterviewRecorded(
            interview_id, str(ledger.id), ledger_unit, ledger.version
        )

    return app.run_command(cmd, InterviewRecorded, execute)
