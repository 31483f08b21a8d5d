"""The audit trail over gRPC: GetHistory, the same for every service."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC

from pubrev.common.v1 import audit_pb2
from servicekit.errors import PermissionDenied, Validator
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity

MAX_LIMIT = 1000


async def history_events(
    app: ServiceApplication, identity: Identity, query: audit_pb2.HistoryQuery
) -> list[audit_pb2.HistoryEvent]:
    """Reads the history the query asks for. Only the city's officials and auditors read the
    whole log; others must name an aggregate of their own unit."""
    v = Validator()
    aggregate_id: uuid.UUID | None = None
    if query.aggregate_id:
        try:
            aggregate_id = uuid.UUID(query.aggregate_id)
        except ValueError:
            v.add("query.aggregate_id", "uuid_format", "must be a UUID", "编号格式错误")
    v.require(query.after_position >= 0, "query.after_position", "non_negative",
              "must be >= 0", "起始位置不能为负")
    v.require(0 <= query.limit <= MAX_LIMIT, "query.limit", "limit_range",
              f"must be 0–{MAX_LIMIT}", f"条数须在0至{MAX_LIMIT}之间")
    v.raise_if_any()
    if aggregate_id is None and not identity.is_city:
        raise PermissionDenied("the whole log is for the city's auditors; name an aggregate",
                               "仅市级部门可查看全部审计记录，请指定具体对象")
    entries = await asyncio.to_thread(
        app.history, aggregate_id, query.after_position, query.limit or 100
    )
    if not identity.is_city:
        # A county-level user reads only the history of records of its own unit: every
        # event that names a unit must name the caller's, and at least one must name it.
        units = {e.payload.get("unit") for e in entries if isinstance(e.payload, dict)}
        units.discard(None)
        if not units or units != {identity.unit}:
            raise PermissionDenied(f"{identity.unit} may not read this record's history",
                                   "无权查看其他辖区记录的审计轨迹")
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
