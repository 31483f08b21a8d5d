"""Who exists: the agencies and roles that may call pubrev (DOMAIN.md §1), as the published
language names them. An identity names one agency, one of its roles and a unit, and a
`subject` where the agency's scope depends on it; nothing else is an identity.

The form, in a client certificate's URI SAN (`urn:pubrev:identity:` + this), in a front
end's signed assertion of a person, and in the development header alike:
`agency=<agency>;role=<role>;unit=<unit>[;subject=<subject>]`.

Front ends (the provincial system, later the console) call with their own certificate plus
a short-lived signed assertion of the person they act for; the services authorize the
person, never the front end alone. The public is a person nobody knows: a front end asserts
`agency=public;role=anonymous;unit=putian`, which may read what is published and lodge a
complaint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pubrev_contracts.vocabulary.identifiers import COMMUNITY_CODE_PATTERN, USCC_PATTERN


class Agency(StrEnum):
    PROPERTY_BUREAU = "property-bureau"
    TOWNSHIP = "township"
    DISCIPLINE = "discipline"
    CREDIT_OFFICE = "credit-office"
    MARKET_REGULATION = "market-regulation"
    POLICE = "police"
    PROPERTY_COMPANY = "property-company"
    OWNERS_COMMITTEE = "owners-committee"
    OWNERS = "owners"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    PROVINCIAL_SYSTEM = "provincial-system"
    CONSOLE = "console"
    PUBLIC = "public"


class SubjectKind(StrEnum):
    """What an identity's `subject` names, where scope depends on it."""

    USCC = "uscc"
    """A property company's 统一社会信用代码 (GB 32100 character set; the check digit is
    the domain's business)."""
    POLICE_OFFICE = "police_office"
    """The police office (公安分局/派出所) a case may be referred to."""
    COMMUNITY = "community"
    """The community code an owners' committee or owners' representatives belong to."""
    FRONTEND = "frontend"
    """The front end's own name, as its assertions name their issuer."""
    PERSON = "person"
    """A staff member's name or number, for the audit trail only (scope never depends on it)."""


SUBJECT_PATTERNS: dict[SubjectKind, str] = {
    SubjectKind.USCC: USCC_PATTERN,
    SubjectKind.POLICE_OFFICE: r"[a-z0-9][a-z0-9-]{0,63}",
    SubjectKind.COMMUNITY: COMMUNITY_CODE_PATTERN,
    SubjectKind.FRONTEND: r"[a-z0-9][a-z0-9-]{0,63}",
    SubjectKind.PERSON: r"[^;=\s][^;=]{0,63}",
}
"""Syntactic only: a subject is never more than 64 characters."""


@dataclass(frozen=True)
class AgencyDef:
    name_zh: str
    roles: dict[str, str]
    """Role → its Chinese name."""
    subject: SubjectKind = SubjectKind.PERSON
    subject_required: bool = False
    city_only: bool = False
    """Only a city-level identity exists (unit = putian)."""
    frontend: bool = False
    """Calls only on behalf of people it asserts; authorized for nothing itself."""
    people: tuple[str, ...] = field(default=())
    """For a front end: the agencies whose people it may assert."""


AGENCIES: dict[str, AgencyDef] = {
    Agency.PROPERTY_BUREAU: AgencyDef(
        "物业管理主管部门", {"officer": "经办人员", "inspector": "检查人员", "head": "负责人"}
    ),
    Agency.TOWNSHIP: AgencyDef("镇（街道）", {"officer": "经办人员", "inspector": "检查人员"}),
    Agency.DISCIPLINE: AgencyDef("纪委监委（智慧监督）", {"supervisor": "监督人员"}),
    Agency.CREDIT_OFFICE: AgencyDef("发展和改革委员会（信用）", {"officer": "经办人员"}),
    Agency.MARKET_REGULATION: AgencyDef("市场监督管理局", {"officer": "经办人员"}),
    Agency.POLICE: AgencyDef(
        "公安机关",
        {"investigator": "侦查人员", "officer": "经办人员"},
        SubjectKind.POLICE_OFFICE,
        subject_required=True,
    ),
    Agency.PROPERTY_COMPANY: AgencyDef(
        "物业服务企业",
        {"filer": "填报人员", "manager": "负责人"},
        SubjectKind.USCC,
        subject_required=True,
    ),
    Agency.OWNERS_COMMITTEE: AgencyDef(
        "业主委员会",
        {"chair": "主任", "member": "委员"},
        SubjectKind.COMMUNITY,
        subject_required=True,
    ),
    Agency.OWNERS: AgencyDef(
        "业主（代表）", {"representative": "业主代表"}, SubjectKind.COMMUNITY, subject_required=True
    ),
    Agency.AUDITOR: AgencyDef("审计人员", {"auditor": "审计人员"}, city_only=True),
    Agency.OPERATOR: AgencyDef(
        "平台运维", {"operator": "运维人员", "scheduler": "定时任务"}, city_only=True
    ),
    Agency.PROVINCIAL_SYSTEM: AgencyDef(
        "省住宅小区公共收益信息管理系统",
        {"frontend": "前端系统"},
        SubjectKind.FRONTEND,
        subject_required=True,
        city_only=True,
        frontend=True,
        people=(Agency.PROPERTY_COMPANY, Agency.OWNERS_COMMITTEE, Agency.OWNERS, Agency.PUBLIC),
    ),
    Agency.CONSOLE: AgencyDef(
        "pubrev 工作台",
        {"frontend": "前端系统"},
        SubjectKind.FRONTEND,
        subject_required=True,
        city_only=True,
        frontend=True,
        people=tuple(
            a
            for a in Agency
            if a not in (Agency.PROVINCIAL_SYSTEM, Agency.CONSOLE, Agency.OPERATOR, Agency.AUDITOR)
        ),
    ),
    Agency.PUBLIC: AgencyDef("社会公众", {"anonymous": "公众"}, city_only=True),
}
