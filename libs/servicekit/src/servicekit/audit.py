"""The audit trail over gRPC: GetHistory, the same for every service."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC

from pubrev.common.v1 import audit_pb2
from servicekit.errors import Validator
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity

MAX_LIMIT = 1000


async def history_events(
    app: ServiceApplication, identity: Identity, query: audit_pb2.HistoryQuery
) -> list[audit_pb2.HistoryEvent]:
    """Reads the history the query asks for, as the service's policy allows
    (ServiceApplication.read_history): the whole log for the auditor only, a record's
    history for whoever may read the record."""
    v = Validator()
    aggregate_id: uuid.UUID | None = None
    if query.aggregate_id:
        try:
            aggregate_id = uuid.UUID(query.aggregate_id[:64])
        except ValueError:
            v.add("query.aggregate_id", "uuid_format", "must be a UUID", "编号格式错误")
    v.require(
        query.after_position >= 0,
        "query.after_position",
        "non_negative",
        "must be >= 0",
        "起始位置不能为负",
    )
    v.require(
        0 <= query.limit <= MAX_LIMIT,
        "query.limit",
        "limit_range",
        f"must be 0–{MAX_LIMIT}",
        f"条数须在0至{MAX_LIMIT}之间",
    )
    v.raise_if_any()
    entries = await asyncio.to_thread(
        app.read_history, identity, aggregate_id, query.after_position, query.limit or 100
    )
    return [
        audit_pb2.HistoryEvent(
            aggregate_id=e.aggregate_id,
            version=e.version,
            type=e.type,
            occurred_at=e.occurred_at.astimezone(UTC).isoformat(),
            payload_json=json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
            position=e.position,
        )
        for e in entries
    ]
