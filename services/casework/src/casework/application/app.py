"""The casework application: complaints to closure, rectification cases, police referrals,
personal data, and the warnings of the 智慧监督 platform.

Commands are typed (`commands.py`) and dispatched by type to their handlers (`handlers/`,
`HANDLERS`) through `handle(identity, command)`; queries are in `queries.py`, the periodic
sweeps in `sweeps.py`, the consumers' policies beside the handlers of their subdomain.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from eventsourcing.domain import Aggregate

from casework.application.access import HISTORY_READS, POLICY
from casework.application.commands import EarlierReceipt
from casework.application.handlers import HANDLERS
from casework.application.ports import (
    AttachmentStore,
    CaseReadModel,
    PersonalDataReadLog,
    PersonalDataVault,
)
from casework.application.public_limits import PublicLimits, PublicRateLimiter
from casework.domain.case import CSPRNG, Case, CaseTimeLimits, PersonalDataRetention
from casework.domain.warnings.rules import DEFAULT_RULES, WarningRules
from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit.clock import Clock, utc_now
from servicekit.errors import NotFound, ServiceError
from servicekit.eventstore import Command, ServiceApplication, fingerprint, rebuild

R = TypeVar("R")
CaseReadModelOf = Callable[["CaseworkApplication"], CaseReadModel]
"""Builds the read model over the application's own log (a projection of it)."""


@runtime_checkable
class AnsweredBefore(Protocol):
    def earlier_receipt(self) -> EarlierReceipt: ...


class CaseworkApplication(ServiceApplication):
    name = "casework"
    policy = POLICY
    history_reads = HISTORY_READS
    handlers = HANDLERS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = utc_now,
        limits: CaseTimeLimits | None = None,
        retention: PersonalDataRetention | None = None,
        warning_rules: WarningRules = DEFAULT_RULES,
        vault: PersonalDataVault | None = None,
        read_model: CaseReadModelOf | None = None,
        read_log: PersonalDataReadLog | None = None,
        attachments: AttachmentStore | None = None,
        public_limits: PublicLimits | None = None,
        tokens: random.Random = CSPRNG,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.limits = limits or CaseTimeLimits()
        self.retention = retention or PersonalDataRetention()
        self.warning_rules = warning_rules
        self._vault = vault
        self._read_model = read_model(self) if read_model is not None else None
        self._read_log = read_log
        self._attachments = attachments
        self.public_limiter = PublicRateLimiter(public_limits or PublicLimits(), clock)
        self.tokens = tokens
        """Where tracking numbers and random ids are drawn (case.CSPRNG, `secrets`); the
        golden samples' scenario gives a seeded `random.Random`, so its ids repeat."""

    @property
    def vault(self) -> PersonalDataVault:
        if self._vault is None:
            raise RuntimeError("no personal-data vault given (see bootstrap)")
        return self._vault

    @property
    def read_log(self) -> PersonalDataReadLog:
        if self._read_log is None:
            raise RuntimeError("no personal-data read log given (see bootstrap)")
        return self._read_log

    @property
    def attachments(self) -> AttachmentStore:
        """The evidence store the commands' attachments must be in (ADR 0016)."""
        if self._attachments is None:
            raise RuntimeError("no attachment store given (see bootstrap)")
        return self._attachments

    @property
    def read_model(self) -> CaseReadModel:
        if self._read_model is None:
            raise RuntimeError("no read model given (see bootstrap)")
        return self._read_model

    def random_id(self) -> uuid.UUID:
        """A random (version 4) UUID drawn from `tokens`: an id no natural key names."""
        return uuid.UUID(int=self.tokens.getrandbits(128), version=4)

    # -- loading -------------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """A case, without a jurisdiction check (the handlers and queries check)."""
        try:
            case = self.find(uuid.UUID(case_id), Case)
        except ValueError:
            case = None
        if case is None:
            raise NotFound(f"case {case_id[:40]} does not exist", "案件不存在")
        return case

    def warning(self, warning_id: str) -> SupervisionWarning:
        """A warning, without a jurisdiction check (the handlers and queries check)."""
        try:
            warning = self.find(uuid.UUID(warning_id), SupervisionWarning)
        except ValueError:
            warning = None
        if warning is None:
            raise NotFound(f"warning {warning_id[:40]} does not exist", "预警不存在")
        return warning

    # -- a consumer's batch --------------------------------------------------------------------

    # -- idempotent commands -------------------------------------------------------------------

    def run_command(
        self,
        command: Command,
        result: type[R],
        execute: Callable[[], tuple[Sequence[Aggregate], R]],
        on_conflict: Callable[[], ServiceError] | None = None,
    ) -> R:
        """servicekit's `run_command` (which compares a retry on what a command names with
        `fingerprinted()`: ReceiveComplaint leaves out the complainant's name and phone),
        keeping one more promise of casework's receipts:
        - a retry of a request first answered before the commands were typed, whose receipt
          is named and fingerprinted as the untyped API did it (`earlier_receipt`), gets
          that first answer (a client retrying across the deployment is answered once)."""
        if isinstance(command, AnsweredBefore):
            earlier = command.earlier_receipt()
            receipt = self.find_receipt(earlier.command, command.request_id)
            if receipt is not None and receipt.fingerprint == fingerprint(earlier.payload):
                return rebuild(result, receipt.result)
        return super().run_command(command, result, execute, on_conflict)
