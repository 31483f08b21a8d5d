"""Spot-check plans (年度抽查计划) and cross checks (交叉检查), with their recorded draws."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from inspection.domain import draw as draws
from inspection.domain.cross_check_duty import quarter_over
from inspection.domain.rules import InspectionRules
from pubrev_contracts.vocabulary.calendar import quarter_label
from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import RuleViolated, excerpt

NAMESPACE = uuid.UUID("3a6f1e0d-2b4c-4d8e-9f10-11a2b3c4d5e6")

PRIORITY_ORDER = (
    "handed_down",
    "major_petition",
    "typical_case",
    "complaint_lead",
    "zero_revenue",
    "overdue",
)
"""DOMAIN.md §5: superiors' cases, major petitions, typical cases, complaint leads,
zero-revenue (and overdue) communities; then the random draw fills the quota."""


@dataclass(frozen=True)
class Candidate:
    code: str
    reasons: frozenset[str]


class Community(Protocol):
    """What a pool knows of a community (the read model's rows have these)."""

    @property
    def code(self) -> str: ...

    @property
    def handed_down(self) -> bool: ...

    @property
    def major_petition(self) -> bool: ...

    @property
    def leads(self) -> int: ...

    @property
    def zero_revenue(self) -> bool: ...

    @property
    def overdue_count(self) -> int: ...


class RosterInspector(Protocol):
    """An inspector of a unit's roster with the communities it declared conflicts with."""

    @property
    def code(self) -> str: ...

    @property
    def unit(self) -> str: ...

    @property
    def conflicts(self) -> Collection[str]: ...


def yearly_pool(
    communities: Iterable[Community], explicit: Mapping[str, Collection[str]]
) -> list[dict[str, Any]]:
    """A yearly plan's pool: every community with its priority reasons (DOMAIN.md §5), those
    the request names and those inspection learnt (cases handed down and major petitions
    among the complaints, complaint leads, zero revenue, overdue disclosures)."""
    return candidates_of(
        [
            Candidate(
                c.code,
                frozenset(
                    [reason for reason, codes in explicit.items() if c.code in codes]
                    + (["handed_down"] if c.handed_down else [])
                    + (["major_petition"] if c.major_petition else [])
                    + (["complaint_lead"] if c.leads else [])
                    + (["zero_revenue"] if c.zero_revenue else [])
                    + (["overdue"] if c.overdue_count else [])
                ),
            )
            for c in communities
        ]
    )


def cross_pool(communities: Iterable[Community]) -> list[dict[str, Any]]:
    """A cross check's pool: the checked unit's communities, no priorities (plan 四（四）)."""
    return candidates_of([Candidate(c.code, frozenset()) for c in communities])


def roster_of(
    inspectors: Iterable[RosterInspector], exclude_unit: str | None = None
) -> dict[str, list[str]]:
    """The recorded roster: inspector code → the communities it declared conflicts with.
    A cross check's team never includes the checked unit's own inspectors."""
    return {i.code: sorted(i.conflicts) for i in inspectors if i.unit != exclude_unit}


def pool_unit(unit: str) -> str | None:
    """Whose communities a yearly plan of `unit` draws from: the city's from all (None)."""
    return None if unit == CITY else unit


def choose_targets(
    seed: str, pool: list[Candidate], quota: int
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Targets (code, reason) in priority order, then drawn; and the random pool and the
    drawn codes, for the draw record. A priority pool larger than the room left is itself
    drawn from, with the same seed."""
    chosen: list[tuple[str, str]] = []
    taken: set[str] = set()
    for reason in PRIORITY_ORDER:
        room = quota - len(chosen)
        if room <= 0:
            break
        group = [c.code for c in pool if reason in c.reasons and c.code not in taken]
        picked = draws.draw(seed, group, room, salt=f"priority:{reason}")
        chosen += [(code, reason) for code in sorted(picked)]
        taken.update(picked)
    rest = sorted(c.code for c in pool if c.code not in taken)
    drawn = draws.draw(seed, rest, quota - len(chosen))
    chosen += [(code, "random") for code in drawn]
    return chosen, rest, drawn


def assign_inspectors(
    seed: str,
    targets: list[tuple[str, str]],
    inspectors: dict[str, list[str]],
    per_target: int,
) -> list[dict[str, Any]]:
    """Each target's inspectors, drawn from those without a declared conflict with it.
    `inspectors` maps inspector code → the communities it declared conflicts with."""
    planned = []
    for code, reason in targets:
        eligible = _eligible(code, inspectors, per_target)
        planned.append(
            {
                "community_code": code,
                "reason": reason,
                "inspectors": draws.draw_inspectors(seed, code, eligible, per_target),
            }
        )
    return planned


def _eligible(code: str, inspectors: dict[str, list[str]], per_target: int) -> list[str]:
    eligible = sorted(i for i, conflicts in inspectors.items() if code not in conflicts)
    if len(eligible) < per_target:
        raise RuleViolated(
            f"only {len(eligible)} inspectors without a conflict for {code}; {per_target} needed",
            f"小区 {code} 无利害关系的检查人员仅 {len(eligible)} 名，不足 {per_target} 名",
        )
    return eligible


def check_roster(
    candidates: list[dict[str, Any]], roster: dict[str, list[str]], per_target: int
) -> None:
    """Before the pool is recorded: every candidate that the draw may pick has enough
    inspectors without a conflict, so that the draw, once the discipline office has
    contributed, cannot fail."""
    for candidate in candidates:
        _eligible(candidate["community_code"], roster, per_target)


def candidates_of(pool: list[Candidate]) -> list[dict[str, Any]]:
    """The recorded form of a pool: each community with its priority reasons, sorted."""
    return [
        {"community_code": c.code, "reasons": sorted(c.reasons)}
        for c in sorted(pool, key=lambda c: c.code)
    ]


def candidates_hash(candidates: list[dict[str, Any]]) -> str:
    """sha256 of the lines `<code>:<reason>,<reason>`, sorted, joined by newlines."""
    return draws.pool_hash(
        f"{c['community_code']}:{','.join(sorted(c['reasons']))}" for c in candidates
    )


def roster_hash(roster: dict[str, list[str]]) -> str:
    """sha256 of the lines `<inspector>:<conflicting community>,…`, sorted."""
    return draws.pool_hash(
        f"{code}:{','.join(sorted(conflicts))}" for code, conflicts in roster.items()
    )


def draw_record(
    seed: str, rest: list[str], drawn: list[str], roster: dict[str, list[str]]
) -> dict[str, Any]:
    """What a draw records besides its targets: the random pool left after the priorities
    and what was drawn from it, and the inspector pool."""
    return {
        "seed": seed,
        "algorithm": draws.ALGORITHM,
        "pool": rest,
        "pool_hash": draws.pool_hash(rest),
        "pool_size": len(rest),
        "drawn": drawn,
        "inspector_pool": sorted(roster),
        "inspector_pool_hash": draws.pool_hash(roster),
    }


def run_draw(
    seed: str,
    candidates: list[dict[str, Any]],
    quota: int,
    roster: dict[str, list[str]],
    per_target: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The targets (with their inspectors) and the draw record, from the seed and what the
    plan recorded: the same inputs always give the same draw."""
    pool = [Candidate(c["community_code"], frozenset(c["reasons"])) for c in candidates]
    chosen, rest, drawn = choose_targets(seed, pool, quota)
    planned = assign_inspectors(seed, chosen, roster, per_target)
    return planned, draw_record(seed, rest, drawn, roster)


class CheckedCommunity(Protocol):
    """A recorded check, as a cross check's report counts it."""

    @property
    def plan_id(self) -> str: ...

    @property
    def community_code(self) -> str: ...


class FoundViolation(Protocol):
    """A finding, as a cross check's report counts it."""

    @property
    def community_code(self) -> str: ...

    @property
    def checking_unit(self) -> str: ...

    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Verification:
    matches: bool
    drawn: list[str]
    explanation: str


LEGACY_NOTE = (
    "recorded before commit-reveal: its seed was chosen by the caller or drawn by "
    "the service alone, so re-running it cannot show that it was not steered"
)


def verify_given(record: dict[str, Any], count: int) -> Verification:
    """Re-runs a draw given in full: its random pool and seed (and, for a commit-reveal
    draw, that the seed follows from the revealed secret, the contribution and the plan id,
    and the secret from its commitment)."""
    pool = list(record.get("pool", []))
    if draws.pool_hash(pool) != record.get("pool_hash", ""):
        return Verification(False, [], "the pool does not match its recorded hash")
    algorithm = str(record.get("algorithm", ""))
    if algorithm != draws.ALGORITHM:
        return Verification(False, [], f"unknown algorithm {algorithm[:32]!r}")
    seed = str(record.get("seed", ""))
    if record.get("seed_scheme") == draws.SEED_SCHEME:
        secret = str(record.get("secret", ""))
        if draws.commitment(secret) != record.get("commitment"):
            return Verification(False, [], "the secret does not match its commitment")
        if (
            draws.combined_seed(
                secret, str(record.get("contribution", "")), str(record.get("plan_id", ""))
            )
            != seed
        ):
            return Verification(
                False, [], "the seed is not sha256 of [secret, contribution, plan id]"
            )
    again = draws.draw(seed, pool, count)
    if again != list(record.get("drawn", [])):
        return Verification(False, again, "re-running the draw gives other communities")
    return Verification(True, again, "the draw re-runs to the recorded result")


class SpotCheckPlan(Aggregate):
    """A unit's (or the city's) spot-check plan for a year, or a quarter's cross check.

    Its draw (双随机) is made in two steps (draw.SEED_SCHEME): `Planned` records the pool
    (candidates with their priority reasons), the inspector roster with its declared
    conflicts, and the service's commitment to a secret kept outside the event store;
    `DrawExecuted` records the discipline office's contribution, the revealed secret, the
    seed and the targets with their inspectors. `DrawReopened` (a re-draw, with its reason)
    starts another round with a new commitment and a fresh pool. Plans recorded before (v1)
    were drawn at once from a seed the caller chose or the service drew alone."""

    class Planned(Aggregate.Created):
        class_version = 2
        year: int
        unit: str
        kind: str
        key: str
        communities: int
        quota: int
        rules_version: str
        targets: list[dict[str, Any]]
        """v1 only: drawn at once. A commit-reveal plan has none until DrawExecuted."""
        draw: dict[str, Any]
        """v1: the draw record; since: a cross check's quarter and checked unit only."""
        per_target: int
        candidates: list[dict[str, Any]]
        roster: dict[str, list[str]]
        commitment: str
        """sha256 of the service's secret ("" for a v1 plan)."""
        explicit: dict[str, list[str]]
        """The priorities given in the request (handed_down, major_petition, typical_case),
        kept for a re-draw's fresh pool."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            targets = state["targets"]
            state["per_target"] = len(targets[0]["inspectors"]) if targets else 0
            state["candidates"] = []
            state["roster"] = {}
            state["commitment"] = ""
            state["explicit"] = {}

    @event(Planned)
    def __init__(
        self,
        year: int,
        unit: str,
        kind: str,
        key: str,
        communities: int,
        quota: int,
        rules_version: str,
        targets: list[dict[str, Any]],
        draw: dict[str, Any],
        per_target: int,
        candidates: list[dict[str, Any]],
        roster: dict[str, list[str]],
        commitment: str,
        explicit: dict[str, list[str]],
    ) -> None:
        self.year = year
        self.unit = unit
        self.kind = kind
        self.key = key
        self.communities = communities
        self.quota = quota
        self.rules_version = rules_version
        self.targets = targets
        self.draw = draw
        self.base: dict[str, Any] = {k: draw[k] for k in ("quarter", "checked_unit") if k in draw}
        """A cross check's quarter and checked unit (kept through re-draws)."""
        self.per_target = per_target
        self.candidates = candidates
        self.roster = roster
        self.commitment = commitment
        self.explicit = explicit
        self.drawn = not commitment
        """A v1 plan was drawn at once; a commit-reveal plan when the discipline office
        contributes."""
        self.round = 1
        self.redraws: list[dict[str, Any]] = []
        self.reported = False
        self.checked = 0
        """A cross check's report: the communities its team checked, and their findings."""
        self.findings_by_kind: dict[str, int] = {}

    @staticmethod
    def create_id(year: int, kind: str, key: str) -> uuid.UUID:
        """yearly: key = the planning unit; cross: key = "<quarter>:<checking>><checked>"."""
        return uuid.uuid5(NAMESPACE, f"plan:{kind}:{year}:{key}")

    @staticmethod
    def yearly_id(year: int, unit: str) -> uuid.UUID:
        """One yearly plan per unit and year."""
        return SpotCheckPlan.create_id(year, "yearly", unit)

    @staticmethod
    def cross_key(quarter: int, checking_unit: str, checked_unit: str) -> str:
        return f"{quarter}:{checking_unit}>{checked_unit}"

    @staticmethod
    def cross_id(year: int, quarter: int, checking_unit: str, checked_unit: str) -> uuid.UUID:
        """One cross check per quarter, checking unit and checked unit."""
        return SpotCheckPlan.create_id(
            year, "cross", SpotCheckPlan.cross_key(quarter, checking_unit, checked_unit)
        )

    @classmethod
    def yearly(
        cls,
        year: int,
        unit: str,
        communities: Sequence[Community],
        explicit: Mapping[str, Collection[str]],
        inspectors: Iterable[RosterInspector],
        per_target: int,
        commitment: str,
        rules: InspectionRules,
    ) -> SpotCheckPlan:
        """The year's plan of `unit` (the city's or a county-level unit's): its quota by the
        rules (四（三）), its pool with the priorities, its roster and the service's
        commitment to the secret of its draw. Refused when a community the draw may pick
        lacks inspectors without a conflict."""
        kept = {reason: sorted(set(codes)) for reason, codes in explicit.items()}
        candidates = yearly_pool(communities, kept)
        roster = roster_of(inspectors)
        check_roster(candidates, roster, per_target)
        return cls(
            year,
            unit,
            "yearly",
            unit,
            len(communities),
            rules.quota(len(communities), city=unit == CITY),
            rules.version,
            [],
            {},
            per_target,
            candidates,
            roster,
            commitment,
            kept,
        )

    @classmethod
    def cross(
        cls,
        year: int,
        quarter: int,
        checking_unit: str,
        checked_unit: str,
        count: int,
        communities: Sequence[Community],
        inspectors: Iterable[RosterInspector],
        per_target: int,
        commitment: str,
        rules: InspectionRules,
        now: datetime,
    ) -> SpotCheckPlan:
        """A quarter's cross check (plan 四（四）): `count` communities of `checked_unit`
        checked by `checking_unit`'s inspectors, never the checked unit's own. A quarter
        that is over (Asia/Shanghai) is not planned any more: each quarter's cross check is
        made in that quarter, and a missed one stays missed (cross_check_duty)."""
        if quarter_over(year, quarter, now):
            raise RuleViolated(
                f"{quarter_label(year, quarter)} is over: its cross check can no longer be "
                "planned (plan 四（四）: one each quarter)",
                f"{quarter_label(year, quarter)}已结束，不能补做该季度的交叉检查",
            )
        candidates = cross_pool(communities)
        roster = roster_of(inspectors, exclude_unit=checked_unit)
        check_roster(candidates, roster, per_target)
        return cls(
            year,
            checking_unit,
            "cross",
            cls.cross_key(quarter, checking_unit, checked_unit),
            len(communities),
            count,
            rules.version,
            [],
            {"quarter": quarter, "checked_unit": checked_unit},
            per_target,
            candidates,
            roster,
            commitment,
            {},
        )

    @property
    def scheme(self) -> str:
        return draws.SEED_SCHEME if self.commitment else draws.LEGACY_SCHEME

    @property
    def target_codes(self) -> list[str]:
        return [t["community_code"] for t in self.targets]

    @property
    def checking_kind(self) -> str:
        """Who checks (plan 四（三）、四（四）): the city's own plan, a county-level unit's own
        plan, or a cross-check team of `unit` checking another unit's communities."""
        if self.kind == "cross":
            return "cross"
        return "city" if self.unit == CITY else "county"

    @property
    def checked_unit(self) -> str:
        """Whose communities are checked: the plan's own unit, or a cross check's target."""
        return str(self.base.get("checked_unit", self.unit))

    @property
    def quarter(self) -> int:
        return int(self.base.get("quarter", 0))

    @property
    def pool_unit(self) -> str | None:
        """Whose communities the pool is drawn from (None: all, the city's yearly plan)."""
        return self.checked_unit if self.kind == "cross" else pool_unit(self.unit)

    @property
    def planned_by(self) -> str:
        """Who made the plan: the unit itself for a yearly plan; the city for a cross check
        (plan 四（四）: the city forms the cross-check teams)."""
        return CITY if self.kind == "cross" else self.unit

    # -- the draw ----------------------------------------------------------------------

    class DrawExecuted(Aggregate.Event):
        unit: str
        year: int
        kind: str
        checked_unit: str
        commitment: str
        redraw_reasons: list[str]
        round: int
        contribution: str
        secret: str
        seed: str
        targets: list[dict[str, Any]]
        draw: dict[str, Any]

    def require_undrawn(self) -> None:
        """One draw per round: a second contribution is not a second try."""
        if self.drawn:
            raise RuleViolated(
                "the draw of this plan has been executed; a re-draw needs a recorded reason "
                "(RedrawSpotChecks)",
                "该计划已完成抽取；重新抽取须说明理由并记录",
            )

    def drawn_inspectors(self, community_code: str) -> list[str]:
        """The inspectors drawn for a target of this plan's draw."""
        if not self.drawn:
            raise RuleViolated(
                "this plan is not drawn yet: the discipline office has not contributed",
                "该计划尚未抽取（纪委监委尚未提交随机值）",
            )
        for target in self.targets:
            if target["community_code"] == community_code:
                return list(target["inspectors"])
        raise RuleViolated(
            f"{excerpt(community_code)} is not a target of this plan", "该小区不在该抽查计划内"
        )

    def execute_draw(self, secret: str | None, contribution: str) -> None:
        """Runs the draw with the discipline office's contribution and reveals the service's
        secret of this round (None: it was lost, and only a re-draw goes on)."""
        self.require_undrawn()
        if secret is None:
            raise RuleViolated(
                "the service's secret of this round is missing: the draw cannot run; the "
                "planning bureau's head re-draws with a recorded reason",
                "本轮服务端秘密值缺失，无法抽取；须由计划部门负责人说明理由重新抽取",
            )
        if draws.commitment(secret) != self.commitment:
            raise RuleViolated(
                "the service's secret does not match its commitment: the draw cannot run; a "
                "re-draw (with its reason) starts a new commitment",
                "服务端秘密值与承诺值不符，无法抽取；须说明理由重新抽取",
            )
        seed = draws.combined_seed(secret, contribution, str(self.id))
        targets, record = run_draw(seed, self.candidates, self.quota, self.roster, self.per_target)
        record["candidates_hash"] = candidates_hash(self.candidates)
        record["candidates"] = len(self.candidates)
        record["roster_hash"] = roster_hash(self.roster)
        self._executed(
            unit=self.unit,
            year=self.year,
            kind=self.kind,
            checked_unit=self.checked_unit,
            commitment=self.commitment,
            redraw_reasons=[r["reason"] for r in self.redraws],
            round=self.round,
            contribution=contribution,
            secret=secret,
            seed=seed,
            targets=targets,
            draw=record,
        )

    @event(DrawExecuted)
    def _executed(
        self,
        unit: str,
        year: int,
        kind: str,
        checked_unit: str,
        commitment: str,
        redraw_reasons: list[str],
        # `round` is the attribute name of the draw events as they are stored (an @event
        # method's parameters are its event's attributes): renaming it would need an
        # upcaster for every stored draw and a new contract for no reader's gain.
        round: int,  # noqa: A002
        contribution: str,
        secret: str,
        seed: str,
        targets: list[dict[str, Any]],
        draw: dict[str, Any],
    ) -> None:
        self.targets = targets
        self.draw = {
            **self.base,
            **draw,
            "seed_scheme": draws.SEED_SCHEME,
            "commitment": self.commitment,
            "secret": secret,
            "contribution": contribution,
            "round": round,
        }
        self.drawn = True

    class DrawReopened(Aggregate.Event):
        round: int
        """The new round."""
        reason: str
        commitment: str
        communities: int
        candidates: list[dict[str, Any]]
        roster: dict[str, list[str]]

    def reopen(
        self,
        reason: str,
        commitment: str,
        communities: Sequence[Community],
        inspectors: Iterable[RosterInspector],
        checks_recorded: bool,
    ) -> None:
        """A re-draw, while none of the draw's checks is recorded: the round is closed with
        its reason, a new commitment and a fresh pool and roster are recorded, and the
        discipline office must contribute again."""
        if checks_recorded:
            raise RuleViolated(
                "checks of this draw are recorded: it is not drawn again",
                "该抽取结果已有检查记录，不得重新抽取",
            )
        if self.kind == "cross":
            candidates = cross_pool(communities)
            roster = roster_of(inspectors, exclude_unit=self.checked_unit)
        else:
            candidates = yearly_pool(communities, self.explicit)
            roster = roster_of(inspectors)
        check_roster(candidates, roster, self.per_target)
        self._reopened(
            round=self.round + 1,
            reason=reason.strip(),
            commitment=commitment,
            communities=len(communities),
            candidates=candidates,
            roster=roster,
        )

    @event(DrawReopened)
    def _reopened(
        self,
        # `round` is the attribute name of the draw events as they are stored (an @event
        # method's parameters are its event's attributes): renaming it would need an
        # upcaster for every stored draw and a new contract for no reader's gain.
        round: int,  # noqa: A002
        reason: str,
        commitment: str,
        communities: int,
        candidates: list[dict[str, Any]],
        roster: dict[str, list[str]],
    ) -> None:
        self.redraws.append(
            {
                "round": self.round,
                "reason": reason,
                "commitment": self.commitment,
                "drawn": self.drawn,
                "seed": str(self.draw.get("seed", "")),
                "secret": str(self.draw.get("secret", "")),
                "targets": list(self.target_codes),
            }
        )
        self.round = round
        self.commitment = commitment
        self.communities = communities
        self.candidates = candidates
        self.roster = roster
        self.targets = []
        self.draw = dict(self.base)
        self.drawn = False

    def verify(self) -> Verification:
        """Re-runs the recorded draw from what the plan recorded."""
        if not self.drawn:
            return Verification(
                False,
                [],
                (
                    f"not drawn yet (round {self.round}): the service committed to a secret "
                    f"whose sha256 is {self.commitment}; the draw runs when the discipline office "
                    "contributes"
                ),
            )
        record = self.draw
        if self.scheme == draws.LEGACY_SCHEME:
            legacy = verify_given(record, len(record["drawn"]))
            return Verification(
                legacy.matches, legacy.drawn, f"{legacy.explanation}; {LEGACY_NOTE}"
            )
        secret = str(record["secret"])
        if draws.commitment(secret) != self.commitment:
            return Verification(
                False,
                [],
                "the revealed secret does not match the commitment recorded with the pool",
            )
        seed = draws.combined_seed(secret, str(record["contribution"]), str(self.id))
        if seed != record["seed"]:
            return Verification(
                False, [], "the recorded seed is not sha256 of [secret, contribution, plan id]"
            )
        targets, again = run_draw(seed, self.candidates, self.quota, self.roster, self.per_target)
        if targets != self.targets:
            return Verification(
                False, again["drawn"], "re-running the draw gives other targets or inspectors"
            )
        return Verification(
            True,
            again["drawn"],
            (
                f"the draw re-runs to the recorded result (round {self.round}): the revealed "
                "secret matches the commitment recorded with the pool, and the seed is sha256 of "
                "[secret, the discipline office's contribution, plan id]"
            ),
        )

    # -- a cross check's report ----------------------------------------------------------

    class CrossCheckReported(Aggregate.Event):
        class_version = 2
        unit: str
        checked_unit: str
        year: int
        quarter: int
        planned: int
        checked: int
        findings: int
        findings_by_kind: dict[str, int]
        reported_at: datetime
        """By the service's clock: whether the quarter's report came in its quarter (v2)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reported_at"] = state["timestamp"]

    def report(
        self,
        checks: Iterable[CheckedCommunity],
        findings: Iterable[FoundViolation],
        reported_at: datetime,
    ) -> None:
        """The cross check's report (plan 四（四）): its targets, the communities its team
        checked and their findings by kind. `checks` and `findings` are those of the checked
        unit: the same community may also be checked by the city or its own unit, and only
        this team's count ("" : a finding stored before the checking body was kept). It may
        be reported again (the quarter's first report is what cross_check_duty judges)."""
        if self.kind != "cross":
            raise RuleViolated("only a cross check is reported", "仅交叉检查需要形成报告")
        checked_codes = {c.community_code for c in checks if c.plan_id == str(self.id)}
        findings_by_kind: dict[str, int] = {}
        for f in findings:
            if f.community_code in checked_codes and f.checking_unit in (self.unit, ""):
                findings_by_kind[f.kind] = findings_by_kind.get(f.kind, 0) + 1
        checked = len(checked_codes)
        self._reported(
            unit=self.unit,
            checked_unit=self.checked_unit,
            year=self.year,
            quarter=self.quarter,
            planned=len(self.targets),
            checked=checked,
            findings=sum(findings_by_kind.values()),
            findings_by_kind=findings_by_kind,
            reported_at=reported_at,
        )

    @event(CrossCheckReported)
    def _reported(
        self,
        unit: str,
        checked_unit: str,
        year: int,
        quarter: int,
        planned: int,
        checked: int,
        findings: int,
        findings_by_kind: dict[str, int],
        reported_at: datetime,
    ) -> None:
        self.reported = True
        self.checked = checked
        self.findings_by_kind = findings_by_kind


# Plans were stored under inspection.domain.plan until issue 12 named each aggregate's
# module after it: their stored topics keep resolving here (ADR 0014). Never remove a line
# while such events are stored.
register_topic("inspection.domain.plan:SpotCheckPlan", SpotCheckPlan)
register_topic("inspection.domain.plan:SpotCheckPlan.Planned", SpotCheckPlan.Planned)
register_topic("inspection.domain.plan:SpotCheckPlan.DrawExecuted", SpotCheckPlan.DrawExecuted)
register_topic("inspection.domain.plan:SpotCheckPlan.DrawReopened", SpotCheckPlan.DrawReopened)
register_topic(
    "inspection.domain.plan:SpotCheckPlan.CrossCheckReported", SpotCheckPlan.CrossCheckReported
)
