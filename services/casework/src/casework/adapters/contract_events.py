"""Casework's domain events → contract events on pubrev.casework.events.v1 (none yet)."""

from __future__ import annotations

from typing import Any

from pubrev_contracts.events.base import ContractEvent


def to_contract(event: Any) -> ContractEvent | None:
    return None
