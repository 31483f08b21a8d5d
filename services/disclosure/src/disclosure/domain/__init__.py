"""Disclosure domain: aggregates and rules. stdlib + eventsourcing.domain only."""
