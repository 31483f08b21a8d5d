"""A consumer's batch whose events each change several aggregates and may raise warnings
(`CaseworkApplication.apply_steps`; ADR 0018)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from eventsourcing.domain import Aggregate

from casework.domain.warnings.supervision_warning import Due
from servicekit.eventstore import DeliveryRef

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class BatchStep:
    """What one upstream event does in a consumer's batch (`apply_steps`): the aggregates
    it changes, and the change. Unlike servicekit's `BatchEffect` (one aggregate per
    event), a step may change several and find warnings due."""

    delivery: DeliveryRef
    changes: Sequence[uuid.UUID]
    apply: Callable[[Mapping[uuid.UUID, Aggregate]], tuple[Sequence[Aggregate], Sequence[Due]]]
    """Given the batch's aggregates as they stand (those without events absent), calls
    their verbs; returns the aggregates it changed or opened (their new events pending)
    and the warnings it finds due."""


def batch_aggregate(
    aggregates: Mapping[uuid.UUID, Aggregate], key: uuid.UUID, kind: type[A]
) -> A | None:
    """The batch's aggregate `key` as a `kind` (None: it has no event yet)."""
    found = aggregates.get(key)
    if found is None or isinstance(found, kind):
        return found
    raise TypeError(f"{key} is a {type(found).__name__}, not {kind.__name__}")
