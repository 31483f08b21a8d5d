"""InMemoryCreditReadModel: the read model on in-memory persistence, for unit tests and
tools. It reads the application's notification log on every call, so it is never stale.

It is handed to the application's constructor, before the application exists: `log` gives
the application whose log it reads when it is asked (e.g. `lambda: app`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from credit.domain.credit_ledger import CreditLedger


class InMemoryCreditReadModel:
    def __init__(self, log: Callable[[], Any]) -> None:
        self.log = log
        self._position = 0
        self._companies: set[str] = set()

    def companies_with_ledgers(self) -> list[str]:
        app = self.log()
        while batch := app.recorder.select_notifications(
            self._position, 1000, inclusive_of_start=False
        ):
            for notification in batch:
                event = app.mapper.to_domain_event(notification)
                if isinstance(event, CreditLedger.Opened):
                    self._companies.add(event.company_uscc)
                self._position = notification.id
        return sorted(self._companies)
