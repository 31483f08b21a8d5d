"""What the credit application needs from outside: the read model of its ledgers
(adapters/read_model.py) and the feeds' push outbox (servicekit.push's Pusher serves it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol


class FeedAttempt(Protocol):
    @property
    def attempt(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def http_status(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...


class FeedRecord(Protocol):
    @property
    def status(self) -> str:
        """pending, delivered or dead."""
        ...

    @property
    def receipts(self) -> Sequence[FeedAttempt]: ...


class CreditReadModel(Protocol):
    def companies_with_ledgers(self) -> list[str]:
        """The USCC of every company with a credit ledger, in order (the sweep's list)."""
        ...


class FeedDesk(Protocol):
    """The push outbox of the feeds, as operations see it."""

    @property
    def feeds(self) -> Mapping[str, object]:
        """The feeds by name."""
        ...

    def counts(self, feed: str) -> Mapping[str, int]: ...

    def status(self, feed: str, record_id: str) -> FeedRecord | None: ...

    def repush(self, feed: str, record_id: str) -> bool: ...
