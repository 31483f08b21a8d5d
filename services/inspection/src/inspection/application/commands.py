"""The inspection service's commands, one per RPC and named after it, each with the result
beside it.

The idempotency receipt is named after the command's type (servicekit `run_command`), as
inspection's receipts always were (`RecordSpotCheck`), and a result keeps the keys those
receipts remembered, so a retry of a request answered before is answered the same.

`check()` lists what is wrong with a command's fields, all at once (INVALID_ARGUMENT, nothing
read or written); the rules of the business are the aggregates'.

`untyped_payload()` is what the code before the commands were typed fingerprinted a request
by: a client retrying across that deployment is recognised by it and answered from its first
receipt (InspectionApplication.run_command), not refused as a reuse of its request_id.
`earlier_payloads()` does the same for a command that gained a field since (attachments, a
cited submission): the typed form its receipts were fingerprinted by before.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from inspection.domain.spot_check import ChecklistResult, Substitution
from inspection.domain.violations import CHECKLIST, KINDS, SEVERITIES
from pubrev_contracts.vocabulary.units import COUNTY_UNITS, UNITS
from servicekit.attachments import MAX_ATTACHMENTS, AttachmentLimits, AttachmentRef
from servicekit.errors import Validator
from servicekit.eventstore import to_jsonable

MAX_CODE = 64
"""Codes (communities, inspectors) longer than this are refused."""
MAX_LIST = 5000
"""Community codes a plan's request names, per priority."""
MAX_TEXT = 500
"""Reasons and notes."""
MAX_TEAM = 10
"""Inspectors of one check, and substitutions of one check."""
MAX_NOTE = 2000
"""Findings' facts, objections, decisions, evidence notes."""
MAX_PROBLEMS = 20
"""Problems one township inspection enters."""
LIMITS = AttachmentLimits()
"""What the evidence store takes (ADR 0016): a reference beyond it names no stored file."""
PER_TARGET_DEFAULT = 2
"""Inspectors drawn per target when the request says 0."""


def _utc(instant: datetime | None) -> datetime | None:
    """An instant as the code before typed commands kept it (in UTC), for its fingerprint."""
    try:
        return instant.astimezone(UTC) if instant is not None else None
    except (OverflowError, ValueError):
        return None


def _year(v: Validator, year: int) -> None:
    v.require(
        2020 <= year <= 2100,
        "year",
        "year_range",
        "year must be 2020–2100",
        "年度须在2020至2100之间",
    )


def _per_target(v: Validator, per_target: int) -> None:
    v.require(
        0 <= per_target <= 5,
        "inspectors_per_target",
        "range",
        "0–5 (default 2)",
        "每个对象的检查人员数须在0至5之间",
    )


def _no_seed(v: Validator, seed: str) -> None:
    """The caller never picks the seed: it could try seeds until the draw suits it."""
    v.require(
        not seed,
        "seed",
        "seed_refused",
        "the seed is not the caller's: the service commits to a secret when the plan is "
        "recorded, the discipline office contributes a value, and the seed combines both "
        "(ContributeDrawEntropy)",
        "随机种子不由调用方指定：计划记录时服务端承诺秘密值，纪委监委提交随机值后合成种子",
    )


def _community_code(v: Validator, code: str, field: str = "community_code") -> None:
    v.require(
        0 < len(code) <= MAX_CODE,
        field,
        "required",
        f"a community code of 1–{MAX_CODE} characters",
        "缺少小区编码或过长",
    )


def _attachments(
    v: Validator, attachments: tuple[AttachmentRef, ...], field: str = "attachments"
) -> None:
    """References to files of the evidence store, within what the store accepts (that each
    is stored is the handler's check: InspectionApplication.require_stored). A ref's hash is
    well formed by construction (AttachmentRef; the wire's bounds refuse a malformed one)."""
    v.require(
        len(attachments) <= MAX_ATTACHMENTS,
        field,
        "too_many",
        f"at most {MAX_ATTACHMENTS} attachments",
        f"附件不超过{MAX_ATTACHMENTS}个",
    )
    for n, a in enumerate(attachments[:MAX_ATTACHMENTS]):
        v.require(
            a.size <= LIMITS.max_bytes
            and a.media_type in LIMITS.media_types
            and len(a.filename) <= LIMITS.filename_max_chars
            and a.filename.isprintable(),
            f"{field}[{n}]",
            "attachment_ref",
            "an attachment as the evidence store returned it (UploadAttachment): sha256 "
            f"(64 lower-case hex digits), size 1–{LIMITS.max_bytes} bytes, media type one of "
            f"{', '.join(sorted(LIMITS.media_types))}, a file name of 1–"
            f"{LIMITS.filename_max_chars} printable characters",
            "附件引用须为证据库返回的引用（SHA-256、大小、类型、文件名）",
        )


def _finding_id(v: Validator, finding_id: str) -> None:
    v.require(
        0 < len(finding_id) <= MAX_CODE,
        "finding_id",
        "required",
        f"a finding id of 1–{MAX_CODE} characters",
        "缺少问题编号或过长",
    )


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> date | None:
    """A date written YYYY-MM-DD exactly (Python also reads 20260601, which would not order
    as text among the others); None otherwise."""
    if ISO_DATE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# -- roster --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterInspector:
    request_id: str
    inspector_code: str
    name: str
    unit: str

    def untyped_payload(self) -> Any:
        return (self.inspector_code, self.name, self.unit)

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require(
            0 < len(self.inspector_code.strip()) <= MAX_CODE,
            "inspector_code",
            "required",
            f"an inspector code of 1–{MAX_CODE} characters",
            "缺少检查人员编号或过长",
        )
        v.require(
            0 < len(self.name.strip()) <= MAX_CODE,
            "name",
            "required",
            f"a name of 1–{MAX_CODE} characters",
            "缺少姓名或过长",
        )
        v.require(
            self.unit in UNITS,
            "unit",
            "unknown_unit",
            "unit is putian or one of the 7 county-level units",
            "所属单位不正确",
        )
        return v


@dataclass(frozen=True)
class InspectorRegistered:
    inspector_id: str


@dataclass(frozen=True)
class DeclareConflict:
    request_id: str
    inspector_code: str
    community_code: str
    reason: str

    def untyped_payload(self) -> Any:
        return (self.inspector_code, self.community_code, self.reason)

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _community_code(v, self.community_code)
        v.require(
            len(self.reason) <= MAX_TEXT,
            "reason",
            "too_long",
            f"at most {MAX_TEXT} characters",
            f"不超过{MAX_TEXT}个字符",
        )
        return v


@dataclass(frozen=True)
class ConflictDeclared:
    version: int
    """The inspector's version after the declaration."""


# -- plans and draws -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSpotChecks:
    request_id: str
    year: int
    unit: str
    seed: str = ""
    """Refused when given: the seed is nobody's choice alone (ContributeDrawEntropy)."""
    inspectors_per_target: int = 0
    handed_down: tuple[str, ...] = ()
    major_petitions: tuple[str, ...] = ()
    typical_cases: tuple[str, ...] = ()

    @property
    def explicit(self) -> dict[str, tuple[str, ...]]:
        """The priorities the request names, by reason."""
        return {
            "handed_down": self.handed_down,
            "major_petition": self.major_petitions,
            "typical_case": self.typical_cases,
        }

    @property
    def per_target(self) -> int:
        return self.inspectors_per_target or PER_TARGET_DEFAULT

    def untyped_payload(self) -> Any:
        return (
            self.year,
            self.unit,
            self.inspectors_per_target,
            sorted(self.handed_down),
            sorted(self.major_petitions),
            sorted(self.typical_cases),
        )

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _year(v, self.year)
        v.require(
            self.unit in UNITS,
            "unit",
            "unknown_unit",
            "unit is putian (the city) or one of the 7 county-level units",
            "计划单位不正确",
        )
        _per_target(v, self.inspectors_per_target)
        _no_seed(v, self.seed)
        for name, codes in self.explicit.items():
            v.require(
                len(codes) <= MAX_LIST and all(0 < len(c) <= MAX_CODE for c in codes),
                name,
                "codes",
                f"at most {MAX_LIST} community codes of 1–{MAX_CODE} characters",
                "小区编码数量或长度超出限制",
            )
        return v


@dataclass(frozen=True)
class SpotChecksPlanned:
    plan_id: str


@dataclass(frozen=True)
class ContributeDrawEntropy:
    request_id: str
    plan_id: str
    contribution: str

    def untyped_payload(self) -> Any:
        return (self.plan_id, self.contribution)

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require(
            16 <= len(self.contribution) <= 128 and self.contribution.isprintable(),
            "contribution",
            "contribution_format",
            "16–128 printable characters, chosen afresh by the discipline office (e.g. "
            "from its own random generator) after the plan's commitment was recorded",
            "须为16至128个可打印字符，由纪委监委在计划承诺值记录后自行产生",
        )
        return v


@dataclass(frozen=True)
class SpotChecksDrawn:
    plan_id: str
    round: int


@dataclass(frozen=True)
class RedrawSpotChecks:
    request_id: str
    plan_id: str
    reason: str

    def untyped_payload(self) -> Any:
        return (self.plan_id, self.reason)

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require(
            len(self.reason.strip()) > 0 and len(self.reason) <= MAX_TEXT,
            "reason",
            "required",
            f"why the draw is made again (1–{MAX_TEXT} characters): it is recorded and "
            "the discipline office sees it",
            f"须说明重新抽取的理由（1至{MAX_TEXT}个字符）",
        )
        return v


@dataclass(frozen=True)
class SpotChecksRedrawn:
    plan_id: str
    round: int
    commitment: str
    """The service's commitment to the secret of the new round."""


# -- cross checks --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanCrossCheck:
    request_id: str
    year: int
    quarter: int
    checking_unit: str
    checked_unit: str
    communities: int
    seed: str = ""
    inspectors_per_target: int = 0

    @property
    def per_target(self) -> int:
        return self.inspectors_per_target or PER_TARGET_DEFAULT

    def untyped_payload(self) -> Any:
        return (
            self.year,
            self.quarter,
            self.checking_unit,
            self.checked_unit,
            self.communities,
            self.inspectors_per_target,
        )

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _year(v, self.year)
        v.require(
            self.quarter in (1, 2, 3, 4),
            "quarter",
            "quarter_range",
            "quarter must be 1–4",
            "季度须为1至4",
        )
        v.require(
            self.checking_unit in COUNTY_UNITS,
            "checking_unit",
            "unknown_unit",
            "a county-level unit",
            "检查单位须为县级单位",
        )
        v.require(
            self.checked_unit in COUNTY_UNITS,
            "checked_unit",
            "unknown_unit",
            "a county-level unit",
            "被检查单位须为县级单位",
        )
        v.require(
            self.checking_unit != self.checked_unit,
            "checked_unit",
            "same_unit",
            "a cross check checks another unit",
            "交叉检查须检查其他单位",
        )
        v.require(
            1 <= self.communities <= 200,
            "communities",
            "range",
            "1–200 communities",
            "抽查小区数须在1至200之间",
        )
        _per_target(v, self.inspectors_per_target)
        _no_seed(v, self.seed)
        return v


@dataclass(frozen=True)
class CrossCheckPlanned:
    cross_check_id: str


@dataclass(frozen=True)
class ReportCrossCheck:
    request_id: str
    cross_check_id: str

    def untyped_payload(self) -> Any:
        return self.cross_check_id

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        return v


@dataclass(frozen=True)
class CrossCheckReported:
    cross_check_id: str
    planned: int
    checked: int
    findings: int
    findings_by_kind: dict[str, int]
    """Violation code → findings of the team (a JSON object, as receipts kept it)."""


# -- checks and rectification --------------------------------------------------------------


@dataclass(frozen=True)
class RecordSpotCheck:
    request_id: str
    plan_id: str
    community_code: str
    inspected_at: datetime | None
    """None: the request's time could not be read (INVALID_ARGUMENT)."""
    inspector_codes: tuple[str, ...]
    checklist: tuple[ChecklistResult, ...]
    substitutions: tuple[Substitution, ...] = ()

    def untyped_payload(self) -> Any:
        return (
            self.plan_id,
            self.community_code,
            _utc(self.inspected_at),
            list(self.inspector_codes),
            [_item_before_attachments(item) for item in self.checklist],
            [
                {"absent": s.absent, "substitute": s.substitute, "reason": s.reason.strip()}
                for s in self.substitutions
            ],
        )

    def earlier_payloads(self) -> list[Any]:
        """The typed command before checklist items took attachments (a request with
        attachments was never made before)."""
        if any(item.attachments for item in self.checklist):
            return []
        typed = to_jsonable(self)
        typed["checklist"] = [_item_before_attachments(item) for item in self.checklist]
        return [typed]

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require(
            self.inspected_at is not None,
            "inspected_at",
            "time_format",
            "an RFC 3339 time with offset",
            "检查时间格式错误",
        )
        v.require(
            bool(self.checklist),
            "checklist",
            "required",
            "the checklist is required",
            "缺少检查清单",
        )
        seen: set[str] = set()
        for n, item in enumerate(self.checklist):
            v.require(
                item.item in CHECKLIST,
                f"checklist[{n}].item",
                "unknown_item",
                f"one of {', '.join(CHECKLIST)}",
                "检查项目不在清单内",
            )
            v.require(
                item.item not in seen,
                f"checklist[{n}].item",
                "duplicate",
                "each item once",
                "检查项目重复",
            )
            seen.add(item.item)
            v.require(
                item.severity in ("", *SEVERITIES),
                f"checklist[{n}].severity",
                "unknown_severity",
                "minor, general or serious",
                "严重程度不正确",
            )
            if not item.passed:
                v.require(
                    bool(item.evidence_refs or item.attachments),
                    f"checklist[{n}].evidence_refs",
                    "evidence_missing",
                    "a failed item needs evidence (references or attachments)",
                    "不合格项须附证据材料",
                )
            _attachments(v, item.attachments, f"checklist[{n}].attachments")
        codes = self.inspector_codes
        v.require(bool(codes), "inspector_codes", "required", "who checked", "缺少检查人员")
        v.require(
            len(set(codes)) == len(codes),
            "inspector_codes",
            "duplicate",
            "each inspector once",
            "检查人员重复",
        )
        v.require(
            len(codes) <= MAX_TEAM and len(self.substitutions) <= MAX_TEAM,
            "inspector_codes",
            "too_many",
            f"at most {MAX_TEAM} inspectors and {MAX_TEAM} substitutions",
            f"检查人员及替换人员均不超过{MAX_TEAM}名",
        )
        for n, s in enumerate(self.substitutions):
            v.require(
                len(s.reason.strip()) > 0 and len(s.reason) <= MAX_TEXT,
                f"substitutions[{n}].reason",
                "required",
                f"why the drawn inspector did not check (1–{MAX_TEXT} characters)",
                f"须说明替换抽中检查人员的理由（1至{MAX_TEXT}个字符）",
            )
            v.require(
                bool(s.absent) and bool(s.substitute),
                f"substitutions[{n}]",
                "required",
                "the absent drawn inspector and the substitute",
                "须注明被替换人员和替换人员",
            )
        v.require(
            len({s.absent for s in self.substitutions}) == len(self.substitutions),
            "substitutions",
            "duplicate",
            "each absent inspector once",
            "被替换人员重复",
        )
        return v


def _item_before_attachments(item: ChecklistResult) -> dict[str, Any]:
    """A checklist item as fingerprints rendered it before items took attachments."""
    return {
        "item": item.item,
        "passed": item.passed,
        "note": item.note,
        "evidence_refs": list(item.evidence_refs),
        "severity": item.severity,
    }


@dataclass(frozen=True)
class SpotCheckRecorded:
    spot_check_id: str
    finding_ids: list[str]


@dataclass(frozen=True)
class VerifyRectification:
    request_id: str
    finding_id: str
    verified_at: datetime | None
    """None: the request's time could not be read (INVALID_ARGUMENT)."""
    evidence_refs: tuple[str, ...]
    note: str = ""
    cite_company_evidence: bool = False
    """The company's latest rectification evidence (SubmitRectificationEvidence) is the
    evidence: the rectification then counts as done when it was submitted."""

    def untyped_payload(self) -> Any:
        return (self.finding_id, _utc(self.verified_at), list(self.evidence_refs), self.note)

    def earlier_payloads(self) -> list[Any]:
        """The typed command before it could cite the company's evidence."""
        if self.cite_company_evidence:
            return []
        typed = to_jsonable(self)
        del typed["cite_company_evidence"]
        return [typed]

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require(
            self.verified_at is not None,
            "verified_at",
            "time_format",
            "an RFC 3339 time with offset",
            "验收时间格式错误",
        )
        return v


@dataclass(frozen=True)
class RectificationVerified:
    finding_id: str


@dataclass(frozen=True)
class SweepRectificationDeadlines:
    request_id: str


@dataclass(frozen=True)
class DeadlinesSwept:
    marked_overdue: int
    """Findings marked RectificationOverdue by this sweep."""


# -- findings entered directly ---------------------------------------------------------------


@dataclass(frozen=True)
class RecordFinding:
    """A finding entered directly, with its evidence (any code of the list; the only way to
    C2, D1–D3 and E1–E3: violations.DIRECT_ONLY). A company's names its community; an
    agency's (E1–E3) names the county-level unit that failed and, when the failure is a
    township's, the township."""

    request_id: str
    kind: str
    severity: str
    note: str
    """The facts found (违法事实)."""
    attachments: tuple[AttachmentRef, ...]
    community_code: str = ""
    agency_unit: str = ""
    township: str = ""
    warning_id: str = ""
    """The 智慧监督 warning the finding escalates (its id), if any."""

    @property
    def party(self) -> str:
        known = KINDS.get(self.kind)
        return known.party if known is not None else ""

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        v.require(
            self.kind in KINDS,
            "kind",
            "unknown_kind",
            f"a code of the campaign's list: {', '.join(KINDS)}",
            "问题类型不在问题清单内",
        )
        v.require(
            self.severity in SEVERITIES,
            "severity",
            "unknown_severity",
            "minor, general or serious",
            "严重程度不正确",
        )
        v.require_text(self.note, "note", MAX_NOTE, "问题事实", required=True, multiline=True)
        v.require(
            bool(self.attachments),
            "attachments",
            "evidence_missing",
            "a finding entered directly needs its evidence attached (UploadAttachment first)",
            "直接录入的问题须附证据材料",
        )
        _attachments(v, self.attachments)
        if self.party == "company":
            _community_code(v, self.community_code)
            v.require(
                not self.agency_unit and not self.township,
                "agency_unit",
                "company_finding",
                f"{self.kind} is a company's violation: it names its community, no agency",
                f"{self.kind} 属企业问题，不填写责任单位",
            )
        elif self.party == "agency":
            v.require(
                self.agency_unit in COUNTY_UNITS,
                "agency_unit",
                "unknown_unit",
                f"{self.kind} is an agency's failure: the county-level unit that failed "
                "(a township's: its unit, and the township)",
                f"{self.kind} 属监管部门履职问题，须填写责任县级单位",
            )
            v.require_text(self.township, "township", MAX_CODE, "镇（街道）")
            v.require(
                len(self.community_code) <= MAX_CODE,
                "community_code",
                "too_long",
                f"at most {MAX_CODE} characters",
                f"小区编码不超过{MAX_CODE}个字符",
            )
        v.require(
            self.warning_id == "" or _is_uuid(self.warning_id),
            "warning_id",
            "uuid_format",
            "the id of a 智慧监督 warning (a UUID), or empty",
            "预警编号格式错误",
        )
        return v


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text[:64])
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class FindingRecorded:
    finding_id: str
    party: str
    deadline: str
    """The rectification deadline (UTC, ISO 8601); "" for an agency's finding."""


# -- the company side: rectification evidence, objections -----------------------------------


@dataclass(frozen=True)
class SubmitRectificationEvidence:
    request_id: str
    finding_id: str
    note: str
    attachments: tuple[AttachmentRef, ...]

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _finding_id(v, self.finding_id)
        v.require_text(self.note, "note", MAX_NOTE, "整改说明", required=True, multiline=True)
        v.require(
            bool(self.attachments),
            "attachments",
            "evidence_missing",
            "rectification evidence needs its files (UploadAttachment first)",
            "整改佐证须附材料",
        )
        _attachments(v, self.attachments)
        return v


@dataclass(frozen=True)
class EvidenceSubmitted:
    finding_id: str
    submissions: int
    """The company's submissions for the finding so far."""


@dataclass(frozen=True)
class ObjectToFinding:
    request_id: str
    finding_id: str
    reason: str
    attachments: tuple[AttachmentRef, ...] = ()

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _finding_id(v, self.finding_id)
        v.require_text(self.reason, "reason", MAX_NOTE, "异议理由", required=True, multiline=True)
        _attachments(v, self.attachments)
        return v


@dataclass(frozen=True)
class ObjectionRaised:
    finding_id: str
    deadline: str
    """The end of the objection period it was raised within (UTC, ISO 8601)."""


@dataclass(frozen=True)
class DecideObjection:
    request_id: str
    finding_id: str
    upheld: bool
    """True: the objection is upheld and the finding withdrawn; False: it stands."""
    decision: str
    """Why (复核意见): FindingWithdrawn's reason when upheld."""

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _finding_id(v, self.finding_id)
        v.require_text(
            self.decision, "decision", MAX_NOTE, "复核意见", required=True, multiline=True
        )
        return v


@dataclass(frozen=True)
class ObjectionDecided:
    finding_id: str
    objection: str
    """upheld or rejected."""
    status: str
    """The finding's status after the decision (withdrawn when upheld)."""


# -- township inspections --------------------------------------------------------------------


@dataclass(frozen=True)
class RecordTownshipInspection:
    request_id: str
    community_code: str
    township: str
    """The township (镇（街道）) that inspected: the community's, as registered."""
    inspected_on: str
    """The Asia/Shanghai date, YYYY-MM-DD."""
    inspector: str
    problems: tuple[str, ...] = ()
    """What was found, one line each; none: the community was in order."""
    note: str = ""

    def check(self) -> Validator:
        v = Validator()
        v.require_request_id(self.request_id)
        _community_code(v, self.community_code)
        v.require_text(self.township, "township", MAX_CODE, "镇（街道）", required=True)
        v.require(
            parse_date(self.inspected_on) is not None,
            "inspected_on",
            "date_format",
            "a date, YYYY-MM-DD (Asia/Shanghai)",
            "检查日期格式须为YYYY-MM-DD",
        )
        v.require_text(self.inspector, "inspector", MAX_CODE, "检查人员", required=True)
        v.require(
            len(self.problems) <= MAX_PROBLEMS,
            "problems",
            "too_many",
            f"at most {MAX_PROBLEMS} problems",
            f"问题不超过{MAX_PROBLEMS}条",
        )
        for n, problem in enumerate(self.problems[:MAX_PROBLEMS]):
            v.require_text(problem, f"problems[{n}]", MAX_TEXT, "问题描述", required=True)
        v.require_text(self.note, "note", MAX_NOTE, "备注", multiline=True)
        return v


@dataclass(frozen=True)
class TownshipInspectionEntered:
    ledger_id: str
    community_code: str
    inspected_on: str
    problems: int
