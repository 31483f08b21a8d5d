"""Stored means publishable: the check each bootstrap gives its event store.

Before a write, every new event goes through the relay's own translation (domain event →
contract event → Kafka message, servicekit.relay.contract_translator) and the message's
size is held against what the topic takes. An event the relay could not translate or send
is refused there, in the command (or consumer) that makes it, and nothing is written:
- the translation fails (a domain value the contract cannot carry, e.g. an instant that
  has no UTC form): a bug of the service, whatever the caller sent, so `Unpublishable`
  (INTERNAL, the incident logged with its traceback);
- the message is larger than the topic's limit (a request carried too much text): the
  caller's doing, so InvalidArgument.
Internal events (the translation gives None: receipts, operator actions) pass.

Once, the relay met a 1 MB community name and retried MessageSizeTooLargeError forever, and
year-1 instants failed its serializer on every retry: nothing after them was published.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from servicekit.errors import FieldViolation, InvalidArgument
from servicekit.eventstore import PublishCheck, Unpublishable

log = logging.getLogger(__name__)

KAFKA_RECORD_LIMIT = 1_048_576
"""What one record may take: the broker's and topics' default `message.max.bytes` (1 MiB
+ 12 bytes; neither the local broker's configuration (tools/devinfra.py) nor the topics
(servicekit.kafka_admin) set another) and the producer's default `max_request_size`
(1 MiB)."""
HEADROOM = 64 * 1024
"""Left for what the check does not count exactly: the record's framing in its batch and
the broker's own overhead."""
MAX_RECORD_BYTES = KAFKA_RECORD_LIMIT - HEADROOM


def record_size(message: Any) -> int:
    """Bytes of a relay message as the producer sends it: key, value and headers."""
    headers = sum(len(name.encode()) + len(value) for name, value in message.headers)
    return len(message.key) + len(message.value) + headers


def publish_check(
    translate: Callable[[Any], Any | None], max_bytes: int = MAX_RECORD_BYTES
) -> PublishCheck:
    """The check for ServiceApplication.publish_check. `translate` is the relay's
    translation with the domain event for its input (contract_translator with an identity
    `decode`), returning the OutboundMessage or None."""

    def check(events: Sequence[DomainEventProtocol[uuid.UUID]]) -> None:
        for event in events:
            try:
                message = translate(event)
            except Exception as error:
                incident = uuid.uuid4().hex[:12]
                log.exception(
                    "event cannot be published; refused before it was stored",
                    extra={
                        "incident": incident,
                        "event": type(event).__qualname__,
                        "aggregate_id": str(event.originator_id),
                    },
                )
                raise Unpublishable(
                    f"internal error, incident {incident}: the {type(event).__name__} event "
                    "cannot be published; nothing was written",
                    f"系统内部错误，事件编号 {incident}：该事件无法发布，未写入任何数据",
                ) from error
            if message is None:
                continue
            size = record_size(message)
            if size > max_bytes:
                raise InvalidArgument(
                    [
                        FieldViolation(
                            "",
                            "event_too_large",
                            f"the {type(event).__name__} event this request makes is {size} bytes; "
                            f"the event bus takes at most {max_bytes}: send less text",
                            f"请求内容过多：生成的事件为{size}字节，超过消息上限{max_bytes}字节",
                        )
                    ]
                )

    return check
