"""Typical cases published (通报曝光典型案例): the public record of the cases the bureau
chose to expose, one register per year.

The plan asks the bureau to publish typical cases (三: 通报曝光典型案例; 五（三）: 通报曝光一批
典型案例; 附件1 #21, #22, #24; DOMAIN.md §1, §7): a case the bureau has closed and flagged
typical (FlagTypicalCase) is published once, with a title and a summary written for the
public. What is published may name the company the case was about, never the complainant
(DOMAIN.md §7: the complainant's name and phone are shown only to the handling unit;
个人信息保护法 Art. 25: personal information is not made public without consent), nor any
phone or identity-card number.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate, event

from casework.domain.case import NAMESPACE, Case
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.identifiers import is_landline, is_mainland_mobile
from servicekit.errors import RuleViolated

_DIGIT_RUNS = (
    re.compile(r"(?<![0-9])[0-9]+[Xx]?(?![0-9])"),
    re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9])*[Xx]?(?![0-9])"),
)
"""Runs of digits as written, and as grouped by single spaces or hyphens (`139 0594 0000`,
`0594-2345678`), each with an identity-card number's final X: a number written next to
another is still found on its own."""
_ID_CARD = re.compile(r"[1-9][0-9]{16}[0-9Xx]")
"""A resident identity-card number (GB 11643: 17 digits and a check character)."""
_SPACE = re.compile(r"\s+")


def personal_numbers_in(text: str) -> bool:
    """Whether the text holds what reads as a phone (a mainland mobile, a landline with its
    area code) or an identity-card number, however its digits are grouped."""
    for runs in _DIGIT_RUNS:
        for match in runs.finditer(text):
            digits = re.sub(r"[ \-]", "", match.group())
            if is_mainland_mobile(digits) or is_landline(digits) or _ID_CARD.fullmatch(digits):
                return True
    return False


def names_complainant(text: str, name: str, phone: str) -> bool:
    """Whether the text names the complainant: their name (two characters or more, spaces
    ignored) or their phone's digits, however grouped."""
    flat = _SPACE.sub("", text)
    name = _SPACE.sub("", name)
    if len(name) >= 2 and name in flat:
        return True
    digits = re.sub(r"[^0-9]", "", phone)
    return len(digits) >= 7 and digits in re.sub(r"[ \-]", "", flat)


class TypicalCases(Aggregate):
    """The typical cases published in one year (典型案例通报), by the day of publication
    (Asia/Shanghai)."""

    class Opened(Aggregate.Created):
        year: int

    @event(Opened)
    def __init__(self, year: int) -> None:
        self.year = year
        self.published: dict[str, dict[str, Any]] = {}
        """case id → what was published of it."""

    @staticmethod
    def create_id(year: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"typical-cases:{year}")

    class Published(Aggregate.Event):
        case_id: str
        unit: str
        title: str
        summary: str
        company_uscc: str
        published_on: date
        category: str

    def publish(
        self,
        case: Case,
        title: str,
        summary: str,
        company_uscc: str,
        published_on: date,
        today: date,
        complainant_name: str = "",
        complainant_phone: str = "",
    ) -> None:
        """Publishes a closed case flagged typical, once. `complainant_*`: the complainant's
        name and phone when the case still holds them (refused if the text gives them
        away); any phone or identity-card number is refused whether or not they do."""
        if case.status != "closed":
            raise RuleViolated(
                "only a closed case is published as a typical case",
                "仅已办结的案件可作为典型案例通报曝光",
            )
        if not case.typical:
            raise RuleViolated(
                "the case is not flagged typical (FlagTypicalCase first)",
                "案件未列为典型案例，不能通报曝光",
            )
        if str(case.id) in self.published:
            raise RuleViolated("the case is published already", "该典型案例已通报曝光")
        if published_on.year != self.year:
            raise RuleViolated(
                "a publication goes into the register of its own year",
                "通报须登记在通报日期所在年度",
            )
        if published_on > today:
            raise RuleViolated(
                "a publication is recorded once made, not dated ahead",
                "通报日期不能晚于今天",
            )
        closed_at = case.closed_at
        if closed_at is not None and published_on < closed_at.astimezone(SHANGHAI).date():
            raise RuleViolated(
                "a case is published after it was closed", "通报日期不能早于案件办结日期"
            )
        if company_uscc and company_uscc != case.company_uscc:
            raise RuleViolated(
                "the company named must be the one the case was about",
                "通报的物业服务企业须为本案涉及的企业",
            )
        text = f"{title}\n{summary}"
        if names_complainant(text, complainant_name, complainant_phone):
            raise RuleViolated(
                "the title or summary gives the complainant's name or phone away",
                "典型案例不得公开投诉人的姓名或电话",
            )
        if personal_numbers_in(text):
            raise RuleViolated(
                "the title or summary holds a phone or identity-card number",
                "典型案例不得包含电话号码或身份证号码",
            )
        self._published(
            case_id=str(case.id),
            unit=case.unit,
            title=title,
            summary=summary,
            company_uscc=company_uscc,
            published_on=published_on,
            category=case.category,
        )

    @event(Published)
    def _published(
        self,
        case_id: str,
        unit: str,
        title: str,
        summary: str,
        company_uscc: str,
        published_on: date,
        category: str,
    ) -> None:
        self.published[case_id] = {
            "case_id": case_id,
            "unit": unit,
            "title": title,
            "summary": summary,
            "company_uscc": company_uscc,
            "published_on": published_on,
            "category": category,
        }
