"""The 智慧监督 feed (纪委监委 智慧监督平台, DOMAIN.md §8): every raise, acknowledgement,
escalation into an inspection finding and closure of a warning, pushed through
servicekit.push (schema contracts/feeds/zhihui.schema.json;
the records are enqueued by the projection, adapters/read_model.py, in its transaction).

Settings: PUBREV_ZHIHUI_URL, PUBREV_ZHIHUI_KEY_ID, PUBREV_ZHIHUI_SECRET,
PUBREV_ZHIHUI_MAX_ATTEMPTS, read by servicekit.feed_settings.load_feeds (locally
tools/feed_receiver.py, which accepts the development key). To rotate the key, the receiver
first accepts the new key id, then PUBREV_ZHIHUI_KEY_ID and PUBREV_ZHIHUI_SECRET change
together. Production refuses an http:// URL and a development or short secret.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit.feed_settings import FeedSpec

ZHIHUI = "zhihui"
ZHIHUI_FEED = FeedSpec(ZHIHUI, "PUBREV_ZHIHUI_", "http://127.0.0.1:18080/feeds/zhihui")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feed_record(event: Any, row: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """The 智慧监督 record (contracts/feeds/zhihui.schema.json) of a warning's event. `row` is
    the warning as rm_warnings holds it (rule, unit, subject_kind, subject, period, details,
    rules_version); a Raised event carries all of it itself."""
    if row is None:
        row = (
            event.rule,
            event.unit,
            event.subject_kind,
            event.subject,
            event.period,
            event.details,
            event.rules_version,
        )
    kind = (
        "warning_raised"
        if isinstance(event, SupervisionWarning.Raised)
        else "warning_closed"
        if isinstance(event, SupervisionWarning.Closed)
        else "warning_escalated"
        if isinstance(event, SupervisionWarning.Escalated)
        else "warning_acknowledged"
    )
    at = getattr(event, "raised_at", None) or getattr(event, "at")  # noqa: B009
    # A warning is raised, acknowledged and closed once, but escalated into each finding
    # that cites it: that record is one per finding.
    suffix = f":{event.finding_id}" if isinstance(event, SupervisionWarning.Escalated) else ""
    record: dict[str, Any] = {
        "record_type": kind,
        "record_id": f"{event.originator_id}:{kind}{suffix}",
        "warning_id": str(event.originator_id),
        "rule": row[0],
        "unit": row[1],
        "subject_kind": row[2],
        "subject": row[3],
        "period": row[4],
        "at": _utc(at),
        "details": row[5],
        "rules_version": row[6],
    }
    if isinstance(event, SupervisionWarning.Acknowledged | SupervisionWarning.Closed):
        record["note"] = event.note
    if isinstance(event, SupervisionWarning.Closed):
        record["evidence_refs"] = list(event.evidence_refs)
    if isinstance(event, SupervisionWarning.Escalated):
        record["finding_id"] = event.finding_id
        record["finding_kind"] = event.kind
    return record
