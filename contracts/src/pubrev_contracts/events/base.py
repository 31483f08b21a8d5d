"""Base of every event contract and the registry by CloudEvents type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, ClassVar, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from pubrev_contracts.vocabulary.units import Unit


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[AwareDatetime, PlainSerializer(_utc_text, return_type=str)]
"""Times on the wire are UTC (rules use Asia/Shanghai; the wire does not)."""

Fen = Annotated[int, Field(ge=0, description="Money in fen (分), exact; never floats")]


class AttachmentRefV1(BaseModel):
    """A file kept in the producing service's evidence store (servicekit.attachments),
    named by the SHA-256 of its bytes: events carry the reference, never the file."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=1)]
    media_type: str
    filename: str


class ContractEvent(BaseModel):
    """Every event on the bus carries its aggregate, version, unit and time.

    Consumers ignore fields they do not know, so a producer may add optional fields within a
    version; removing or changing one needs a new version.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    ce_type: ClassVar[str]
    topic: ClassVar[str]

    aggregate_id: UUID
    aggregate_version: Annotated[int, Field(ge=1)]
    unit: Unit
    occurred_at: UtcDatetime


REGISTRY: dict[str, type[ContractEvent]] = {}

E = TypeVar("E", bound=type[ContractEvent])


def register(ce_type: str, topic: str) -> Callable[[E], E]:
    """Class decorator: names the event's CloudEvents type and topic, and registers it."""

    def decorate(cls: E) -> E:
        if ce_type in REGISTRY:
            raise ValueError(f"{ce_type} registered twice")
        cls.ce_type = ce_type
        cls.topic = topic
        REGISTRY[ce_type] = cls
        return cls

    return decorate
