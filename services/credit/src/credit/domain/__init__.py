"""Credit domain. stdlib + eventsourcing.domain only; its aggregates arrive with the credit issue."""
