"""Inspection's domain events → contract events. Its own events (SpotCheckPlanned, ...)
arrive with the inspection issue; the disclosure watch is internal and not published."""

from __future__ import annotations

from typing import Any

from pubrev_contracts.events.base import ContractEvent


def to_contract(event: Any) -> ContractEvent | None:
    return None
