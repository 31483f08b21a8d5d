"""Events of the casework service on pubrev.casework.events.v1.

Defined ahead of the service (its issue builds it) because inspection's spot-check pools
take complaint leads and cases handed down from them. The complainant's name and phone are
personal data: they never travel on the bus (DOMAIN.md §7), not even encrypted.
"""

from __future__ import annotations

from typing import Literal

from pubrev_contracts.events.base import ContractEvent, UtcDatetime, register
from pubrev_contracts.topics import CASEWORK_EVENTS

Channel = Literal["hotline_12345", "phone", "email", "letters_visits", "handed_down"]


@register("pubrev.casework.ComplaintReceived.v1", CASEWORK_EVENTS)
class ComplaintReceivedV1(ContractEvent):
    """A complaint or lead (aggregate: the case). `unit` is the handling unit."""

    channel: Channel
    """handed_down: handed down by a superior (上级交办)."""
    major: bool
    """A major petition (重大信访)."""
    community_code: str
    """Empty when the complaint names no community."""
    company_uscc: str
    category: str
    received_at: UtcDatetime
