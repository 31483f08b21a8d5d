"""季度公示 (Disclosure): one community's quarterly disclosure of its public revenue
(公共收益), DOMAIN.md §3, and what it holds: the five items of the provincial template
(`DisclosureContent`).

Its rules:
- a quarter is filed once it is over, by the company in charge on its last day
  (`Community.company_for`; 《民法典》第九百四十三条), and is late after its deadline (the
  last day of the next quarter's first month, moved past rest days: DOMAIN.md §3, work plan
  二（一）, 《民法典》第二百零三条); a deadline in a year the holiday calendar lacks is never
  guessed (CalendarNotConfigured);
- the content keeps every rule of the template at once (`DisclosureContent.check`);
- a disclosure is never edited: an amendment, with its reason, is a new version, and every
  version stays readable;
- the owners' committee, or owners of at least a fifth of the households, may ask for a
  third-party audit; each request gets one result, recorded in the order asked, and none
  without a request (plan 四（六）: `AUDIT_RESULT_SOURCE`).

Each verb refuses what breaks its rules; its `check_*` twin returns the same refusals as
field violations, which the handler asks for before it reads anything, so that a caller
hears of every bad field at once.

Money is integer fen (分). A quarter may end in deficit (亏损): cost and expenditure above
income. It is filed as it is, with its negative surplus, and nothing is distributed or
transferred: only income left "after reasonable cost" belongs to the owners
(《民法典》第二百八十二条), so a deficit has nothing to share out (DOMAIN.md §3). Whether a
deficit is suspicious is the warning rules' question, not a reason to refuse the filing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from disclosure.domain.community import Community
from disclosure.domain.ids import NAMESPACE
from disclosure.domain.rules import (
    AUDIT_OWNER_SHARE,
    DEFAULT_RULES,
    MIN_POSTING_DAYS,
    DisclosureRules,
)
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter
from servicekit.errors import FieldViolation, RuleViolated, Validator

INCOME_SOURCES = ("advertising", "parking", "leasing", "vending", "other")
"""The income lines of the provincial template (经营收入 by source)."""
POSTING_CHANNELS = ("signboard", "provincial_system", "wechat_group")
"""Where a disclosure is posted (DOMAIN.md §3: the signboard at the main entrance, the
provincial system, the owners' WeChat group)."""
OWNERS_COMMITTEE = "owners_committee"
OWNERS = "owners"
REQUESTERS = (OWNERS_COMMITTEE, OWNERS)
"""Who may ask for a third-party audit (DOMAIN.md §3): the owners' committee, or owners."""
CONSISTENT = "consistent"
DISCREPANCIES = "discrepancies"
CONCLUSIONS = (CONSISTENT, DISCREPANCIES)
"""What a third-party audit concludes of a disclosure: its figures are as the books show, or
they differ (plan 四（六）: 经审计…确实存在问题的)."""


@dataclass(frozen=True)
class IncomeItem:
    source: str
    amount_fen: int
    note: str = ""


@dataclass(frozen=True)
class ExpenditureItem:
    purpose: str
    amount_fen: int
    owners_decision_ref: str


@dataclass(frozen=True)
class DisclosureContent:
    """The five items of the template (income by source, cost, expenditure with the owners'
    decisions, distribution, transfer to the maintenance fund) and how it was posted.
    `check()` returns every broken rule at once, each naming its field and rule, so the
    filer can correct everything in one go."""

    income: tuple[IncomeItem, ...]
    operating_cost_fen: int | None
    expenditure: tuple[ExpenditureItem, ...]
    owners_share_fen: int | None
    company_share_fen: int | None
    transferred_to_maintenance_fund_fen: int | None
    no_income: bool
    separate_account: str
    contact_name: str
    contact_phone: str
    posting_start: date | None
    posting_end: date | None
    posting_channels: tuple[str, ...]
    company_share_decision_ref: str = ""

    # -- derived figures -------------------------------------------------------------------

    @property
    def income_total_fen(self) -> int:
        return sum(i.amount_fen for i in self.income)

    @property
    def expenditure_total_fen(self) -> int:
        return sum(e.amount_fen for e in self.expenditure)

    @property
    def surplus_fen(self) -> int:
        """结余 = 经营收入 − 经营成本 − 经营支出."""
        return self.income_total_fen - (self.operating_cost_fen or 0) - self.expenditure_total_fen

    @property
    def deficit(self) -> bool:
        """Cost and expenditure exceed income: the surplus is negative."""
        return self.surplus_fen < 0

    @property
    def zero_revenue(self) -> bool:
        return self.income_total_fen == 0

    @property
    def posting_days(self) -> int:
        if self.posting_start is None or self.posting_end is None:
            return 0
        return (self.posting_end - self.posting_start).days + 1

    # -- rules -----------------------------------------------------------------------------

    def _caps(self, prefix: str, rules: DisclosureRules) -> list[FieldViolation]:
        """Each amount and the totals under their ceilings (rules.amount_cap_source)."""
        found: list[FieldViolation] = []
        amounts = [(f"income[{n}].amount_fen", i.amount_fen) for n, i in enumerate(self.income)]
        amounts += [
            (f"expenditure[{n}].amount_fen", e.amount_fen) for n, e in enumerate(self.expenditure)
        ]
        amounts += [
            (name, value)
            for name, value in (
                ("operating_cost_fen", self.operating_cost_fen),
                ("owners_share_fen", self.owners_share_fen),
                ("company_share_fen", self.company_share_fen),
                ("transferred_to_maintenance_fund_fen", self.transferred_to_maintenance_fund_fen),
            )
            if value is not None
        ]
        cap = rules.max_item_fen
        for field, value in amounts:
            if value > cap:
                found.append(
                    FieldViolation(
                        f"{prefix}.{field}",
                        "amount_cap",
                        f"at most {cap} fen (¥{cap // 100:,}) per amount ({rules.version})",
                        f"单项金额不得超过{cap // 100}元（规则版本 {rules.version}）",
                    )
                )
        total_cap = rules.max_filing_fen
        spent = (self.operating_cost_fen or 0) + self.expenditure_total_fen
        for field, total, zh in (
            ("income", self.income_total_fen, "经营收入合计"),
            ("expenditure", spent, "经营成本与支出合计"),
        ):
            if total > total_cap:
                found.append(
                    FieldViolation(
                        f"{prefix}.{field}",
                        "filing_cap",
                        f"the total is at most {total_cap} fen (¥{total_cap // 100:,}) per filing "
                        f"({rules.version})",
                        f"{zh}不得超过{total_cap // 100}元（规则版本 {rules.version}）",
                    )
                )
        return found

    def check(
        self, prefix: str = "content", rules: DisclosureRules = DEFAULT_RULES
    ) -> list[FieldViolation]:
        v: list[FieldViolation] = []

        def bad(field: str, rule: str, text: str, zh: str) -> None:
            v.append(FieldViolation(f"{prefix}.{field}", rule, text, zh))

        if not self.income and not self.no_income:
            bad(
                "income",
                "item_missing",
                "operating income (经营收入) is missing: list it by source, or set no_income",
                "缺少经营收入明细；如本季度无收入请明确声明",
            )
        if self.income and self.no_income:
            bad(
                "no_income",
                "contradiction",
                "no_income is set but income lines are listed",
                "声明无收入但填写了收入明细",
            )
        for n, item in enumerate(self.income):
            if item.source not in INCOME_SOURCES:
                bad(
                    f"income[{n}].source",
                    "unknown_source",
                    f"source must be one of {', '.join(INCOME_SOURCES)}",
                    "收入来源不在规定类别内",
                )
            if item.amount_fen < 0:
                bad(
                    f"income[{n}].amount_fen", "non_negative", "amount must be >= 0", "金额不能为负"
                )
        for field, value, zh_name in (
            ("operating_cost_fen", self.operating_cost_fen, "经营成本"),
            ("owners_share_fen", self.owners_share_fen, "业主分配"),
            ("company_share_fen", self.company_share_fen, "物业企业分配"),
            (
                "transferred_to_maintenance_fund_fen",
                self.transferred_to_maintenance_fund_fen,
                "结余转存维修资金",
            ),
        ):
            if value is None:
                bad(
                    field,
                    "item_missing",
                    f"{field} is missing (an explicit 0 is allowed)",
                    f"缺少{zh_name}（可填0，不可不填）",
                )
            elif value < 0:
                bad(field, "non_negative", "amount must be >= 0", f"{zh_name}金额不能为负")
        v.extend(self._caps(prefix, rules))
        for n, exp in enumerate(self.expenditure):
            if not exp.purpose.strip():
                bad(f"expenditure[{n}].purpose", "required", "purpose is required", "缺少支出用途")
            if exp.amount_fen < 0:
                bad(
                    f"expenditure[{n}].amount_fen",
                    "non_negative",
                    "amount must be >= 0",
                    "金额不能为负",
                )
            if not exp.owners_decision_ref.strip():
                bad(
                    f"expenditure[{n}].owners_decision_ref",
                    "owners_decision_missing",
                    "each expenditure needs the reference of the owners' decision",
                    "每笔支出须注明业主共同决定的依据",
                )
        if None not in (
            self.operating_cost_fen,
            self.owners_share_fen,
            self.company_share_fen,
            self.transferred_to_maintenance_fund_fen,
        ):
            distributed = (self.owners_share_fen or 0) + (self.company_share_fen or 0)
            allocated = distributed + (self.transferred_to_maintenance_fund_fen or 0)
            if self.deficit:
                # Each amount is >= 0, so the identity could never hold for a deficit; the
                # figures are checked to the fen instead by requiring every allocation be 0.
                for field, value, zh_name in (
                    ("owners_share_fen", self.owners_share_fen, "业主分配"),
                    ("company_share_fen", self.company_share_fen, "物业企业分配"),
                    (
                        "transferred_to_maintenance_fund_fen",
                        self.transferred_to_maintenance_fund_fen,
                        "结余转存维修资金",
                    ),
                ):
                    if value is not None and value > 0:  # a negative one is non_negative
                        bad(
                            field,
                            "deficit_not_distributable",
                            f"income − cost − expenditure = {self.surplus_fen} fen, a deficit: "
                            f"nothing can be distributed or transferred, so {field} must be 0 "
                            "(《民法典》第二百八十二条: only income after reasonable cost "
                            "belongs to the owners)",
                            f"本季度经营收入减成本和支出为 {self.surplus_fen} 分（亏损），"
                            f"没有结余可供分配或转存，{zh_name}须为0",
                        )
            elif allocated != self.surplus_fen:
                bad(
                    "transferred_to_maintenance_fund_fen",
                    "identity_broken",
                    f"distributed + transferred = {allocated} fen but income − cost − "
                    f"expenditure = {self.surplus_fen} fen",
                    f"结余分配与转存合计 {allocated} 分，与经营收入合计减成本和支出 "
                    f"{self.surplus_fen} 分不符",
                )
        company_share = self.company_share_fen or 0
        if company_share > 0:
            if not self.company_share_decision_ref.strip():
                bad(
                    "company_share_decision_ref",
                    "owners_decision_missing",
                    "a company share needs the reference of the owners' decision",
                    "物业企业分成须注明业主共同决定的依据",
                )
            if self.surplus_fen > 0 and Decimal(company_share) > (
                rules.max_company_share * self.surplus_fen
            ):
                bad(
                    "company_share_fen",
                    "company_share_too_high",
                    f"company share exceeds {rules.max_company_share:.0%} of the surplus "
                    f"(rules {rules.version})",
                    f"物业企业分成超过结余的{rules.max_company_share:.0%}"
                    f"（规则版本 {rules.version}）",
                )
        if not self.separate_account.strip():
            bad(
                "separate_account",
                "required",
                "the separate account (专户) is required",
                "缺少公共收益专户信息",
            )
        if not self.contact_name.strip():
            bad("contact_name", "required", "contact person is required", "缺少联系人")
        # The plan asks for the company's 联系电话 (四（二）), which a landline serves as well.
        if not contact.is_contact_number(self.contact_phone):
            bad(
                "contact_phone",
                contact.RULE,
                f"must be {contact.DESCRIPTION}",
                contact.DESCRIPTION_ZH,
            )
        if self.posting_start is None:
            bad("posting_start", "date_format", "must be a date YYYY-MM-DD", "公示开始日期格式错误")
        if self.posting_end is None:
            bad("posting_end", "date_format", "must be a date YYYY-MM-DD", "公示结束日期格式错误")
        if self.posting_start and self.posting_end:
            if self.posting_end < self.posting_start:
                bad(
                    "posting_end",
                    "before_start",
                    "posting ends before it starts",
                    "公示结束日期早于开始日期",
                )
            elif self.posting_days < MIN_POSTING_DAYS:
                bad(
                    "posting_end",
                    "posting_too_short",
                    f"posting lasts {self.posting_days} days, at least {MIN_POSTING_DAYS} needed",
                    f"公示期 {self.posting_days} 天，不足 {MIN_POSTING_DAYS} 天",
                )
        if not self.posting_channels:
            bad("posting_channels", "required", "say where it was posted", "缺少公示渠道")
        for n, channel in enumerate(self.posting_channels):
            if channel not in POSTING_CHANNELS:
                bad(
                    f"posting_channels[{n}]",
                    "unknown_channel",
                    f"channel must be one of {', '.join(POSTING_CHANNELS)}",
                    "公示渠道不在规定类别内",
                )
        return v

    # -- event state (plain data, so stored events need no custom transcoding) -------------

    def to_state(self) -> dict[str, Any]:
        return {
            "income": [[i.source, i.amount_fen, i.note] for i in self.income],
            "operating_cost_fen": self.operating_cost_fen,
            "expenditure": [
                [e.purpose, e.amount_fen, e.owners_decision_ref] for e in self.expenditure
            ],
            "owners_share_fen": self.owners_share_fen,
            "company_share_fen": self.company_share_fen,
            "transferred_to_maintenance_fund_fen": self.transferred_to_maintenance_fund_fen,
            "no_income": self.no_income,
            "separate_account": self.separate_account,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
            "posting_start": self.posting_start.isoformat() if self.posting_start else None,
            "posting_end": self.posting_end.isoformat() if self.posting_end else None,
            "posting_channels": list(self.posting_channels),
            "company_share_decision_ref": self.company_share_decision_ref,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DisclosureContent:
        return cls(
            income=tuple(IncomeItem(*row) for row in state["income"]),
            operating_cost_fen=state["operating_cost_fen"],
            expenditure=tuple(ExpenditureItem(*row) for row in state["expenditure"]),
            owners_share_fen=state["owners_share_fen"],
            company_share_fen=state["company_share_fen"],
            transferred_to_maintenance_fund_fen=state["transferred_to_maintenance_fund_fen"],
            no_income=state["no_income"],
            separate_account=state["separate_account"],
            contact_name=state["contact_name"],
            contact_phone=state["contact_phone"],
            posting_start=date.fromisoformat(state["posting_start"])
            if state["posting_start"]
            else None,
            posting_end=date.fromisoformat(state["posting_end"]) if state["posting_end"] else None,
            posting_channels=tuple(state["posting_channels"]),
            company_share_decision_ref=state.get("company_share_decision_ref", ""),
        )


@dataclass(frozen=True)
class AuditResult:
    """What the third-party auditor found, and when it was posted in the community."""

    auditor: str
    conclusion: str
    discrepancy_fen: int
    summary: str
    posted_on: date
    recorded_at: datetime


@dataclass(frozen=True)
class AuditRequest:
    """One request for a third-party audit, and its result once recorded."""

    number: int
    """From 1, in the order asked."""
    requester: str
    owners_count: int
    household_count: int
    reason: str
    result: AuditResult | None = None


class Disclosure(Aggregate):
    """One community's disclosure for one quarter. Never edited: corrected by amendments,
    and every version stays in the event history."""

    class Filed(Aggregate.Created):
        community_id: uuid.UUID
        community_code: str
        unit: str
        company_uscc: str
        year: int
        quarter: int
        content: dict[str, Any]
        late: bool
        filed_at: datetime

    class Amended(Aggregate.Event):
        reason: str
        content: dict[str, Any]
        unit: str
        community_id: uuid.UUID
        community_code: str
        company_uscc: str
        year: int
        quarter: int
        revision: int
        late: bool

    class AuditRequested(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        year: int
        quarter: int
        requester: str
        owners_count: int
        household_count: int
        reason: str

    class AuditResultRecorded(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        year: int
        quarter: int
        audit: int
        """The request it answers, from 1."""
        auditor: str
        conclusion: str
        discrepancy_fen: int
        summary: str
        posted_on: str
        recorded_at: datetime

    @event(Filed)
    def __init__(
        self,
        community_id: uuid.UUID,
        community_code: str,
        unit: str,
        company_uscc: str,
        year: int,
        quarter: int,
        content: dict[str, Any],
        late: bool,
        filed_at: datetime,
    ) -> None:
        self.community_id = community_id
        self.community_code = community_code
        self.unit = unit
        self.company_uscc = company_uscc
        self.year = year
        self.quarter = quarter
        self.content_state = content
        self.late = late
        self.filed_at = filed_at
        self.revision = 0
        self.amendment_reason = ""
        self.audits: list[str] = []
        """The requester of each audit asked for, in order."""
        self.audit_requests: list[AuditRequest] = []

    @staticmethod
    def create_id(community_code: str, year: int, quarter: int) -> uuid.UUID:
        # eventsourcing calls this with the constructor's arguments of the same names.
        return uuid.uuid5(NAMESPACE, f"disclosure:{community_code}:{Quarter(year, quarter)}")

    @property
    def content(self) -> DisclosureContent:
        return DisclosureContent.from_state(self.content_state)

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    # -- filing ------------------------------------------------------------------------------

    @classmethod
    def file(
        cls,
        community: Community,
        period: Quarter,
        content: DisclosureContent,
        now: datetime,
        rules: DisclosureRules = DEFAULT_RULES,
    ) -> Disclosure:
        """Files `community`'s disclosure of `period` at `now`, in the name of the company
        that managed the quarter, late when `now` is past its deadline. InvalidArgument as
        `check_filing` says; CalendarNotConfigured when lateness depends on a year the
        holiday calendar lacks (a filing by the nominal deadline day is on time whatever
        the holidays, so it needs no calendar)."""
        v = Validator()
        v.violations.extend(cls.check_filing(period, content, now, rules))
        v.raise_if_any()
        return cls(
            community_id=community.id,
            community_code=community.code,
            unit=community.unit,
            company_uscc=community.company_for(period),
            year=period.year,
            quarter=period.quarter,
            content=content.to_state(),
            late=period.is_late(now),
            filed_at=now,
        )

    @staticmethod
    def check_filing(
        period: Quarter | None,
        content: DisclosureContent,
        now: datetime,
        rules: DisclosureRules = DEFAULT_RULES,
    ) -> list[FieldViolation]:
        """What refuses a filing: a quarter not over yet, a content breaking the template's
        rules. `period` None: the request's year or quarter is no quarter (the handler says
        so), the content is still checked."""
        v = Validator()
        if period is not None:
            v.require(
                now >= period.end,
                "quarter",
                "quarter_not_over",
                f"{period} is not over yet",
                f"{period} 尚未结束，不能公示",
            )
        v.violations.extend(content.check(rules=rules))
        return v.violations

    # -- amendment ---------------------------------------------------------------------------

    def amend(
        self, reason: str, content: DisclosureContent, rules: DisclosureRules = DEFAULT_RULES
    ) -> None:
        """A new version of the disclosure, with the reason for it. InvalidArgument as
        `check_amendment` says."""
        v = Validator()
        v.violations.extend(self.check_amendment(reason, content, rules))
        v.raise_if_any()
        # The event repeats the disclosure's identity (unit, community, quarter) so that it
        # can be published on its own, without replaying the aggregate.
        self._amended(
            reason=reason,
            content=content.to_state(),
            unit=self.unit,
            community_id=self.community_id,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            year=self.year,
            quarter=self.quarter,
            revision=self.revision + 1,
            late=self.late,
        )

    @staticmethod
    def check_amendment(
        reason: str, content: DisclosureContent, rules: DisclosureRules = DEFAULT_RULES
    ) -> list[FieldViolation]:
        """An amendment gives its reason (DOMAIN.md §3: a correction is a new amendment with
        a reason) and a content that keeps every rule."""
        v = Validator()
        v.require(
            bool(reason.strip()),
            "reason",
            "required",
            "an amendment needs its reason",
            "更正须说明理由",
        )
        v.violations.extend(content.check(rules=rules))
        return v.violations

    @event(Amended)
    def _amended(
        self,
        reason: str,
        content: dict[str, Any],
        unit: str,
        community_id: uuid.UUID,
        community_code: str,
        company_uscc: str,
        year: int,
        quarter: int,
        revision: int,
        late: bool,
    ) -> None:
        self.content_state = content
        self.revision = revision
        self.amendment_reason = reason

    # -- audit -------------------------------------------------------------------------------

    def request_audit(
        self, requester: str, owners_count: int, household_count: int, reason: str
    ) -> None:
        """业主委员会, or owners of at least a fifth of the `household_count` households, ask
        for a third-party audit of the disclosure. InvalidArgument as `check_audit_request`
        says; RuleViolated for owners below the fifth."""
        v = Validator()
        v.violations.extend(self.check_audit_request(requester, owners_count, reason))
        v.raise_if_any()
        if requester == OWNERS:
            needed_num, needed_den = AUDIT_OWNER_SHARE
            if owners_count * needed_den < household_count * needed_num:
                raise RuleViolated(
                    f"{owners_count} of {household_count} households is under 20%: an audit "
                    "needs the owners' committee or owners of at least 20% of households",
                    f"申请业主 {owners_count} 户，不足总户数 {household_count} 户的20%，"
                    "须由业主委员会或占总户数20%以上的业主提出",
                )
        self._audit_requested(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            year=self.year,
            quarter=self.quarter,
            requester=requester,
            owners_count=owners_count,
            household_count=household_count,
            reason=reason,
        )

    @staticmethod
    def check_audit_request(requester: str, owners_count: int, reason: str) -> list[FieldViolation]:
        """Who asks (the committee, or owners saying how many households they are) and why."""
        v = Validator()
        v.require(
            requester in REQUESTERS,
            "requester",
            "unknown_requester",
            "requester is owners_committee or owners",
            "申请人须为业主委员会或业主",
        )
        if requester == OWNERS:
            v.require(
                owners_count > 0,
                "owners_count",
                "positive",
                "how many households ask",
                "须填写提出申请的业主户数",
            )
        v.require(
            bool(reason.strip()), "reason", "required", "the reason is required", "缺少申请理由"
        )
        return v.violations

    @event(AuditRequested)
    def _audit_requested(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        year: int,
        quarter: int,
        requester: str,
        owners_count: int,
        household_count: int,
        reason: str,
    ) -> None:
        self.audits.append(requester)
        self.audit_requests.append(
            AuditRequest(
                len(self.audit_requests) + 1, requester, owners_count, household_count, reason
            )
        )

    # -- audit result ------------------------------------------------------------------------

    def record_audit_result(
        self,
        auditor: str,
        conclusion: str,
        discrepancy_fen: int,
        summary: str,
        posted_on: date | None,
        now: datetime,
    ) -> int:
        """Records the result of the earliest audit request still without one, and returns
        its number. InvalidArgument as `check_audit_result` says, or for a posting before
        the disclosure was filed; RuleViolated when no audit was asked for, or every one
        asked for has its result (one result per request)."""
        v = Validator()
        v.violations.extend(
            self.check_audit_result(auditor, conclusion, discrepancy_fen, summary, posted_on, now)
        )
        filed_on = self.filed_at.astimezone(SHANGHAI).date()
        if posted_on is not None:
            v.require(
                posted_on >= filed_on,
                "posted_on",
                "posted_before_filing",
                f"the disclosure was filed on {filed_on}: its audit is posted after that",
                f"该公示于{filed_on}提交，审计结果的公示日期不能早于此日",
            )
        v.raise_if_any()
        assert posted_on is not None
        if not self.audit_requests:
            raise RuleViolated(
                "no audit was requested of this disclosure: a result answers a request "
                "(RequestAudit)",
                "该公示未经业主委员会或业主申请审计，不能登记审计结果",
            )
        open_requests = [r for r in self.audit_requests if r.result is None]
        if not open_requests:
            raise RuleViolated(
                f"each of the {len(self.audit_requests)} audit request(s) of this disclosure "
                "has its result already: one result per request",
                f"该公示的{len(self.audit_requests)}次审计申请均已登记结果，每次申请只登记一次",
            )
        number = open_requests[0].number
        self._audit_result_recorded(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            year=self.year,
            quarter=self.quarter,
            audit=number,
            auditor=auditor,
            conclusion=conclusion,
            discrepancy_fen=discrepancy_fen,
            summary=summary,
            posted_on=posted_on.isoformat(),
            recorded_at=now,
        )
        return number

    @staticmethod
    def check_audit_result(
        auditor: str,
        conclusion: str,
        discrepancy_fen: int,
        summary: str,
        posted_on: date | None,
        now: datetime,
    ) -> list[FieldViolation]:
        """Who audited, what it concluded (a consistent disclosure differs by nothing), what
        it says, and a posting day that has come."""
        v = Validator()
        v.require(
            bool(auditor.strip()),
            "auditor",
            "required",
            "the audit firm is required",
            "缺少第三方审计机构名称",
        )
        v.require(
            conclusion in CONCLUSIONS,
            "conclusion",
            "unknown_conclusion",
            f"conclusion is one of {', '.join(CONCLUSIONS)}",
            "审计结论须为 consistent（相符）或 discrepancies（存在问题）",
        )
        v.require(
            discrepancy_fen >= 0,
            "discrepancy_fen",
            "non_negative",
            "amount must be >= 0",
            "金额不能为负",
        )
        v.require(
            not (conclusion == CONSISTENT and discrepancy_fen > 0),
            "discrepancy_fen",
            "consistent_with_discrepancy",
            "a consistent audit finds no discrepancy: 0 fen, or conclude discrepancies",
            "审计结论为相符时差异金额须为0",
        )
        v.require(
            bool(summary.strip()),
            "summary",
            "required",
            "the audit's summary is required",
            "缺少审计意见摘要",
        )
        if posted_on is None:
            v.add("posted_on", "date_format", "must be a date YYYY-MM-DD", "公示日期格式错误")
        else:
            today = now.astimezone(SHANGHAI).date()
            v.require(
                posted_on <= today,
                "posted_on",
                "posted_in_future",
                f"posted on {posted_on}, a day that has not come (today is {today})",
                f"公示日期 {posted_on} 晚于今日 {today}",
            )
        return v.violations

    @event(AuditResultRecorded)
    def _audit_result_recorded(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        year: int,
        quarter: int,
        audit: int,
        auditor: str,
        conclusion: str,
        discrepancy_fen: int,
        summary: str,
        posted_on: str,
        recorded_at: datetime,
    ) -> None:
        request = self.audit_requests[audit - 1]
        self.audit_requests[audit - 1] = replace(
            request,
            result=AuditResult(
                auditor,
                conclusion,
                discrepancy_fen,
                summary,
                date.fromisoformat(posted_on),
                recorded_at,
            ),
        )


# Stored events name their classes by module path (ADR 0014): those written while this
# class lived in disclosure.domain.model must still load.
register_topic("disclosure.domain.model:Disclosure", Disclosure)
register_topic("disclosure.domain.model:Disclosure.Filed", Disclosure.Filed)
register_topic("disclosure.domain.model:Disclosure.Amended", Disclosure.Amended)
register_topic("disclosure.domain.model:Disclosure.AuditRequested", Disclosure.AuditRequested)
