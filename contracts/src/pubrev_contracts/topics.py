"""Kafka topic names: pubrev.<service>.events.v<major>."""

DISCLOSURE_EVENTS = "pubrev.disclosure.events.v1"
INSPECTION_EVENTS = "pubrev.inspection.events.v1"
CREDIT_EVENTS = "pubrev.credit.events.v1"
CASEWORK_EVENTS = "pubrev.casework.events.v1"
