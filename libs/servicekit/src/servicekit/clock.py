"""The one clock of the platform: every application, sweep and feed takes a `Clock`, so
tests pin time and nothing reads the wall clock behind their back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns an aware instant (UTC on the wire; rules turn it into Asia/Shanghai dates)."""


def utc_now() -> datetime:
    return datetime.now(UTC)
