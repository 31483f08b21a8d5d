"""The inspection application: rosters, plans with 双随机 draws, checks, findings.

Commands (`commands.py`) go through `handle`, which dispatches them by type to their
handlers (`handlers/`, by subdomain); queries are in `queries.py`, the rectification sweep
in `sweeps.py`. What other services tell inspection arrives through the `note_*` methods
below (entrypoints/consumers.py): the consumer runner has skipped what was applied before,
and `record(..., delivery=)` returns False for a repeat that raced its first delivery."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eventsourcing.domain import Aggregate

from inspection.application.access import HISTORY_READS, POLICY
from inspection.application.handlers import HANDLERS
from inspection.application.ports import AttachmentStore, InspectionReadModel
from inspection.domain.community_watch import CommunityWatch, NotedDisclosure
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES, InspectionRules
from inspection.domain.spot_check_plan import SpotCheckPlan
from pubrev_contracts.vocabulary.campaign import CAMPAIGN, CampaignCalendar
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE, PaceRules
from servicekit.attachments import AttachmentRef
from servicekit.clock import Clock, utc_now
from servicekit.errors import NotFound, ServiceError, Validator, excerpt
from servicekit.eventstore import (
    BatchEffect,
    Command,
    DeliveryRef,
    R,
    ServiceApplication,
    fingerprint,
    rebuild,
)

ReadModelOf = Callable[["InspectionApplication"], InspectionReadModel]
"""Builds the read model over the application's own log (it is a projection of it)."""


class InspectionApplication(ServiceApplication):
    name = "inspection"
    policy = POLICY
    history_reads = HISTORY_READS
    handlers = HANDLERS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = utc_now,
        rules: InspectionRules = DEFAULT_RULES,
        pace: PaceRules = DEFAULT_PACE,
        read_model: ReadModelOf | None = None,
        attachments: AttachmentStore | None = None,
        campaign: CampaignCalendar = CAMPAIGN,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.rules = rules
        self.pace = pace
        self.campaign = campaign
        self._read_model = read_model(self) if read_model is not None else None
        self._attachments = attachments

    @property
    def read_model(self) -> InspectionReadModel:
        if self._read_model is None:
            raise RuntimeError("no read model given to the application (see bootstrap)")
        return self._read_model

    @property
    def attachments(self) -> AttachmentStore:
        if self._attachments is None:
            raise RuntimeError("no attachment store given to the application (see bootstrap)")
        return self._attachments

    def require_stored(self, attachments: tuple[AttachmentRef, ...], field: str) -> None:
        """Every referenced file is in the evidence store (uploaded first): INVALID_ARGUMENT
        naming each one that is not, before anything is read or written."""
        v = Validator()
        for n, a in enumerate(attachments):
            v.require(
                self.attachments.exists(a.sha256),
                f"{field}[{n}]",
                "attachment_not_stored",
                f"no attachment {a.sha256[:12]}… is stored: upload it first (UploadAttachment)",
                "附件尚未上传至证据库",
            )
        v.raise_if_any()

    def run_command(
        self,
        command: Command,
        result: type[R],
        execute: Callable[[], tuple[Sequence[Aggregate], R]],
        on_conflict: Callable[[], ServiceError] | None = None,
    ) -> R:
        """servicekit's `run_command`, and a retry of a request first answered by an
        earlier form of the command gets that first answer, not ALREADY_EXISTS: before the
        commands were typed (the receipt has the same name, but was fingerprinted over the
        command's `untyped_payload()`), or before the command gained a field
        (`earlier_payloads()`)."""
        earlier: list[object] = []
        untyped = getattr(command, "untyped_payload", None)
        if untyped is not None:
            earlier.append(untyped())
        typed_before = getattr(command, "earlier_payloads", None)
        if typed_before is not None:
            earlier += typed_before()
        if earlier:
            receipt = self.find_receipt(type(command).__name__, command.request_id)
            if receipt is not None and receipt.fingerprint in map(fingerprint, earlier):
                return rebuild(result, receipt.result)
        return super().run_command(command, result, execute, on_conflict)

    # -- loading ---------------------------------------------------------------------------

    def plan(self, plan_id: str) -> SpotCheckPlan:
        try:
            plan = self.find(uuid.UUID(plan_id[:64]), SpotCheckPlan)
        except (ValueError, TypeError):
            plan = None
        if plan is None:
            raise NotFound(f"plan {excerpt(plan_id)} does not exist", "抽查计划不存在")
        return plan

    def finding(self, finding_id: str) -> Finding:
        try:
            finding = self.find(uuid.UUID(finding_id[:64]), Finding)
        except (ValueError, TypeError):
            finding = None
        if finding is None:
            raise NotFound(f"finding {excerpt(finding_id)} does not exist", "问题记录不存在")
        return finding

    # -- what other services tell us (consumers) ---------------------------------------------

    def note(self, note: WatchNote, delivery: DeliveryRef) -> bool:
        """One upstream event noted on its community's watch (opened by the first)."""
        watch = self.find(
            CommunityWatch.create_id(note.community_code), CommunityWatch
        ) or CommunityWatch(note.community_code, note.unit)
        note.noting(watch)
        return self.record(watch, delivery=delivery)

    def note_batch(self, notes: Sequence[tuple[WatchNote, DeliveryRef]]) -> int:
        """A consumer's fetched batch noted in one transaction, each event tracked
        (servicekit's `apply_batch`); returns how many were new. Raises, having written
        nothing, when one of them cannot be noted: the consumer then notes them one by one."""
        return self.apply_batch(
            [
                BatchEffect(
                    delivery, CommunityWatch.create_id(n.community_code), CommunityWatch, n.onto
                )
                for n, delivery in notes
            ]
        )

    def note_registration(
        self, code: str, unit: str, company_uscc: str, delivery: DeliveryRef, township: str = ""
    ) -> bool:
        return self.note(registration(code, unit, company_uscc, township), delivery)

    def note_company_change(
        self, code: str, unit: str, company_uscc: str, delivery: DeliveryRef
    ) -> bool:
        return self.note(company_change(code, unit, company_uscc), delivery)

    def note_disclosure(
        self, noted: NotedDisclosure, delivery: DeliveryRef, company_uscc: str = ""
    ) -> bool:
        return self.note(disclosure(noted, company_uscc), delivery)

    def note_overdue(
        self, code: str, unit: str, year: int, quarter: int, delivery: DeliveryRef
    ) -> bool:
        return self.note(overdue(code, unit, year, quarter), delivery)

    def note_lead(
        self, code: str, unit: str, channel: str, major: bool, category: str, delivery: DeliveryRef
    ) -> bool:
        """A complaint about the community (线索): a priority for its unit's next pool."""
        return self.note(lead(code, unit, channel, major, category), delivery)


@dataclass(frozen=True)
class WatchNote:
    """What one event of another service makes inspection note: which community's watch,
    and the watch's verb (`registration`, `disclosure`, ... below)."""

    community_code: str
    unit: str
    noting: Callable[[CommunityWatch], None]

    def onto(self, watch: CommunityWatch | None) -> CommunityWatch:
        """Noted on the watch, or on a new one (the community's first event)."""
        watch = watch or CommunityWatch(self.community_code, self.unit)
        self.noting(watch)
        return watch


def registration(code: str, unit: str, company_uscc: str, township: str = "") -> WatchNote:
    return WatchNote(code, unit, lambda w: w.note_registration(company_uscc, township))


def company_change(code: str, unit: str, company_uscc: str) -> WatchNote:
    return WatchNote(code, unit, lambda w: w.note_company(company_uscc))


def disclosure(noted: NotedDisclosure, company_uscc: str = "") -> WatchNote:
    return WatchNote(
        noted.community_code, noted.unit, lambda w: w.note_disclosure(noted, company_uscc)
    )


def overdue(code: str, unit: str, year: int, quarter: int) -> WatchNote:
    return WatchNote(code, unit, lambda w: w.note_overdue(year, quarter))


def lead(code: str, unit: str, channel: str, major: bool, category: str) -> WatchNote:
    """A complaint about the community (线索)."""
    return WatchNote(code, unit, lambda w: w.note_lead(channel, major, category))
