"""Spot-check plans (年度抽查计划) and cross checks (交叉检查), with their recorded draws."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate, event

from inspection.domain import draw as draws
from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import RuleViolated

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

    @staticmethod
    def create_id(year: int, kind: str, key: str) -> uuid.UUID:
        """yearly: key = the planning unit; cross: key = "<quarter>:<checking>><checked>"."""
        return uuid.uuid5(NAMESPACE, f"plan:{kind}:{year}:{key}")

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

    def execute_draw(self, secret: str, contribution: str) -> None:
        """Runs the draw with the discipline office's contribution and reveals the secret."""
        self.require_undrawn()
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
        round: int,
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
        communities: int,
        candidates: list[dict[str, Any]],
        roster: dict[str, list[str]],
    ) -> None:
        """A re-draw: the round is closed with its reason, a new commitment and a fresh
        pool are recorded, and the discipline office must contribute again."""
        self._reopened(
            round=self.round + 1,
            reason=reason,
            commitment=commitment,
            communities=communities,
            candidates=candidates,
            roster=roster,
        )

    @event(DrawReopened)
    def _reopened(
        self,
        round: int,
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
        unit: str
        checked_unit: str
        year: int
        quarter: int
        planned: int
        checked: int
        findings: int
        findings_by_kind: dict[str, int]

    def report(self, checked: int, findings_by_kind: dict[str, int]) -> None:
        if self.kind != "cross":
            raise RuleViolated("only a cross check is reported", "仅交叉检查需要形成报告")
        self._reported(
            unit=self.unit,
            checked_unit=self.checked_unit,
            year=self.year,
            quarter=self.quarter,
            planned=len(self.targets),
            checked=checked,
            findings=sum(findings_by_kind.values()),
            findings_by_kind=findings_by_kind,
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
    ) -> None:
        self.reported = True
