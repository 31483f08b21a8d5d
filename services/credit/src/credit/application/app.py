"""The credit application: ledgers fed by inspection's findings, penalties, restoration.

Commands go through `handle` (application/handlers.py, by command type); queries are in
application/queries.py, the display-period sweep in application/sweeps.py. What inspection
tells credit arrives here (entrypoints/consumers.py): each method loads the aggregate,
calls its verb and records it with the delivery's tracking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from credit.application.access import HISTORY_READS, POLICY
from credit.application.handlers import HANDLERS
from credit.application.ports import CreditReadModel, FeedDesk, FeedRecord
from credit.domain.credit_ledger import CreditLedger, charges_company
from credit.domain.rules import DEFAULT_RULES, CreditRules
from credit.domain.spot_check_result import SpotCheckResult
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.attachments import AttachmentStore, InMemoryAttachmentStore, NoScanner
from servicekit.clock import Clock, utc_now
from servicekit.eventstore import DeliveryRef, ServiceApplication


class NoFeeds:
    """The feed desk of an application wired without feeds: it knows no feed."""

    feeds: Mapping[str, object] = {}

    def counts(self, feed: str) -> Mapping[str, int]:
        return {}

    def status(self, feed: str, record_id: str) -> FeedRecord | None:
        return None

    def repush(self, feed: str, record_id: str) -> bool:
        return False


class NoLedgers:
    """The read model of an application wired without one: it lists no ledger."""

    def companies_with_ledgers(self) -> list[str]:
        return []


class CreditApplication(ServiceApplication):
    name = "credit"
    policy = POLICY
    history_reads = HISTORY_READS
    handlers = HANDLERS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = utc_now,
        rules: CreditRules = DEFAULT_RULES,
        read_model: CreditReadModel | None = None,
        feed_desk: FeedDesk | None = None,
        attachments: AttachmentStore | None = None,
    ) -> None:
        """`attachments`: the evidence store files are referenced in (an empty in-memory one
        when not given: every reference is then `not_stored`)."""
        super().__init__(env=env)
        self.clock = clock
        self.rules = rules
        self.read_model: CreditReadModel = NoLedgers() if read_model is None else read_model
        self.feed_desk: FeedDesk = NoFeeds() if feed_desk is None else feed_desk
        self.attachments: AttachmentStore = (
            InMemoryAttachmentStore(scanner=NoScanner()) if attachments is None else attachments
        )

    def today(self) -> date:
        """Today in Putian: calendar dates are Asia/Shanghai dates (the UTC date is still
        yesterday until 08:00 there)."""
        return self.clock().astimezone(SHANGHAI).date()

    def ledger_of(self, company_uscc: str) -> CreditLedger:
        """The company's ledger, opened on its first finding."""
        found = self.find(CreditLedger.create_id(company_uscc), CreditLedger)
        return found or CreditLedger(company_uscc)

    # -- what inspection tells credit (entrypoints/consumers.py) ----------------------------
    # The consumer runner skips a delivery applied before; `record` still refuses one that
    # raced its first delivery. A company is taken as inspection names it (an empty USCC:
    # no company to charge).

    def apply_finding(
        self,
        finding_id: str,
        company_uscc: str,
        unit: str,
        kind: str,
        severity: str,
        found_at: datetime,
        delivery: DeliveryRef,
        party: str = "company",
    ) -> bool:
        """Deducts a company's finding's points exactly once (tracking, and the ledger's
        own memory of the findings it deducted), and proposes the company for the
        serious-dishonesty list when that meets the threshold. An agency's finding (E1–E3)
        charges no company."""
        if not company_uscc or not charges_company(party):
            return False
        ledger = self.ledger_of(company_uscc)
        ledger.deduct(self.rules, unit, finding_id, kind, severity, found_at)
        ledger.propose_if_dishonest(self.rules, unit, self.clock())
        return self.record(ledger, delivery=delivery)

    def apply_withdrawal(
        self, finding_id: str, company_uscc: str, reason: str, delivery: DeliveryRef
    ) -> bool:
        """Inspection withdrew a finding (the company's objection to it upheld, or the
        bureau's own correction): its standing deduction is annulled, once. A withdrawal
        with nothing to annul (never deducted, restored already) is tracked all the same."""
        if not company_uscc:
            return False
        ledger = self.find(CreditLedger.create_id(company_uscc), CreditLedger)
        if ledger is not None and ledger.annul_withdrawn(self.rules, finding_id, reason):
            return self.record(ledger, delivery=delivery)
        return self.record(delivery=delivery)

    def apply_rectification(
        self, finding_id: str, company_uscc: str, verified_at: datetime, delivery: DeliveryRef
    ) -> bool:
        """A verified rectification: the finding's points come back once its minimum display
        period has passed (信用修复)."""
        if not company_uscc:
            return False
        ledger = self.ledger_of(company_uscc)
        ledger.note_rectified(self.rules, finding_id, verified_at)
        return self.record(ledger, delivery=delivery)

    def note_spot_check(
        self,
        spot_check_id: str,
        company_uscc: str,
        community_code: str,
        unit: str,
        inspected_at: datetime,
        finding_kinds: list[str],
        delivery: DeliveryRef,
    ) -> bool:
        """Notes a spot check's result once (for market regulation's feed)."""
        if not company_uscc:
            return False
        if self.exists(SpotCheckResult.create_id(spot_check_id)):
            return self.record(delivery=delivery)
        result = SpotCheckResult(
            spot_check_id, company_uscc, community_code, unit, inspected_at, finding_kinds
        )
        return self.record(result, delivery=delivery)
