"""Casework domain. stdlib + eventsourcing.domain only; its aggregates arrive with the casework issue."""
